package caveat

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/names"
)

// Context is what one request is about, as established by the broker.
type Context struct {
	Now     time.Time // the broker's clock, never the caller's
	Op      string    // one of the Op constants
	Secrets []string  // names of the secrets the request asks for
	Program string    // resolved absolute path of the program exec starts
	// SystemProgram: Program is the one a pin by its base name means, the
	// program of that name in the system directories (the broker looks
	// it up). A cmd entry without '/' allows no other.
	SystemProgram bool
	Repo          string // canonical host/org/repo, empty outside a repository
	Branch        string // current branch, empty outside a repository or when detached
	Who           string // git user email
	// Agents are every agent found (agentid ids), none when no agent was
	// detected. An agent caveat holds only when it allows each of them.
	Agents []string
	// Launch is the id of the agent-mode launch whose broker serves the
	// request, set by that broker alone; empty everywhere else. A launch
	// caveat holds only when it names this id.
	Launch string
}

// validate refuses a context no caveat set may accept: without a clock an
// expiry cannot be judged, and an unknown operation cannot be scoped.
func (ctx Context) validate() error {
	if ctx.Now.IsZero() {
		return errors.New("caveat: request context has no time")
	}
	if !slices.Contains(ops, ctx.Op) {
		return fmt.Errorf("caveat: request context has unknown operation %s", quoteShort(ctx.Op))
	}
	return nil
}

// Check reports whether c holds for ctx. The error names the caveat and the
// reason; it contains secret names, never values.
func (c Caveat) Check(ctx Context) error {
	if err := ctx.validate(); err != nil {
		return err
	}
	return c.check(ctx)
}

func (c Caveat) check(ctx Context) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("caveat: %w", err)
	}
	if reason := c.deny(ctx); reason != "" {
		return fmt.Errorf("caveat %s: %s", quoteShort(string(c.Bytes())), reason)
	}
	return nil
}

// deny returns why a valid caveat does not hold for a valid context, or ""
// when it holds.
func (c Caveat) deny(ctx Context) string {
	if c.Name == NameExpiresAt {
		t, _ := parseExpiry(c.Value)
		if !ctx.Now.Before(t) {
			return "token expired"
		}
		return ""
	}
	items := strings.Split(c.Value, ",")
	switch c.Name {
	case NameSecret:
		if len(ctx.Secrets) == 0 && ctx.Op != OpList {
			return "the request names no secret"
		}
		for _, s := range ctx.Secrets {
			if _, found := slices.BinarySearch(items, s); !found {
				return fmt.Sprintf("secret %s is not allowed", quoteShort(s))
			}
		}
	case NameOp:
		if !slices.Contains(items, ctx.Op) {
			return fmt.Sprintf("operation %s is not allowed", quoteShort(ctx.Op))
		}
	case NameAgent:
		if len(ctx.Agents) == 0 {
			return "no agent was detected"
		}
		// Items are ids or aliases ("claude" in a token minted before the
		// ids were llm-secrets v3's); a name no id answers to allows nothing.
		allowed := make([]string, 0, len(items))
		for _, item := range items {
			if id, err := agentid.Canonical(item); err == nil {
				allowed = append(allowed, id)
			}
		}
		for _, a := range ctx.Agents {
			if !slices.Contains(allowed, a) {
				return fmt.Sprintf("agent %s is not allowed", quoteShort(a))
			}
		}
	case NameRepo:
		if ctx.Repo == "" {
			return "the request is not in a repository"
		}
		if !slices.ContainsFunc(items, func(p string) bool { return repoMatch(p, ctx.Repo) }) {
			return fmt.Sprintf("repository %s is not allowed", quoteShort(ctx.Repo))
		}
	case NameBranch:
		if ctx.Branch == "" {
			return "the request is not on a branch"
		}
		if !matchAny(items, ctx.Branch) {
			return fmt.Sprintf("branch %s is not allowed", quoteShort(ctx.Branch))
		}
	case NameWho:
		if ctx.Who == "" {
			return "the git user email is unknown"
		}
		if !matchAny(items, asciiLower(ctx.Who)) {
			return fmt.Sprintf("git user %s is not allowed", quoteShort(ctx.Who))
		}
	case NameLaunch:
		if !slices.Contains(items, ctx.Launch) {
			where := "this request does not come through it"
			if ctx.Launch != "" {
				where = "this request comes through another launcher's broker"
			}
			return "the token is honoured only by the broker of the `llms agent` that minted it, while that launcher runs; " + where
		}
	case NameCmd:
		if ctx.Program == "" {
			return "the request starts no program"
		}
		if !path.IsAbs(ctx.Program) {
			return fmt.Sprintf("program path %s is not absolute", quoteShort(ctx.Program))
		}
		if !slices.ContainsFunc(items, func(entry string) bool { return cmdMatch(entry, ctx.Program, ctx.SystemProgram) }) {
			return fmt.Sprintf("program %s is not allowed", quoteShort(ctx.Program))
		}
	}
	return ""
}

// asciiLower folds ASCII letters only. strings.ToLower would also fold
// look-alikes such as the Kelvin sign into ASCII and match them.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func matchAny(patterns []string, value string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return globMatch(p, value) })
}

// repoMatch matches a repository pattern against the whole repository
// (host/owner/name) and, for a pattern without a host (owner/name),
// against the path after any host.
func repoMatch(pattern, repo string) bool {
	if globMatch(pattern, repo) {
		return true
	}
	p, ok := names.RepoPath(repo)
	return ok && names.HostlessRepo(pattern) && globMatch(pattern, p)
}

// cmdMatch compares a full path entry with the full program path, and a
// bare name with the base name of a system program: a pin by name means
// the program of that name in the system directories, never one the
// caller's PATH or working directory found.
func cmdMatch(entry, program string, system bool) bool {
	if strings.Contains(entry, "/") {
		return entry == program
	}
	return system && entry == path.Base(program)
}

// Set is the caveats of one token. All of them must hold.
type Set []Caveat

// ParseAll parses every caveat of a token; one invalid caveat refuses them
// all, so that an unknown caveat can never be skipped.
func ParseAll(caveats [][]byte) (Set, error) {
	s := make(Set, 0, len(caveats))
	for i, b := range caveats {
		c, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("caveat %d: %w", i, err)
		}
		s = append(s, c)
	}
	return s, nil
}

// Check reports the first caveat of s that does not hold for ctx, in order.
// An empty set holds for any valid context.
func (s Set) Check(ctx Context) error {
	if err := ctx.validate(); err != nil {
		return err
	}
	for _, c := range s {
		if err := c.check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Expiry returns the earliest expires_at of s, and false when s has none.
// An invalid expires_at counts as already expired.
func (s Set) Expiry() (time.Time, bool) {
	var earliest time.Time
	found := false
	for _, c := range s {
		if c.Name != NameExpiresAt {
			continue
		}
		t := time.Time{}
		if c.validate() == nil {
			t, _ = parseExpiry(c.Value)
		}
		if !found || t.Before(earliest) {
			earliest, found = t, true
		}
	}
	return earliest, found
}

// AllowedSecrets returns the secret names every secret caveat of s allows,
// sorted, for filtering what op list shows. all is true when s has no secret
// caveat and so does not restrict names. An invalid secret caveat allows
// nothing.
func (s Set) AllowedSecrets() (names []string, all bool) {
	names, found := s.Items(NameSecret)
	return names, !found
}

// Items returns the items every caveat of s named name lists (their
// intersection), sorted, and found false when s has no such caveat. An
// invalid caveat lists nothing.
func (s Set) Items(name string) (items []string, found bool) {
	for _, c := range s {
		if c.Name != name {
			continue
		}
		var these []string
		if c.validate() == nil {
			these = strings.Split(c.Value, ",")
		}
		if !found {
			items, found = these, true
			continue
		}
		items = slices.DeleteFunc(items, func(n string) bool {
			_, ok := slices.BinarySearch(these, n)
			return !ok
		})
	}
	return items, found
}
