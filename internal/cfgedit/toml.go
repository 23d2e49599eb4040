package cfgedit

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// A tline is one statement of a TOML document: a table header, a key/value
// pair (which may span lines: a multi-line string or array), a comment
// line or a blank line. text[start:end] holds it with its line ending.
type tline struct {
	kind       byte // '[' header, '=' key/value, '#' comment, ' ' blank
	start, end int
	// path is the header's table, or the key's full path (the table it is
	// in, then the dotted key).
	path []string
}

// splitTOML cuts a document that decodes into its statements.
func splitTOML(text []byte) ([]tline, error) {
	var lines []tline
	var table []string
	s := &tscan{text: text}
	for s.pos < len(text) {
		l := tline{start: s.pos}
		s.blanks()
		switch {
		case s.at('\n') || s.at('\r') || s.pos == len(text):
			l.kind = ' '
		case s.at('#'):
			l.kind = '#'
		case s.at('['):
			l.kind = '['
			s.pos++
			if s.at('[') {
				s.pos++ // an array of tables: its path is still the table's
			}
			path, err := s.key(']')
			if err != nil {
				return nil, err
			}
			l.path, table = path, path
		default:
			l.kind = '='
			key, err := s.key('=')
			if err != nil {
				return nil, err
			}
			l.path = append(slices.Clone(table), key...)
			if err := s.value(); err != nil {
				return nil, err
			}
		}
		s.restOfLine()
		l.end = s.pos
		lines = append(lines, l)
	}
	return lines, nil
}

// tscan walks a TOML document that decodes: it need only find where
// things end, not check them.
type tscan struct {
	text []byte
	pos  int
}

func (s *tscan) at(c byte) bool { return s.pos < len(s.text) && s.text[s.pos] == c }

func (s *tscan) blanks() {
	for s.at(' ') || s.at('\t') {
		s.pos++
	}
}

// restOfLine skips to the start of the next line (a comment included).
func (s *tscan) restOfLine() {
	for s.pos < len(s.text) && s.text[s.pos] != '\n' {
		s.pos++
	}
	if s.pos < len(s.text) {
		s.pos++
	}
}

// key reads a dotted key up to end ('=' or ']'), past it.
func (s *tscan) key(end byte) ([]string, error) {
	var parts []string
	for {
		s.blanks()
		switch {
		case s.at('"'):
			start := s.pos
			s.str()
			part, err := unquoteBasic(string(s.text[start:s.pos]))
			if err != nil {
				return nil, err
			}
			parts = append(parts, part)
		case s.at('\''):
			start := s.pos
			s.str()
			parts = append(parts, string(s.text[start+1:s.pos-1]))
		default:
			start := s.pos
			for s.pos < len(s.text) && isBare(s.text[s.pos]) {
				s.pos++
			}
			if s.pos == start {
				return nil, fmt.Errorf("cannot read the key at byte %d", start)
			}
			parts = append(parts, string(s.text[start:s.pos]))
		}
		s.blanks()
		switch {
		case s.at('.'):
			s.pos++
		case s.at(end):
			s.pos++
			if end == ']' && s.at(']') {
				s.pos++
			}
			return parts, nil
		default:
			return nil, fmt.Errorf("cannot read the key at byte %d", s.pos)
		}
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// unquoteBasic decodes a basic string key; TOML's escapes are Go's but for
// \e (1.1), which no key of interest here holds.
func unquoteBasic(q string) (string, error) {
	s, err := strconv.Unquote(q)
	if err != nil {
		return "", fmt.Errorf("cannot read the key %s", q)
	}
	return s, nil
}

// str skips a string of any of TOML's four kinds, starting at its quote.
func (s *tscan) str() {
	q := s.text[s.pos]
	if bytes.HasPrefix(s.text[s.pos:], []byte{q, q, q}) {
		s.pos += 3
		for s.pos < len(s.text) {
			if q == '"' && s.at('\\') {
				s.pos += 2
				continue
			}
			if bytes.HasPrefix(s.text[s.pos:], []byte{q, q, q}) {
				s.pos += 3
				// Up to two more quotes belong to the content.
				for range 2 {
					if s.at(q) {
						s.pos++
					}
				}
				return
			}
			s.pos++
		}
		return
	}
	for s.pos++; s.pos < len(s.text) && !s.at(q); s.pos++ {
		if q == '"' && s.at('\\') {
			s.pos++
		}
	}
	s.pos++
}

// value skips a value: to the end of its line, past the strings, arrays
// and inline tables that can hold newlines or a '#'.
func (s *tscan) value() error {
	depth := 0
	for s.pos < len(s.text) {
		switch c := s.text[s.pos]; {
		case c == '"' || c == '\'':
			s.str()
			continue
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == '#':
			if depth == 0 {
				return nil
			}
			for s.pos < len(s.text) && s.text[s.pos] != '\n' {
				s.pos++
			}
			continue
		case c == '\n' && depth == 0:
			return nil
		}
		s.pos++
	}
	if depth != 0 {
		return errors.New("an array or inline table does not end")
	}
	return nil
}

func decodeTOML(text []byte) (map[string]any, error) {
	doc := map[string]any{}
	_, err := toml.Decode(string(text), &doc)
	return doc, err
}

func hasPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

// TOMLTable reports whether the document defines the table (as a table
// header, an inline table or dotted keys), and its value as decoded.
func TOMLTable(text []byte, table ...string) (map[string]any, bool, error) {
	doc, err := decodeTOML(text)
	if err != nil {
		return nil, false, err
	}
	var v any = doc
	for _, k := range table {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if v, ok = m[k]; !ok {
			return nil, false, nil
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, true, fmt.Errorf("%s is not a table", strings.Join(table, "."))
	}
	return m, true, nil
}

// AppendTOML adds tableText — one table and its sub-tables, in TOML — at
// the end of the document, after a blank line. It refuses what would
// define a table twice (the decoder does).
func AppendTOML(text []byte, tableText string) ([]byte, error) {
	before, err := decodeTOML(text)
	if err != nil {
		return nil, err
	}
	add, err := decodeTOML([]byte(tableText))
	if err != nil {
		return nil, err
	}
	// An inline table cannot be extended by a header, which some decoders
	// (this one) accept and others (Codex's) refuse.
	lines, err := splitTOML(text)
	if err != nil {
		return nil, err
	}
	addLines, err := splitTOML([]byte(tableText))
	if err != nil || len(addLines) == 0 || addLines[0].kind != '[' {
		return nil, errors.New("the table to add must start with its header")
	}
	if _, exists, _ := TOMLTable(text, addLines[0].path...); exists {
		return nil, fmt.Errorf("already defines %s; nothing was changed", strings.Join(addLines[0].path, "."))
	}
	for _, l := range lines {
		if l.kind == '=' && hasPrefix(addLines[0].path, l.path) {
			return nil, fmt.Errorf("%s is defined as a value here, which a table cannot be added to; nothing was changed", strings.Join(l.path, "."))
		}
	}
	out := slices.Clone(text)
	nl := "\n"
	if bytes.Contains(text, []byte("\r\n")) {
		nl = "\r\n"
		tableText = strings.ReplaceAll(tableText, "\n", nl)
	}
	if len(out) > 0 {
		if !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, nl...)
		}
		out = append(out, nl...)
	}
	out = append(out, tableText...)
	after, err := decodeTOML(out)
	if err != nil {
		return nil, fmt.Errorf("cannot add the table: %v; nothing was changed", err)
	}
	merge(before, add)
	if !reflect.DeepEqual(after, before) {
		return nil, errors.New("adding the table would change more than it should; nothing was changed")
	}
	return out, nil
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if d, ok := dst[k].(map[string]any); ok {
			if s, ok := v.(map[string]any); ok {
				merge(d, s)
				continue
			}
		}
		dst[k] = v
	}
}

// DeleteTOMLTable takes out a table defined by headers: its header, its
// key/value lines and those of its sub-tables, and the blank line before
// each header (the one AppendTOML adds). Comments stay, but for the lines
// equal to one of drop. A table defined another way (an inline table,
// dotted keys) is refused, and so is a result that decodes to anything but
// the document without the table.
func DeleteTOMLTable(text []byte, table []string, drop ...string) ([]byte, error) {
	before, err := decodeTOML(text)
	if err != nil {
		return nil, err
	}
	lines, err := splitTOML(text)
	if err != nil {
		return nil, err
	}
	remove := make([]bool, len(lines))
	inTable := false
	for i, l := range lines {
		switch l.kind {
		case '[':
			inTable = hasPrefix(l.path, table)
			if inTable {
				remove[i] = true
				if i > 0 && lines[i-1].kind == ' ' {
					remove[i-1] = true
				}
			}
		case '=':
			if hasPrefix(l.path, table) && !inTable {
				return nil, fmt.Errorf("defines %s with dotted keys or an inline table, which llms does not edit: take it out by hand", strings.Join(table, "."))
			}
			remove[i] = inTable
		case '#':
			remove[i] = slices.Contains(drop, strings.TrimRight(string(text[l.start:l.end]), "\r\n"))
		}
	}
	// A table taken out from the top of the document takes the blank line
	// after it instead.
	if len(lines) > 0 && remove[0] && lines[0].kind == '[' {
		j := 0
		for j < len(lines) && remove[j] {
			j++
		}
		if j < len(lines) && lines[j].kind == ' ' {
			remove[j] = true
		}
	}
	var out []byte
	for i, l := range lines {
		if !remove[i] {
			out = append(out, text[l.start:l.end]...)
		}
	}
	after, err := decodeTOML(out)
	if err != nil {
		return nil, fmt.Errorf("taking out the table would break the document (%v); nothing was changed", err)
	}
	parent := before
	for _, k := range table[:len(table)-1] {
		parent, _ = parent[k].(map[string]any)
	}
	if parent != nil {
		delete(parent, table[len(table)-1])
	}
	pruneEmpty(before, after, table[:len(table)-1])
	if !reflect.DeepEqual(after, before) {
		return nil, errors.New("taking out the table would change more than it should; nothing was changed")
	}
	return out, nil
}

// pruneEmpty drops from want the tables on path left empty that got
// lacks: a table that only held the one taken out existed implicitly.
func pruneEmpty(want, got map[string]any, path []string) {
	if len(path) == 0 {
		return
	}
	w, _ := want[path[0]].(map[string]any)
	g, gok := got[path[0]].(map[string]any)
	if w == nil {
		return
	}
	if gok {
		pruneEmpty(w, g, path[1:])
		return
	}
	pruneEmpty(w, map[string]any{}, path[1:])
	if len(w) == 0 {
		delete(want, path[0])
	}
}
