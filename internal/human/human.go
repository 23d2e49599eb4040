// Package human owns how llms writes text for a person at a terminal:
// Fprintf, which escapes every argument that is text (Escape), so that a
// caller-chosen string cannot erase or forge a line on the human's
// terminal, and TildePath, which writes a path under the home directory as
// ~/…. It decides nothing, holds no value and reads nothing: it only
// formats what it is given.
package human

import (
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that could drive a terminal or
// reorder what it shows written as a visible escape: C0 controls (newline
// and carriage return included), DEL, C1 controls, Unicode format
// characters (bidirectional overrides and isolates, zero-width characters)
// and the line and paragraph separators become \xNN or \uNNNN, and a byte
// that is not UTF-8 (a raw 8-bit CSI) becomes \xNN. Anything else is kept,
// so text without such characters is returned unchanged.
//
// Every human-facing line that can hold a caller-chosen string (a program
// path, a directory, a reason, a profile entry, an error) goes through it,
// by way of Fprintf: a name cannot erase or forge a line on the human's
// terminal. --json output is escaped by the JSON encoder instead.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !needsEscape(r, n):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return true // not UTF-8: a terminal may read a lone byte as C1
	case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
		return true
	case r < 0x80:
		return false
	}
	return unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Fprintf is fmt.Fprintf with every argument that is text passed through
// Escape first: a string (of any named string type too), a []string, an
// error, or a Stringer that is not a number. The format is the program's
// own; the arguments are data. Every command writes its human-facing text
// with it.
func Fprintf(w io.Writer, format string, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = safeArg(a)
	}
	fmt.Fprintf(w, format, safe...)
}

func safeArg(a any) any {
	switch v := a.(type) {
	case nil:
		return nil
	case error:
		return Escape(v.Error())
	case []string:
		s := make([]string, len(v))
		for j := range v {
			s[j] = Escape(v[j])
		}
		return s
	}
	rv := reflect.ValueOf(a)
	if k := rv.Kind(); k == reflect.Bool || reflect.Int <= k && k <= reflect.Complex128 {
		// A number stays a number, for %d as for %s (a time.Duration's
		// String is the program's own text).
		return a
	}
	if v, ok := a.(fmt.Stringer); ok {
		return Escape(v.String())
	}
	if rv.Kind() == reflect.String {
		return Escape(rv.String())
	}
	return a
}

// TildePath writes p, when it is under home, as ~/…; home "" is none.
func TildePath(home, p string) string {
	if home != "" {
		if rest, ok := strings.CutPrefix(p, home+string(filepath.Separator)); ok {
			return "~/" + rest
		}
	}
	return p
}
