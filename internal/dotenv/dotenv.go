// Package dotenv parses .env files for `llms import`, strictly.
//
// It owns one grammar: blank lines and '#' comments; an optional `export `
// prefix; KEY=VALUE with optional blanks around '='; values unquoted
// (ending at end of line or at " #"), single-quoted (literal) or
// double-quoted (escapes \n \r \t \" \\ \$, may span lines, as PEM keys in
// .env files do).
//
// It refuses what other parsers guess at: it does no variable expansion
// (`${X}` stays literal, so a file cannot pull values from the environment),
// rejects a key given twice, an unterminated quote, text after a closing
// quote, and NUL bytes. Errors name the line and at most a key that was
// followed by '=', never text that could be a value.
package dotenv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Entry is one KEY=VALUE pair.
type Entry struct {
	Key   string
	Value []byte
	Line  int
}

// maxSize bounds the input; a .env file is small.
const maxSize = 4 << 20

// Parse parses a whole file.
func Parse(data []byte) ([]Entry, error) {
	if len(data) > maxSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxSize)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errors.New("file contains a NUL byte")
	}
	p := parser{src: string(data), line: 1}
	var out []Entry
	seen := map[string]int{}
	for {
		e, ok, err := p.next()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", e.Line, err)
		}
		if !ok {
			return out, nil
		}
		if prev, dup := seen[e.Key]; dup {
			return nil, fmt.Errorf("line %d: %s is already set on line %d", e.Line, e.Key, prev)
		}
		seen[e.Key] = e.Line
		out = append(out, e)
	}
}

type parser struct {
	src  string
	pos  int
	line int
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

// restOfLine consumes up to and including the next newline.
func (p *parser) restOfLine() string {
	end := strings.IndexByte(p.src[p.pos:], '\n')
	var s string
	if end < 0 {
		s, p.pos = p.src[p.pos:], len(p.src)
	} else {
		s, p.pos = p.src[p.pos:p.pos+end], p.pos+end+1
	}
	return strings.TrimSuffix(s, "\r")
}

func (p *parser) skipBlanks() {
	for !p.eof() && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// next returns the next entry; ok is false at the end of input.
func (p *parser) next() (e Entry, ok bool, err error) {
	for !p.eof() {
		p.skipBlanks()
		if p.eof() {
			break
		}
		switch p.src[p.pos] {
		case '\n':
			p.pos++
			p.line++
			continue
		case '\r':
			if strings.HasPrefix(p.src[p.pos:], "\r\n") {
				p.pos += 2
				p.line++
				continue
			}
		case '#':
			p.restOfLine()
			p.line++
			continue
		}
		e, err = p.entry()
		return e, err == nil, err
	}
	return Entry{}, false, nil
}

func (p *parser) entry() (Entry, error) {
	e := Entry{Line: p.line}
	if rest := p.src[p.pos:]; strings.HasPrefix(rest, "export ") || strings.HasPrefix(rest, "export\t") {
		p.pos += len("export")
		p.skipBlanks()
	}
	start := p.pos
	for !p.eof() && keyByte(p.src[p.pos], p.pos == start) {
		p.pos++
	}
	e.Key = p.src[start:p.pos]
	if e.Key == "" {
		return e, errors.New("expected KEY=VALUE")
	}
	p.skipBlanks()
	if p.eof() || p.src[p.pos] != '=' {
		// Not e.Key: a line without '=' may be a value (a PEM body, a
		// pasted token), and errors never echo input that may be secret.
		return e, errors.New("expected KEY=VALUE (no '=' on this line)")
	}
	p.pos++
	p.skipBlanks()
	if p.eof() {
		return e, nil
	}
	var err error
	switch p.src[p.pos] {
	case '\'':
		e.Value, err = p.quoted('\'')
	case '"':
		e.Value, err = p.quoted('"')
	default:
		v := p.restOfLine()
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		if i := strings.Index(v, "\t#"); i >= 0 {
			v = v[:i]
		}
		e.Value = []byte(strings.TrimRight(v, " \t"))
		p.line++
		return e, nil
	}
	if err != nil {
		return e, err
	}
	// After a closing quote only blanks or a comment may follow.
	tail := strings.TrimLeft(p.restOfLine(), " \t")
	p.line++
	if tail != "" && tail[0] != '#' {
		return e, fmt.Errorf("unexpected text after the closing quote of %s", e.Key)
	}
	return e, nil
}

func (p *parser) quoted(q byte) ([]byte, error) {
	p.pos++ // opening quote
	var b []byte
	for !p.eof() {
		c := p.src[p.pos]
		p.pos++
		switch {
		case c == q:
			return b, nil
		case c == '\n':
			p.line++
			b = append(b, c)
		case c == '\\' && q == '"':
			if p.eof() {
				return nil, errors.New("unterminated escape")
			}
			esc := p.src[p.pos]
			p.pos++
			switch esc {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case '"', '\\', '$':
				b = append(b, esc)
			default:
				return nil, errors.New("unknown escape sequence in a double-quoted value")
			}
		default:
			b = append(b, c)
		}
	}
	return nil, fmt.Errorf("unterminated %c quote", q)
}

func keyByte(c byte, first bool) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' {
		return true
	}
	return !first && ('0' <= c && c <= '9' || c == '.' || c == '-')
}
