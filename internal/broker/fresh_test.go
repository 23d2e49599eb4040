package broker

import (
	"reflect"
	"testing"
)

// TestFreshCopiesEveryField: a caller described afresh (the MCP server asks
// with one per call; CheckToken judges one) is the same caller. A field
// added to Caller and forgotten in Fresh — a launch token, say — would
// silently widen what the copy may do.
func TestFreshCopiesEveryField(t *testing.T) {
	c := &Caller{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int:
			f.SetInt(7)
		case reflect.Pointer, reflect.Func, reflect.Slice:
			f.Set(reflect.New(f.Type()).Elem())
			switch f.Kind() {
			case reflect.Pointer:
				f.Set(reflect.New(f.Type().Elem()))
			case reflect.Slice:
				f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			case reflect.Func:
				f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
					out := make([]reflect.Value, f.Type().NumOut())
					for j := range out {
						out[j] = reflect.Zero(f.Type().Out(j))
					}
					return out
				}))
			}
		default:
			t.Fatalf("Caller.%s: teach this test its kind %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	fresh := reflect.ValueOf(c.Fresh()).Elem()
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		a, b := v.Field(i), fresh.Field(i)
		same := false
		switch a.Kind() {
		case reflect.Func, reflect.Slice, reflect.Pointer:
			same = !b.IsNil() && a.Pointer() == b.Pointer()
		default:
			same = a.Interface() == b.Interface()
		}
		if !same {
			t.Errorf("Fresh does not copy Caller.%s", v.Type().Field(i).Name)
		}
	}
}
