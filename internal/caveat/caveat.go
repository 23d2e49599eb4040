package caveat

import (
	"github.com/llm-secrets/llms/internal/names"

	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// maxLen bounds a whole caveat, name and '=' included.
const maxLen = 4096

// expiryLayout is the only accepted form of expires_at: fixed width, UTC,
// whole seconds, so that one instant has one encoding.
const expiryLayout = "2006-01-02T15:04:05Z"

// Caveat names. Every name but expires_at is a list caveat, described by
// [ListKinds].
const (
	NameSecret    = "secret"
	NameExpiresAt = "expires_at"
	NameRepo      = "repo"
	NameBranch    = "branch"
	NameAgent     = "agent"
	NameWho       = "who"
	NameCmd       = "cmd"
	NameOp        = "op"
	NameKeepEnv   = "keep_env"
	NameLaunch    = "launch"
)

// Operations a request can perform; an op caveat lists the ones it allows.
// Only operations that a request of the broker checks exist: an operation
// nothing checks would be a promise nothing keeps.
const (
	// OpExec starts a child process with secrets injected into its
	// environment (exec --inject, profile exec).
	OpExec = "exec"
	// OpPeek shows a bounded mask and a fingerprint of a value, never the
	// value itself.
	OpPeek = "peek"
	// OpList lists secret names, never values. The names a token may see
	// are given by Set.AllowedSecrets.
	OpList = "list"
)

var ops = []string{OpExec, OpPeek, OpList}

// Ops lists the operations, in the order help text shows them.
func Ops() []string { return slices.Clone(ops) }

// ListKind describes one list caveat ("name=a,b"). [ListKinds] is the one
// table of them: the CLI's caveat flags, the keys of a profile and the
// broker's restrictions are all made from it.
type ListKind struct {
	// Name is the caveat name; a profile sets the caveat with the key of
	// the same name.
	Name string
	// Help describes one item, for a flag's help text.
	Help string
	// check validates one item.
	check func(item string) error
	// LauncherOnly marks a caveat that only the agent-mode launcher adds,
	// to the token it mints: no flag and no profile key sets it.
	LauncherOnly bool
}

// Flag is the command-line flag that adds the caveat, without "--": the
// name with '_' written '-'.
func (k ListKind) Flag() string { return strings.ReplaceAll(k.Name, "_", "-") }

// ListKinds returns every list caveat, in the order the caveats of one
// token are built and shown.
func ListKinds() []ListKind { return slices.Clone(listKinds) }

var listKinds = []ListKind{
	{NameSecret, "secret the token may use", checkSecretName, false},
	{NameRepo, "repository (remote URL or host/org/repo, '*' globs)", checkPathPattern, false},
	{NameBranch, "branch ('*' globs)", checkPathPattern, false},
	{NameAgent, "agent id or alias (claude-code, cursor, codex, …)", checkAgentName, false},
	{NameWho, "git user email ('*' globs)", checkWhoPattern, false},
	{NameCmd, "program exec may start (absolute path or base name)", checkCmd, false},
	{NameOp, "operation: " + strings.Join(ops, ", "), checkOp, false},
	{NameKeepEnv, "variable a pinned program keeps from the caller's environment", checkEnvName, false},
	{NameLaunch, "agent-mode launch whose broker alone honours the token", checkLaunchID, true},
}

// listKind finds the kind of a list caveat.
func listKind(name string) (ListKind, bool) {
	i := slices.IndexFunc(listKinds, func(k ListKind) bool { return k.Name == name })
	if i < 0 {
		return ListKind{}, false
	}
	return listKinds[i], true
}

// IsList reports whether name is the name of a list caveat.
func IsList(name string) bool {
	_, ok := listKind(name)
	return ok
}

// Settable reports whether people set the list caveat name — a flag of
// mint, lease, attenuate and agent, a key of a profile: every list caveat
// but those only the launcher adds ([ListKind.LauncherOnly]).
func Settable(name string) bool {
	k, ok := listKind(name)
	return ok && !k.LauncherOnly
}

// Caveat is one first-party caveat. Values obtained from Parse or from the
// constructors are valid and canonical; Check re-validates any other value
// and refuses it if it is not.
type Caveat struct {
	Name, Value string
}

// Parse parses one caveat, refusing anything that is not canonical.
func Parse(b []byte) (Caveat, error) {
	c, err := parse(b)
	if err != nil {
		return Caveat{}, fmt.Errorf("caveat: %w", err)
	}
	return c, nil
}

func parse(b []byte) (Caveat, error) {
	if len(b) > maxLen {
		return Caveat{}, fmt.Errorf("%d bytes, longer than %d", len(b), maxLen)
	}
	name, value, ok := bytes.Cut(b, []byte("="))
	if !ok {
		return Caveat{}, errors.New("no '=' between name and value")
	}
	c := Caveat{Name: string(name), Value: string(value)}
	return c, c.validate()
}

// Bytes returns the canonical encoding: Parse(c.Bytes()) == c for every
// valid c.
func (c Caveat) Bytes() []byte {
	b := make([]byte, 0, len(c.Name)+1+len(c.Value))
	b = append(b, c.Name...)
	b = append(b, '=')
	return append(b, c.Value...)
}

// validate reports why c is not a valid canonical caveat. Errors carry no
// package prefix so that Parse and ParseAll can add their own.
func (c Caveat) validate() error {
	if n := len(c.Name) + 1 + len(c.Value); n > maxLen {
		return fmt.Errorf("%d bytes, longer than %d", n, maxLen)
	}
	for i := 0; i < len(c.Name); i++ {
		if !printable(c.Name[i]) || c.Name[i] == '=' {
			return fmt.Errorf("name byte %#02x at offset %d is not allowed", c.Name[i], i)
		}
	}
	for i := 0; i < len(c.Value); i++ {
		switch {
		case !printable(c.Value[i]):
			return fmt.Errorf("%s: value byte %#02x at offset %d is not printable ASCII", c.Name, c.Value[i], i)
		case c.Value[i] == '=':
			return fmt.Errorf("%s: more than one '='", c.Name)
		}
	}
	var err error
	if k, ok := listKind(c.Name); ok {
		err = eachItem(c.Value, k.check)
	} else if c.Name == NameExpiresAt {
		_, err = parseExpiry(c.Value)
	} else {
		return fmt.Errorf("unknown name %s", quoteShort(c.Name))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}

// printable is the whole alphabet of a caveat: visible ASCII, no space.
func printable(b byte) bool { return b >= 0x21 && b <= 0x7e }

// eachItem checks a comma list: no empty item, strictly ascending (which
// also rules out duplicates), every item valid.
func eachItem(list string, check func(string) error) error {
	if list == "" {
		return errors.New("empty value")
	}
	prev := ""
	for i, item := range strings.Split(list, ",") {
		if item == "" {
			return errors.New("empty list item")
		}
		if i > 0 {
			switch {
			case item == prev:
				return fmt.Errorf("duplicate item %s", quoteShort(item))
			case item < prev:
				return fmt.Errorf("items out of order: %s after %s", quoteShort(item), quoteShort(prev))
			}
		}
		if err := check(item); err != nil {
			return err
		}
		prev = item
	}
	return nil
}

// checkSecretName applies the store's naming rule (internal/names).
func checkSecretName(s string) error { return names.Secret(s) }

func checkEnvName(s string) error {
	if !names.EnvVar(s) {
		return fmt.Errorf("%s is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", quoteShort(s))
	}
	return nil
}

func checkAgentName(s string) error {
	if len(s) > 64 {
		return fmt.Errorf("agent name of %d bytes, longer than 64", len(s))
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || (i > 0 && (b == '.' || b == '_' || b == '-'))
		if !ok {
			return fmt.Errorf("agent name %s does not match [a-z0-9][a-z0-9._-]*", quoteShort(s))
		}
	}
	return nil
}

// checkPattern refuses glob syntax this package does not implement, and
// runs of three or more '*', which would be a second spelling of '**'.
func checkPattern(p string) error {
	if i := strings.IndexAny(p, `?[\`); i >= 0 {
		return fmt.Errorf("pattern %s: %q is not supported", quoteShort(p), p[i])
	}
	if strings.Contains(p, "***") {
		return fmt.Errorf("pattern %s: more than two '*' in a row", quoteShort(p))
	}
	return nil
}

// checkPathPattern validates repo and branch patterns: '/'-separated
// segments, none empty.
func checkPathPattern(p string) error {
	if err := checkPattern(p); err != nil {
		return err
	}
	if p[0] == '/' || p[len(p)-1] == '/' || strings.Contains(p, "//") {
		return fmt.Errorf("pattern %s has an empty '/' segment", quoteShort(p))
	}
	return nil
}

// checkWhoPattern requires lowercase because matching ignores case: an
// uppercase pattern would be a second spelling of a lowercase one.
func checkWhoPattern(p string) error {
	if err := checkPattern(p); err != nil {
		return err
	}
	if strings.ToLower(p) != p {
		return fmt.Errorf("pattern %s is not lowercase", quoteShort(p))
	}
	return nil
}

func checkCmd(c string) error {
	if i := strings.IndexAny(c, "*?["); i >= 0 {
		return fmt.Errorf("program %s: %q is not allowed, cmd has no globs", quoteShort(c), c[i])
	}
	if !strings.Contains(c, "/") {
		if c == "." || c == ".." {
			return fmt.Errorf("program %s is not a file name", quoteShort(c))
		}
		return nil
	}
	if c[0] != '/' || c == "/" || path.Clean(c) != c {
		return fmt.Errorf("program path %s is not a clean absolute path", quoteShort(c))
	}
	return nil
}

// LaunchIDLen is the length of a launch id: 128 random bits in lowercase
// hex.
const LaunchIDLen = 32

func checkLaunchID(id string) error {
	if len(id) != LaunchIDLen || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("launch id %s is not %d lowercase hex digits", quoteShort(id), LaunchIDLen)
	}
	return nil
}

func checkOp(o string) error {
	if !slices.Contains(ops, o) {
		return fmt.Errorf("unknown operation %s", quoteShort(o))
	}
	return nil
}

func parseExpiry(v string) (time.Time, error) {
	t, err := time.Parse(expiryLayout, v)
	// The round trip refuses what time.Parse tolerates: fractional seconds.
	if err != nil || t.Format(expiryLayout) != v {
		return time.Time{}, fmt.Errorf("%s is not of the form %s", quoteShort(v), expiryLayout)
	}
	return t, nil
}

// quoteShort quotes untrusted text for an error, cut so that a 4 KiB
// caveat does not become a 4 KiB error.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
