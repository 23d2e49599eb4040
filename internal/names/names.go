// Package names owns the two name grammars every layer shares, so that the
// store, caveats, policies and profiles cannot disagree about them: secret
// names, which become file names, and environment variable names, which
// secrets are injected as. It refuses to be lenient: a name is valid or it
// is an error, never "cleaned up".
package names

import (
	"errors"
	"fmt"
	"strings"
)

// MaxSecretLen bounds a secret name.
const MaxSecretLen = 128

// ErrInvalidSecret is wrapped by every secret-name error.
var ErrInvalidSecret = errors.New("invalid secret name")

// Secret checks a secret name: [A-Za-z0-9_.-]{1,128}, not starting with '.'
// (a hidden file) or '-' (a flag). Such a name can never be a path.
func Secret(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidSecret)
	case len(name) > MaxSecretLen:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidSecret, MaxSecretLen)
	case name[0] == '.' || name[0] == '-':
		return fmt.Errorf("%w %q: must not start with '.' or '-'", ErrInvalidSecret, name)
	}
	for i := 0; i < len(name); i++ {
		if !alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-' {
			return fmt.Errorf("%w %q: only letters, digits, '_', '.' and '-' are allowed", ErrInvalidSecret, name)
		}
	}
	return nil
}

// EnvVar reports whether name is a portable environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func EnvVar(name string) bool {
	if name == "" || '0' <= name[0] && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !alnum(name[i]) && name[i] != '_' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// HostlessRepo reports whether a repository pattern names no host: its
// first segment holds no '.', as in owner/name. Such a pattern matches that
// path on any host. Policies and token caveats share this rule, so
// `repo: owner/name` and `--repo owner/name` mean the same.
func HostlessRepo(pattern string) bool {
	first, _, _ := strings.Cut(pattern, "/")
	return !strings.Contains(first, ".")
}

// RepoPath is repository repo (host/owner/name, as gitctx prints it)
// without its host, for matching a hostless pattern.
func RepoPath(repo string) (string, bool) {
	_, p, ok := strings.Cut(repo, "/")
	return p, ok
}
