package runner

import (
	"regexp"
	"strings"
	"testing"
)

// envErrorForm is the whole of what a refused environment may say: indexes
// and fixed words, never contents.
var envErrorForm = regexp.MustCompile(`^runner: environment (entry \d+ (has no '='|has an empty name|contains a NUL byte)|entries \d+ and \d+ set the same variable)$`)

// FuzzCheckEnv feeds checkEnv environments given as newline-separated
// entries and checks its verdict against the rules directly: accepted means
// every entry is NAME=value with a non-empty name, no NUL anywhere, and no
// name twice; refused means the error has the fixed, content-free form.
// Seeds are in testdata/fuzz/FuzzCheckEnv.
func FuzzCheckEnv(f *testing.F) {
	f.Fuzz(func(t *testing.T, joined string) {
		env := strings.Split(joined, "\n")
		err := checkEnv(env)
		if err != nil {
			if !envErrorForm.MatchString(err.Error()) {
				t.Fatalf("error %q is not of the fixed form", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, kv := range env {
			name, _, ok := strings.Cut(kv, "=")
			if !ok || name == "" || strings.Contains(kv, "\x00") || seen[name] {
				t.Fatalf("accepted a bad environment: %q", env)
			}
			seen[name] = true
		}
	})
}
