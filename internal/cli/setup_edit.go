package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The edits llms setup makes keep everything else in a file as it was: a
// JSON document keeps its keys in their order (it is written back with
// two-space indentation, as the agents write their own files), and a text
// file gets one marked block, appended, that --remove takes out again.

// A jsonNode is a JSON value that remembers the order of its keys.
type jsonNode struct {
	kind    byte // '{', '[' or 0 for a scalar
	keys    []string
	members map[string]*jsonNode // for '{'
	items   []*jsonNode          // for '['
	raw     json.RawMessage      // for a scalar
}

func newObject() *jsonNode { return &jsonNode{kind: '{', members: map[string]*jsonNode{}} }

// parseJSON reads one JSON document; an empty or blank one is an empty
// object.
func parseJSON(data []byte) (*jsonNode, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return newObject(), nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON document")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		n := newObject()
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := k.(string)
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			if _, dup := n.members[key]; dup {
				return nil, fmt.Errorf("key %q appears twice", key)
			}
			n.keys = append(n.keys, key)
			n.members[key] = v
		}
		_, err = dec.Token()
		return n, err
	case json.Delim('['):
		n := &jsonNode{kind: '['}
		for dec.More() {
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		_, err = dec.Token()
		return n, err
	}
	raw, err := marshalPlain(tok)
	return &jsonNode{raw: raw}, err
}

// marshalPlain is json.Marshal without HTML escaping.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// toNode converts a plain Go value (maps are sorted by key).
func toNode(v any) (*jsonNode, error) {
	data, err := marshalPlain(v)
	if err != nil {
		return nil, err
	}
	return parseJSON(data)
}

// bytes writes the document with two-space indentation and a final newline.
func (n *jsonNode) bytes() []byte {
	var b bytes.Buffer
	n.write(&b, "")
	b.WriteByte('\n')
	return b.Bytes()
}

func (n *jsonNode) write(b *bytes.Buffer, indent string) {
	inner := indent + "  "
	switch n.kind {
	case '{':
		writeList(b, indent, "{", "}", len(n.keys), func(i int) {
			key, _ := marshalPlain(n.keys[i])
			b.Write(key)
			b.WriteString(": ")
			n.members[n.keys[i]].write(b, inner)
		})
	case '[':
		writeList(b, indent, "[", "]", len(n.items), func(i int) { n.items[i].write(b, inner) })
	default:
		b.Write(n.raw)
	}
}

// writeList writes count items between open and close, one per line, or
// open and close together when there are none.
func writeList(b *bytes.Buffer, indent, open, close string, count int, item func(int)) {
	if count == 0 {
		b.WriteString(open + close)
		return
	}
	b.WriteString(open + "\n")
	for i := range count {
		b.WriteString(indent + "  ")
		item(i)
		if i < count-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent + close)
}

func (n *jsonNode) equal(o *jsonNode) bool { return bytes.Equal(n.bytes(), o.bytes()) }

// object returns the object at key, creating it; it fails when the key
// holds something else.
func (n *jsonNode) object(key string) (*jsonNode, error) {
	if v, ok := n.members[key]; ok {
		if v.kind != '{' {
			return nil, fmt.Errorf("%q is not an object", key)
		}
		return v, nil
	}
	v := newObject()
	n.set(key, v)
	return v, nil
}

func (n *jsonNode) set(key string, v *jsonNode) {
	if _, ok := n.members[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.members[key] = v
}

func (n *jsonNode) remove(key string) {
	if _, ok := n.members[key]; !ok {
		return
	}
	delete(n.members, key)
	for i, k := range n.keys {
		if k == key {
			n.keys = append(n.keys[:i], n.keys[i+1:]...)
			break
		}
	}
}

// empty reports whether n is an object or array with nothing in it.
func (n *jsonNode) empty() bool {
	return n.kind == '{' && len(n.keys) == 0 || n.kind == '[' && len(n.items) == 0
}

// jsonString is a scalar string node.
func jsonString(s string) *jsonNode {
	raw, _ := marshalPlain(s)
	return &jsonNode{raw: raw}
}

// addStrings appends to the array at key the strings it lacks.
func (n *jsonNode) addStrings(key string, values []string) error {
	arr, ok := n.members[key]
	if !ok {
		arr = &jsonNode{kind: '['}
		n.set(key, arr)
	}
	if arr.kind != '[' {
		return fmt.Errorf("%q is not an array", key)
	}
	for _, v := range values {
		if !arr.hasString(v) {
			arr.items = append(arr.items, jsonString(v))
		}
	}
	return nil
}

func (arr *jsonNode) hasString(v string) bool {
	want := jsonString(v)
	for _, it := range arr.items {
		if bytes.Equal(it.raw, want.raw) {
			return true
		}
	}
	return false
}

// removeStrings takes the strings out of the array at key, and the array
// when nothing is left in it.
func (n *jsonNode) removeStrings(key string, values []string) {
	arr, ok := n.members[key]
	if !ok || arr.kind != '[' {
		return
	}
	kept := arr.items[:0]
	for _, it := range arr.items {
		drop := false
		for _, v := range values {
			if bytes.Equal(it.raw, jsonString(v).raw) {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, it)
		}
	}
	arr.items = kept
	if arr.empty() {
		n.remove(key)
	}
}

// Marked blocks in text files.

// A blockStyle is how a file type comments: the block's first and last
// lines.
type blockStyle struct{ begin, end string }

var (
	markdownBlock = blockStyle{"<!-- llms setup: begin (llms setup --remove takes this out) -->", "<!-- llms setup: end -->"}
	hashBlock     = blockStyle{"# llms setup: begin (llms setup --remove takes this out)", "# llms setup: end"}
)

// findBlock returns where the marked block is in text, its end line
// included; ok is false when there is none. A begin without an end, or two
// blocks, is an error: the file was edited by hand and is left alone.
func (st blockStyle) findBlock(text string) (start, end int, ok bool, err error) {
	start = lineIndex(text, st.begin)
	if start < 0 {
		if lineIndex(text, st.end) >= 0 {
			return 0, 0, false, errors.New("has the end of an llms block without its beginning")
		}
		return 0, 0, false, nil
	}
	rel := lineIndex(text[start:], st.end)
	if rel < 0 {
		return 0, 0, false, errors.New("has the beginning of an llms block without its end")
	}
	end = start + rel + len(st.end)
	if end < len(text) && text[end] == '\n' {
		end++
	}
	if lineIndex(text[end:], st.begin) >= 0 {
		return 0, 0, false, errors.New("has two llms blocks")
	}
	return start, end, true, nil
}

// lineIndex finds line as a whole line of text.
func lineIndex(text, line string) int {
	for off := 0; ; {
		i := strings.Index(text[off:], line)
		if i < 0 {
			return -1
		}
		i += off
		startOK := i == 0 || text[i-1] == '\n'
		j := i + len(line)
		endOK := j == len(text) || text[j] == '\n' || text[j] == '\r'
		if startOK && endOK {
			return i
		}
		off = i + 1
	}
}

// withBlock returns text with the block holding body (lines ending in
// "\n"), replacing the block that is there or appended after a blank line.
func (st blockStyle) withBlock(text, body string) (string, error) {
	block := st.begin + "\n" + body + st.end + "\n"
	start, end, ok, err := st.findBlock(text)
	if err != nil {
		return "", err
	}
	if ok {
		return text[:start] + block + text[end:], nil
	}
	if text == "" {
		return block, nil
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "\n" + block, nil
}

// withoutBlock takes the block out, and the blank line withBlock put
// before it.
func (st blockStyle) withoutBlock(text string) (string, error) {
	start, end, ok, err := st.findBlock(text)
	if err != nil || !ok {
		return text, err
	}
	before := text[:start]
	if end == len(text) && strings.HasSuffix(before, "\n\n") {
		before = before[:len(before)-1]
	}
	return before + text[end:], nil
}
