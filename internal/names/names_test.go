package names

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func TestSecret(t *testing.T) {
	for _, n := range []string{"a", "DB_PASSWORD", "x.y-z_1", strings.Repeat("a", MaxSecretLen), "a..b", "_x", "9"} {
		if err := Secret(n); err != nil {
			t.Errorf("Secret(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", ".hidden", "..", "a/b", "../x", "a b", "a\x00b", "é", strings.Repeat("a", MaxSecretLen+1), "-", "-rf", "x\n", "a\\b"} {
		if err := Secret(n); !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("Secret(%q) = %v, want ErrInvalidSecret", n, err)
		}
	}
}

func TestEnvVar(t *testing.T) {
	for n, want := range map[string]bool{"A": true, "_": true, "PG_PASS2": true, "": false, "1A": false, "A-B": false, "A.B": false, "A=B": false, "é": false} {
		if EnvVar(n) != want {
			t.Errorf("EnvVar(%q) = %v", n, !want)
		}
	}
}

// FuzzNames checks both grammars against their regular-expression
// definitions, and that an accepted secret name stays one file name.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"a", ".x", "a/b", "../../etc/passwd", "ok.name-1", "1A", "A_1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if (Secret(s) == nil) != secretRE.MatchString(s) {
			t.Fatalf("Secret(%q) disagrees with its definition", s)
		}
		if EnvVar(s) != envRE.MatchString(s) {
			t.Fatalf("EnvVar(%q) disagrees with its definition", s)
		}
		if Secret(s) == nil && filepath.Base(s) != s {
			t.Fatalf("accepted %q is not a plain file name", s)
		}
	})
}
