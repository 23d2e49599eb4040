package gitctx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// configEntry is one variable of a git config file. name is spelled the way
// `git config --list` prints it: section and key lower-cased, a quoted
// subsection kept as written, e.g. "remote.origin.url".
type configEntry struct {
	name  string
	value string
	// hasValue is false for a bare `key` line, which git reads as boolean
	// true but refuses where a string is needed.
	hasValue bool
}

// parseConfig reads git-config syntax. It follows git's own parser
// (config.c: git_parse_source, get_base_var, get_value, parse_value) byte for
// byte, including where git reports the line of an error, so that a file git
// accepts yields the same variables and a file git rejects is rejected here.
// The only deliberate difference: a NUL byte, which git silently truncates
// at, is an error.
func parseConfig(path string, data []byte) ([]configEntry, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte{'\n'})
		return nil, fmt.Errorf("gitctx: %s:%d: NUL byte in config", path, line)
	}
	p := &configParser{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1}
	if err := p.parse(); err != nil {
		return nil, fmt.Errorf("gitctx: %s:%d: bad config line", path, p.line)
	}
	return p.entries, nil
}

// errBadLine makes parseConfig report p.line, git's position of the error.
// The line's text is never quoted: a config file can hold a token.
var errBadLine = errors.New("bad config line")

type configParser struct {
	data    []byte
	pos     int
	line    int // git's linenr: incremented on every '\n', and at EOF
	eof     bool
	entries []configEntry
}

// next mirrors git's get_next_char: CRLF reads as LF, EOF reads as a final
// LF with eof set.
func (p *configParser) next() byte {
	if p.pos >= len(p.data) {
		p.eof = true
		p.line++
		return '\n'
	}
	c := p.data[p.pos]
	p.pos++
	if c == '\r' && p.pos < len(p.data) && p.data[p.pos] == '\n' {
		c = '\n'
		p.pos++
	}
	if c == '\n' {
		p.line++
	}
	return c
}

// Git's ctype is ASCII-only and its isspace is exactly these four.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isKeyChar(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || c == '-'
}
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func (p *configParser) parse() error {
	var section []byte
	comment := false
	for {
		c := p.next()
		switch {
		case c == '\n':
			if p.eof {
				return nil
			}
			comment = false
		case comment, isSpace(c):
		case c == '#' || c == ';':
			comment = true
		case c == '[':
			var err error
			if section, err = p.sectionHeader(); err != nil {
				return err
			}
		case isAlpha(c):
			if err := p.variable(section, c); err != nil {
				return err
			}
		default:
			return errBadLine
		}
	}
}

// sectionHeader reads what follows '[' and returns "section" or
// "section.subsection", as git's get_base_var does.
func (p *configParser) sectionHeader() ([]byte, error) {
	var name []byte
	for {
		c := p.next()
		if p.eof {
			return nil, errBadLine
		}
		if c == ']' {
			break
		}
		if isSpace(c) {
			return p.quotedSubsection(name, c)
		}
		if !isKeyChar(c) && c != '.' {
			return nil, errBadLine
		}
		name = append(name, lower(c))
	}
	if len(name) == 0 {
		return nil, errBadLine
	}
	return name, nil
}

// quotedSubsection reads `[section "subsection"]` after the space; the
// subsection keeps its case, and a backslash escapes any character.
func (p *configParser) quotedSubsection(name []byte, c byte) ([]byte, error) {
	for isSpace(c) {
		if c == '\n' {
			p.line--
			return nil, errBadLine
		}
		c = p.next()
	}
	if c != '"' {
		return nil, errBadLine
	}
	name = append(name, '.')
	for {
		c := p.next()
		if c == '\n' {
			p.line--
			return nil, errBadLine
		}
		if c == '"' {
			break
		}
		if c == '\\' {
			if c = p.next(); c == '\n' {
				p.line--
				return nil, errBadLine
			}
		}
		name = append(name, c)
	}
	if p.next() != ']' {
		return nil, errBadLine
	}
	return name, nil
}

// variable reads `key`, `key = value` or `key=value`; first is the key's
// first letter, already consumed.
func (p *configParser) variable(section []byte, first byte) error {
	key := []byte{lower(first)}
	c := p.next()
	for !p.eof && isKeyChar(c) {
		key = append(key, lower(c))
		c = p.next()
	}
	for c == ' ' || c == '\t' {
		c = p.next()
	}
	// Like git, a key before any section header is named without a dot;
	// no lookup here can match it.
	name := string(key)
	if section != nil {
		name = string(section) + "." + name
	}
	e := configEntry{name: name}
	if c != '\n' {
		if c != '=' {
			return errBadLine
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		e.value, e.hasValue = v, true
	}
	p.entries = append(p.entries, e)
	return nil
}

// value is git's parse_value: leading blanks skipped, trailing blanks
// trimmed, inner blanks kept as they are (git before 2.45 turned each into
// a space; no value read here can hold one meaningfully), '"' toggles quoting, '#' and ';' start a
// comment outside quotes, a backslash-newline continues the line, and only
// \n \t \b \\ \" are valid escapes.
func (p *configParser) value() (string, error) {
	var v []byte
	quoted, comment := false, false
	trimTo := 0
	for {
		c := p.next()
		if c == '\n' {
			if quoted {
				p.line--
				return "", errBadLine
			}
			if trimTo > 0 {
				v = v[:trimTo]
			}
			return string(v), nil
		}
		if comment {
			continue
		}
		if isSpace(c) && !quoted {
			if trimTo == 0 {
				trimTo = len(v)
			}
			if len(v) > 0 {
				v = append(v, c)
			}
			continue
		}
		if !quoted && (c == ';' || c == '#') {
			comment = true
			continue
		}
		trimTo = 0
		switch c {
		case '\\':
			switch c = p.next(); c {
			case '\n':
				continue
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'n':
				c = '\n'
			case '\\', '"':
			default:
				return "", errBadLine
			}
			v = append(v, c)
		case '"':
			quoted = !quoted
		default:
			v = append(v, c)
		}
	}
}

// parseBool reads a git boolean: a bare key, yes/on/true/1 or no/off/false/0
// (any case), the empty string, or a decimal integer.
func parseBool(e configEntry) (bool, error) {
	if !e.hasValue {
		return true, nil
	}
	switch strings.ToLower(e.value) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	n, err := strconv.Atoi(e.value)
	if err != nil {
		return false, fmt.Errorf("gitctx: bad boolean for %s", e.name)
	}
	return n != 0, nil
}
