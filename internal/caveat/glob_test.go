package caveat

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"main", "main", true},
		{"main", "mainx", false},
		{"main", "mai", false},
		{"main", "", false},
		{"*", "", true},
		{"*", "main", true},
		{"*", "a/b", false},
		{"**", "a/b", true},
		{"**", "", true},
		{"feature/*", "feature/x", true},
		{"feature/*", "feature/x/y", false},
		{"feature/**", "feature/x/y", true},
		{"feature/**", "featurex", false},
		{"*/*", "a/b", true},
		{"*/*", "a/b/c", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a*b", "a/b", false},
		{"a**b", "a/x/b", true},
		{"*@acme.com", "alice@acme.com", true},
		{"*@acme.com", "alice@acme.com.evil", false},
		{"github.com/acme/*", "github.com/acme/", true},
		{"**/api", "github.com/acme/api", true},
		{"**/api", "api", false},
		{"*.*", "a.b", true},
		{"x", strings.Repeat("x", maxLen+1), false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.value); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}

// globRegexp is an independent statement of the glob semantics, used as an
// oracle.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(`.*`)
			i++
		case pattern[i] == '*':
			b.WriteString(`[^/]*`)
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("feature/*", "feature/x")
	f.Add("**/api", "github.com/acme/api")
	f.Add("a*b**c", "a/b/c")
	f.Add("*@acme.com", "alice@acme.com")
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if !isASCII(pattern) || !isASCII(value) || checkPattern(pattern) != nil || len(pattern) > 64 || len(value) > 256 {
			return
		}
		want := globRegexp(pattern).MatchString(value)
		if got := globMatch(pattern, value); got != want {
			t.Errorf("globMatch(%q, %q) = %v, regexp says %v", pattern, value, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
