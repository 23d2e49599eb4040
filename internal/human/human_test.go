package human

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"/usr/bin/psql":                 "/usr/bin/psql",
		"naïve – ok ✓ 日本":               "naïve – ok ✓ 日本",
		"a\\b":                          "a\\b",
		"\x1b[2K\r\x1b[32mdeny":         `\x1b[2K\r\x1b[32mdeny`,
		"a\nb\tc\x00d\x7fe":             `a\nb\tc\x00d\x7fe`,
		"c1:\u009b2J":                   `c1:\u009b2J`,
		"raw 8-bit CSI:\x9b2J":          `raw 8-bit CSI:\x9b2J`,
		"bad utf8:\xff\xc3":             `bad utf8:\xff\xc3`,
		"bidi:\u202egpj.exe\u2066x":     `bidi:\u202egpj.exe\u2066x`,
		"zero width:\u200b\u200d\ufeff": `zero width:\u200b\u200d\ufeff`,
		"separators:\u2028\u2029":       `separators:\u2028\u2029`,
		"bell and OSC:\x1b]0;t\x07":     `bell and OSC:\x1b]0;t\x07`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzTermSafe: the result never holds a character a terminal acts on or
// reorders by, and text with none is returned unchanged.
func FuzzTermSafe(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2K\r", "\u202e", "\xff\x9b", "a\nb", "日本\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("Escape(%q) = %q keeps %U", s, out, r)
			}
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return needsEscape(r, utf8.RuneLen(r)) })
		if clean && out != s {
			t.Fatalf("Escape(%q) = %q: changed clean text", s, out)
		}
	})
}

type namedString string

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestFprintfEscapesArgumentsNotTheFormat(t *testing.T) {
	var b bytes.Buffer
	Fprintf(&b, "%s\t%s\n%v %d %s %s %s %d %v\n", "a\x1b[2Kb", []string{"x\ny"}, errors.New("e\rf"), 7,
		namedString("n\x1b"), stringer{"s\x07"}, 90*time.Second, 90*time.Second, nil)
	if want := "a\\x1b[2Kb\t[x\\ny]\ne\\rf 7 n\\x1b s\\x07 1m30s 90000000000 <nil>\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
