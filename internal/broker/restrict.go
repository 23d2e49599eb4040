package broker

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/gitctx"
)

// Restrictions are the caveat flags shared by mint, attenuate, lease and
// profiles. Empty fields add no caveat.
type Restrictions struct {
	Secrets  []string
	TTL      time.Duration // 0: no expiry caveat (attenuate only)
	Repos    []string      // remote URLs or canonical host/org/repo patterns
	Branches []string
	Agents   []string
	Who      []string
	Cmds     []string
	Ops      []string
}

// caveats turns restrictions into canonical caveats, validating each.
func (r Restrictions) caveats(now time.Time) ([]caveat.Caveat, error) {
	var out []caveat.Caveat
	add := func(flag string, items []string, mk func(...string) (caveat.Caveat, error)) error {
		if len(items) == 0 {
			return nil
		}
		c, err := mk(items...)
		if err != nil {
			return fmt.Errorf("%w: --%s: %v", ErrBadRequest, flag, err)
		}
		out = append(out, c)
		return nil
	}
	if r.TTL < 0 {
		return nil, fmt.Errorf("%w: --ttl must be positive", ErrBadRequest)
	}
	if r.TTL > 0 {
		c, err := caveat.ExpiresAt(now.Add(r.TTL))
		if err != nil {
			return nil, fmt.Errorf("%w: --ttl: %v", ErrBadRequest, err)
		}
		out = append(out, c)
	}
	repos := make([]string, len(r.Repos))
	for i, u := range r.Repos {
		repos[i] = canonicalRepo(u)
	}
	// Agents are ids or aliases; the caveat holds canonical ids, and a name
	// no detector reports is refused rather than minted into a token that
	// can never be used.
	var agents []string
	for _, a := range r.Agents {
		id, err := agentid.Canonical(a)
		if err != nil {
			return nil, fmt.Errorf("%w: --agent: %v", ErrBadRequest, err)
		}
		if !slices.Contains(agents, id) {
			agents = append(agents, id)
		}
	}
	who := make([]string, len(r.Who))
	for i, w := range r.Who {
		who[i] = strings.ToLower(w)
	}
	for _, f := range []struct {
		flag  string
		items []string
		mk    func(...string) (caveat.Caveat, error)
	}{
		{"secret", r.Secrets, caveat.Secret},
		{"repo", repos, caveat.Repo},
		{"branch", r.Branches, caveat.Branch},
		{"agent", agents, caveat.Agent},
		{"who", who, caveat.Who},
		{"cmd", r.Cmds, caveat.Cmd},
		{"op", r.Ops, caveat.Op},
	} {
		if err := add(f.flag, f.items, f.mk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// canonicalRepo accepts a remote URL (normalised) or an already canonical
// pattern such as github.com/acme/* (kept, so globs survive).
func canonicalRepo(s string) string {
	if strings.Contains(s, "://") || strings.Contains(s, "@") {
		if n := gitctx.NormalizeRepo(s); n != "" {
			return n
		}
	}
	return s
}

// Here returns the caller's repository and branch, for --here.
func Here(c *Caller) (repo, branch string, err error) {
	gi, err := c.gitInfo()
	if err != nil {
		return "", "", err
	}
	if gi.Repo == "" || gi.Branch == "" {
		return "", "", fmt.Errorf("%w: --here needs a git repository with an origin remote and a checked-out branch", ErrBadRequest)
	}
	return gi.Repo, gi.Branch, nil
}
