package store

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestStoreMatchesModel drives random sequences of writes, deletes, reads,
// lists and reopenings, and checks the store against a plain map after
// every step.
func TestStoreMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s, err := Init(t.TempDir() + "/store")
		if err != nil {
			rt.Fatal(err)
		}
		model := map[string]string{}
		name := rapid.SampledFrom([]string{"A", "b.c", "D-1", "_e"})
		value := rapid.StringMatching(`[ -~]{1,40}`)
		rt.Repeat(map[string]func(*rapid.T){
			"write": func(rt *rapid.T) {
				n, v := name.Draw(rt, "name"), value.Draw(rt, "value")
				_, existed := model[n]
				created, err := s.Write(n, []byte(v))
				if err != nil || created == existed {
					rt.Fatalf("Write(%s) = %v, %v; existed %v", n, created, err, existed)
				}
				model[n] = v
			},
			"delete": func(rt *rapid.T) {
				n := name.Draw(rt, "name")
				_, existed := model[n]
				err := s.Delete(n)
				if existed != (err == nil) || !existed && !errors.Is(err, ErrNotFound) {
					rt.Fatalf("Delete(%s) = %v; existed %v", n, err, existed)
				}
				delete(model, n)
			},
			"reopen": func(rt *rapid.T) {
				if s, err = Open(s.Dir()); err != nil {
					rt.Fatal(err)
				}
			},
			"": func(rt *rapid.T) {
				es, err := s.List()
				if err != nil {
					rt.Fatal(err)
				}
				var got, want []string
				for _, e := range es {
					got = append(got, e.Name)
				}
				for n, v := range model {
					want = append(want, n)
					if b, err := s.Read(n); err != nil || string(b) != v {
						rt.Fatalf("Read(%s) = %q, %v; want %q", n, b, err, v)
					}
				}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					rt.Fatalf("List = %v, model %v", got, want)
				}
			},
		})
	})
}
