package cfgedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// A jval is a JSON value and where it is in the text.
type jval struct {
	kind       byte // '{', '[', '"', or 0 for a number, true, false, null
	start, end int  // the value's bytes, text[start:end]
	members    []jmember
	items      []*jval
}

type jmember struct {
	key              string
	keyStart, keyEnd int
	val              *jval
}

// parseJSON reads a document whose top is an object. Blank text is an
// empty document (nil, no error).
func parseJSON(text []byte) (*jval, error) {
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, nil
	}
	if err := checkJSON(text); err != nil {
		return nil, err
	}
	p := &jparser{text: text}
	v := p.value()
	if v.kind != '{' {
		return nil, errors.New("is not a JSON object")
	}
	return v, nil
}

// checkJSON refuses what encoding/json refuses, and a key given twice,
// which it would accept (the last one winning) while the agent may read
// the first.
func checkJSON(text []byte) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if seen[k.(string)] {
					return fmt.Errorf("key %q appears twice", k)
				}
				seen[k.(string)] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("text after the JSON document")
	}
	return nil
}

// jparser walks text that checkJSON accepted: it need not report errors.
type jparser struct {
	text []byte
	pos  int
}

func (p *jparser) ws() {
	for p.pos < len(p.text) && strings.IndexByte(" \t\r\n", p.text[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *jparser) value() *jval {
	p.ws()
	v := &jval{start: p.pos}
	switch c := p.text[p.pos]; c {
	case '{':
		v.kind = '{'
		p.pos++
		for p.ws(); p.text[p.pos] != '}'; p.ws() {
			if p.text[p.pos] == ',' {
				p.pos++
				p.ws()
			}
			m := jmember{keyStart: p.pos}
			k := p.value()
			m.keyEnd = p.pos
			_ = json.Unmarshal(p.text[k.start:k.end], &m.key)
			p.ws()
			p.pos++ // ':'
			m.val = p.value()
			v.members = append(v.members, m)
		}
		p.pos++
	case '[':
		v.kind = '['
		p.pos++
		for p.ws(); p.text[p.pos] != ']'; p.ws() {
			if p.text[p.pos] == ',' {
				p.pos++
			}
			v.items = append(v.items, p.value())
		}
		p.pos++
	case '"':
		v.kind = '"'
		for p.pos++; p.text[p.pos] != '"'; p.pos++ {
			if p.text[p.pos] == '\\' {
				p.pos++
			}
		}
		p.pos++
	default:
		for p.pos < len(p.text) && strings.IndexByte(" \t\r\n,]}", p.text[p.pos]) < 0 {
			p.pos++
		}
	}
	v.end = p.pos
	return v
}

func (v *jval) member(key string) (int, *jval) {
	for i, m := range v.members {
		if m.key == key {
			return i, m.val
		}
	}
	return -1, nil
}

// style is how a document lays out what is added to it.
type style struct {
	nl, unit, colon, comma string
}

func styleOf(text []byte, root *jval) style {
	st := style{nl: "\n", unit: "  ", colon: ": ", comma: ", "}
	if bytes.Contains(text, []byte("\r\n")) {
		st.nl = "\r\n"
	}
	if root == nil {
		return st
	}
	// The first object with members says how keys are separated; the
	// root, when it spans lines, what one level of indentation is.
	var find func(v *jval) bool
	find = func(v *jval) bool {
		if v.kind == '{' && len(v.members) > 0 {
			m := v.members[0]
			st.colon = string(text[m.keyEnd:m.val.start])
			if len(v.members) > 1 && !multiline(text, v) {
				st.comma = string(text[m.val.end:v.members[1].keyStart])
			} else if !strings.Contains(st.colon, " ") {
				st.comma = ","
			}
			return true
		}
		for _, m := range v.members {
			if find(m.val) {
				return true
			}
		}
		for _, it := range v.items {
			if find(it) {
				return true
			}
		}
		return false
	}
	find(root)
	if multiline(text, root) && len(root.members) > 0 {
		st.unit = lineIndent(text, root.members[0].keyStart)
	}
	return st
}

// multiline: a container whose first entry is on a line of its own.
func multiline(text []byte, v *jval) bool {
	first := v.end - 1
	if len(v.members) > 0 {
		first = v.members[0].keyStart
	} else if len(v.items) > 0 {
		first = v.items[0].start
	}
	return bytes.IndexByte(text[v.start:first], '\n') >= 0
}

// lineIndent is the blanks that start the line holding pos.
func lineIndent(text []byte, pos int) string {
	start := bytes.LastIndexByte(text[:pos], '\n') + 1
	end := start
	for end < len(text) && (text[end] == ' ' || text[end] == '\t') {
		end++
	}
	return string(text[start:end])
}

// render writes a JSON value (given as JSON text) laid out at indent.
func (st style) render(src []byte, indent string, multi bool) string {
	v := (&jparser{text: src}).value()
	var b strings.Builder
	st.write(&b, src, v, indent, multi)
	return b.String()
}

func (st style) write(b *strings.Builder, src []byte, v *jval, indent string, multi bool) {
	n := len(v.members) + len(v.items)
	if v.kind != '{' && v.kind != '[' || n == 0 {
		b.Write(src[v.start:v.end])
		return
	}
	open, close := "{", "}"
	if v.kind == '[' {
		open, close = "[", "]"
	}
	b.WriteString(open)
	inner := indent + st.unit
	for i := range n {
		if i > 0 {
			b.WriteString(",")
			if !multi {
				b.WriteString(strings.TrimPrefix(st.comma, ","))
			}
		}
		if multi {
			b.WriteString(st.nl + inner)
		}
		if v.kind == '{' {
			m := v.members[i]
			b.Write(src[m.keyStart:m.keyEnd])
			b.WriteString(st.colon)
			st.write(b, src, m.val, inner, multi)
		} else {
			st.write(b, src, v.items[i], inner, multi)
		}
	}
	if multi {
		b.WriteString(st.nl + indent)
	}
	b.WriteString(close)
}

// insert adds an entry (a member's "key": value, or an item) as the last
// one of container c, in the layout of its other entries.
func (st style) insert(text []byte, c *jval, entry func(indent string, multi bool) string) []byte {
	var last int
	n := len(c.members) + len(c.items)
	switch {
	case len(c.members) > 0:
		last = c.members[n-1].val.end
	case len(c.items) > 0:
		last = c.items[n-1].end
	}
	if n > 0 {
		multi := multiline(text, c)
		var first int
		if len(c.members) > 0 {
			first = c.members[0].keyStart
		} else {
			first = c.items[0].start
		}
		indent := lineIndent(text, first)
		sep := st.comma
		if multi {
			sep = "," + st.nl + indent
		}
		return splice(text, last, last, sep+entry(indent, multi))
	}
	// An empty container: one level deeper than the line it opens on, when
	// the document spans lines.
	outer := lineIndent(text, c.start)
	if bytes.IndexByte(text, '\n') < 0 {
		return splice(text, c.start+1, c.end-1, entry(outer, false))
	}
	inner := outer + st.unit
	return splice(text, c.start+1, c.end-1, st.nl+inner+entry(inner, true)+st.nl+outer)
}

// cut removes entry i of container c, with the separator that joins it to
// the others.
func cut(text []byte, c *jval, i int) []byte {
	starts, ends := []int{}, []int{}
	for _, m := range c.members {
		starts, ends = append(starts, m.keyStart), append(ends, m.val.end)
	}
	for _, it := range c.items {
		starts, ends = append(starts, it.start), append(ends, it.end)
	}
	switch {
	case len(starts) == 1:
		return splice(text, c.start+1, c.end-1, "")
	case i == len(starts)-1:
		return splice(text, ends[i-1], ends[i], "")
	default:
		return splice(text, starts[i], starts[i+1], "")
	}
}

func splice(text []byte, from, to int, with string) []byte {
	out := make([]byte, 0, len(text)-(to-from)+len(with))
	out = append(out, text[:from]...)
	out = append(out, with...)
	return append(out, text[to:]...)
}

// decodeJSON is the document as encoding/json reads it; blank is empty.
func decodeJSON(text []byte) (map[string]any, error) {
	doc := map[string]any{}
	if len(bytes.TrimSpace(text)) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	err := dec.Decode(&doc)
	return doc, err
}

// verify checks that after decodes to before changed by change, which
// edits the decoded document in place.
func verify(before, after []byte, change func(map[string]any) error) error {
	want, err := decodeJSON(before)
	if err != nil {
		return err
	}
	if err := change(want); err != nil {
		return err
	}
	got, err := decodeJSON(after)
	if err != nil {
		return fmt.Errorf("the edit would break the document (%v); nothing was changed", err)
	}
	if !reflect.DeepEqual(got, want) {
		return errors.New("the edit would change more than it should; nothing was changed")
	}
	return nil
}

// plain is value as a decoded document holds it.
func plain(value any) (any, []byte, error) {
	src, err := MarshalPlain(value)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	err = dec.Decode(&v)
	return v, src, err
}

// MarshalPlain is json.Marshal without HTML escaping.
func MarshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// objectAt walks a decoded document to the object at path, creating the
// objects that are missing when create is set.
func objectAt(doc map[string]any, path []string, create bool) (map[string]any, error) {
	for _, k := range path {
		next, ok := doc[k]
		if !ok {
			if !create {
				return nil, nil
			}
			next = map[string]any{}
			doc[k] = next
		}
		obj, ok := next.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not an object", k)
		}
		doc = obj
	}
	return doc, nil
}

// GetJSON returns the value at path (object keys from the top) as JSON
// text, and whether it is there.
func GetJSON(text []byte, path ...string) (json.RawMessage, bool, error) {
	v, err := parseJSON(text)
	if err != nil || v == nil {
		return nil, false, err
	}
	for _, k := range path {
		if v.kind != '{' {
			return nil, false, nil
		}
		if _, v = v.member(k); v == nil {
			return nil, false, nil
		}
	}
	return json.RawMessage(text[v.start:v.end]), true, nil
}

// SetJSON puts value (anything encoding/json writes) at path, replacing
// what is there, creating the objects on the way that are missing. Blank
// text is an empty document; a new document is written with two-space
// indentation and a final newline, as the agents write theirs.
func SetJSON(text []byte, path []string, value any) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("no key to set")
	}
	want, src, err := plain(value)
	if err != nil {
		return nil, err
	}
	root, err := parseJSON(text)
	if err != nil {
		return nil, err
	}
	st := styleOf(text, root)
	var out []byte
	if root == nil {
		nested := want
		for i := len(path) - 1; i >= 0; i-- {
			nested = map[string]any{path[i]: nested}
		}
		doc, _ := MarshalPlain(nested)
		out = []byte(st.render(doc, "", true) + st.nl)
	} else {
		out, err = st.set(text, root, path, src)
		if err != nil {
			return nil, err
		}
	}
	return out, verify(text, out, func(doc map[string]any) error {
		obj, err := objectAt(doc, path[:len(path)-1], true)
		if err == nil {
			obj[path[len(path)-1]] = want
		}
		return err
	})
}

func (st style) set(text []byte, obj *jval, path []string, src []byte) ([]byte, error) {
	key := path[0]
	i, v := obj.member(key)
	if len(path) > 1 {
		if v == nil {
			// What is missing goes in as one nested value.
			var nested any = json.RawMessage(src)
			for j := len(path) - 1; j >= 1; j-- {
				nested = map[string]any{path[j]: nested}
			}
			var err error
			if src, err = MarshalPlain(nested); err != nil {
				return nil, err
			}
			return st.set(text, obj, path[:1], src)
		}
		if v.kind != '{' {
			return nil, fmt.Errorf("%q is not an object", key)
		}
		return st.set(text, v, path[1:], src)
	}
	keyText, _ := MarshalPlain(key)
	if i >= 0 {
		m := obj.members[i]
		return splice(text, m.val.start, m.val.end, st.render(src, lineIndent(text, m.keyStart), multiline(text, obj))), nil
	}
	return st.insert(text, obj, func(indent string, multi bool) string {
		return string(keyText) + st.colon + st.render(src, indent, multi)
	}), nil
}

// DeleteJSON takes out the member at path and the separator joining it
// to the others; a path that is not there changes nothing.
func DeleteJSON(text []byte, path ...string) ([]byte, error) {
	root, err := parseJSON(text)
	if err != nil || root == nil || len(path) == 0 {
		return text, err
	}
	obj := root
	for _, k := range path[:len(path)-1] {
		if _, obj = obj.member(k); obj == nil || obj.kind != '{' {
			return text, nil
		}
	}
	i, _ := obj.member(path[len(path)-1])
	if i < 0 {
		return text, nil
	}
	out := cut(text, obj, i)
	return out, verify(text, out, func(doc map[string]any) error {
		o, err := objectAt(doc, path[:len(path)-1], false)
		delete(o, path[len(path)-1])
		return err
	})
}

// AddJSONStrings appends to the array at path the strings it lacks,
// creating the array (and the objects on the way) when it is missing.
func AddJSONStrings(text []byte, path []string, items []string) ([]byte, error) {
	root, err := parseJSON(text)
	if err != nil {
		return nil, err
	}
	arr := root
	for _, k := range path {
		if arr != nil {
			if arr.kind != '{' {
				return nil, fmt.Errorf("%q is not an object", k)
			}
			_, arr = arr.member(k)
		}
	}
	if arr == nil {
		return SetJSON(text, path, items)
	}
	if arr.kind != '[' {
		return nil, fmt.Errorf("%q is not an array", path[len(path)-1])
	}
	have := map[string]bool{}
	for _, it := range arr.items {
		var s string
		if json.Unmarshal(text[it.start:it.end], &s) == nil && it.kind == '"' {
			have[s] = true
		}
	}
	var add []string
	for _, s := range items {
		if !have[s] {
			add, have[s] = append(add, s), true
		}
	}
	out := text
	for _, s := range add {
		// Each insertion moves the text after it: parse again.
		if root, err = parseJSON(out); err != nil {
			return nil, err
		}
		arr = root
		for _, k := range path {
			_, arr = arr.member(k)
		}
		quoted, _ := MarshalPlain(s)
		out = styleOf(out, root).insert(out, arr, func(string, bool) string { return string(quoted) })
	}
	return out, verify(text, out, func(doc map[string]any) error {
		obj, err := objectAt(doc, path[:len(path)-1], false)
		if err != nil {
			return err
		}
		list, _ := obj[path[len(path)-1]].([]any)
		for _, s := range add {
			list = append(list, s)
		}
		obj[path[len(path)-1]] = list
		return nil
	})
}

// DeleteJSONStrings takes the strings out of the array at path; the array
// itself stays, empty or not.
func DeleteJSONStrings(text []byte, path []string, items []string) ([]byte, error) {
	drop := map[string]bool{}
	for _, s := range items {
		drop[s] = true
	}
	out := text
	for {
		root, err := parseJSON(out)
		if err != nil || root == nil {
			return text, err
		}
		arr := root
		for _, k := range path {
			if arr.kind != '{' {
				arr = nil
				break
			}
			if _, arr = arr.member(k); arr == nil {
				break
			}
		}
		if arr == nil || arr.kind != '[' {
			return text, nil
		}
		found := -1
		for i, it := range arr.items {
			var s string
			if it.kind == '"' && json.Unmarshal(out[it.start:it.end], &s) == nil && drop[s] {
				found = i
				break
			}
		}
		if found < 0 {
			break
		}
		out = cut(out, arr, found)
	}
	return out, verify(text, out, func(doc map[string]any) error {
		obj, err := objectAt(doc, path[:len(path)-1], false)
		if err != nil || obj == nil {
			return err
		}
		list, _ := obj[path[len(path)-1]].([]any)
		kept := []any{}
		for _, it := range list {
			if s, ok := it.(string); !ok || !drop[s] {
				kept = append(kept, it)
			}
		}
		obj[path[len(path)-1]] = kept
		return nil
	})
}
