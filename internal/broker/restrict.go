package broker

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/gitctx"
	"github.com/llm-secrets/llms/internal/pinned"
)

// Restrictions are what mint, attenuate, lease and profiles add to a token:
// a lifetime and list caveats.
type Restrictions struct {
	TTL time.Duration // 0: no expiry caveat (attenuate only)
	// Lists holds the items of each list caveat, keyed by caveat name
	// (caveat.ListKinds). Repositories may be remote URLs; emails any case.
	// A name that is absent adds no caveat; a name present with no item
	// (--cmd "$UNSET", cmd = [] in a profile) is refused: it would
	// otherwise mint a token without the restriction that was asked for.
	Lists map[string][]string
	// UpToSession cuts a TTL beyond the session's remaining time to it,
	// instead of refusing it (Minted.CutTo says so): for a token meant to
	// last as long as it can.
	UpToSession bool
}

// Secrets returns the secrets the restrictions allow.
func (r Restrictions) Secrets() []string { return r.Lists[caveat.NameSecret] }

// normalize brings items into their caveat's canonical form, or refuses
// them. Agents are ids or aliases and the caveat holds ids: a name no
// detector reports is refused rather than minted into a token that can
// never be used.
//
// A program is recorded as the path a pin resolves it to (pinned.Resolve):
// a name as the program of that name in the system directories, which must
// be a file only root can change, as must a path.
var normalize = map[string]func(string) (string, error){
	caveat.NameRepo:  func(s string) (string, error) { return canonicalRepo(s), nil },
	caveat.NameWho:   func(s string) (string, error) { return strings.ToLower(s), nil },
	caveat.NameAgent: agentid.Canonical,
	caveat.NameCmd:   pinned.Resolve,
}

// refuseItem holds the broker's refusals of items beyond their grammar.
var refuseItem = map[string]func(string) error{
	caveat.NameKeepEnv: checkKeepable,
}

// caveats turns restrictions into canonical caveats, validating each.
func (r Restrictions) caveats(now time.Time) ([]caveat.Caveat, error) {
	var out []caveat.Caveat
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
	for name := range r.Lists {
		if !caveat.IsList(name) {
			return nil, fmt.Errorf("%w: %q is not a caveat", ErrBadRequest, name)
		}
	}
	for _, k := range caveat.ListKinds() {
		items, given := r.Lists[k.Name]
		if !given {
			continue
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%w: --%s was given no value: a restriction needs at least one (leave it out to restrict nothing)", ErrBadRequest, k.Flag())
		}
		if refuse := refuseItem[k.Name]; refuse != nil {
			for _, item := range items {
				if err := refuse(item); err != nil {
					return nil, err
				}
			}
		}
		if norm := normalize[k.Name]; norm != nil {
			items = slices.Clone(items)
			for i := range items {
				n, err := norm(items[i])
				if err != nil {
					return nil, fmt.Errorf("%w: --%s: %v", ErrBadRequest, k.Flag(), err)
				}
				items[i] = n
			}
			// Two spellings of one item (claude, claude-code) are one.
			slices.Sort(items)
			items = slices.Compact(items)
		}
		c, err := caveat.List(k.Name, items...)
		if err != nil {
			return nil, fmt.Errorf("%w: --%s: %v", ErrBadRequest, k.Flag(), err)
		}
		out = append(out, c)
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
