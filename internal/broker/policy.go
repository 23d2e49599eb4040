package broker

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/policy"
)

// RepoPolicyFile is the policy at the root of the caller's repository.
const RepoPolicyFile = ".llm-secrets-policy.yaml"

// policyBroken marks a policy file that cannot be found, read or parsed;
// the audit log records it as its own event. It reads as the error it
// wraps, which already says "policy: …".
type policyBroken struct{ err error }

func (e policyBroken) Error() string { return e.err.Error() }
func (e policyBroken) Unwrap() error { return e.err }

// policyPaths are the files that apply to the caller: the user's, then the
// repository's. Both must allow.
func (c *Caller) policyPaths() ([]string, error) {
	var paths []string
	dirs := c.ConfigDirs
	if a, err := c.lookupAccount(); err == nil {
		dirs = append([]string{filepath.Join(a.Home, ".config")}, dirs...)
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "llm-secrets", "policy.yaml")
		if filepath.IsAbs(p) && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	gi, err := c.gitInfo()
	if err != nil {
		return nil, fmt.Errorf("policy: finding the repository's policy file: %w", err)
	}
	if gi.TopLevel != "" {
		paths = append(paths, filepath.Join(gi.TopLevel, RepoPolicyFile))
	}
	return paths, nil
}

// Policy is the policy that applies to a caller, read once by LoadPolicy.
type Policy struct {
	set   *policy.Set
	paths []string
	// accountErr says why the user policy could not be located at load.
	accountErr error
}

// LoadPolicy reads the policy files that apply to c now: its user
// policies and its repository's. A front end that serves an agent for a
// long time (agent mode) loads them at launch and hands the result to
// every request (Caller.Policy), so that an agent that can write the
// working tree cannot loosen the repository's policy while it runs. A file
// that cannot be read or parsed is an error: nothing may be served then.
func LoadPolicy(c *Caller) (*Policy, error) {
	paths, err := c.policyPaths()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDenied, policyBroken{err})
	}
	set, err := policy.Load(paths...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDenied, policyBroken{err})
	}
	_, accountErr := c.lookupAccount()
	return &Policy{set: set, paths: paths, accountErr: accountErr}, nil
}

// Paths are the files LoadPolicy read (or found absent).
func (p *Policy) Paths() []string { return slices.Clone(p.paths) }

// policy loads the caller's policy once, unless it was loaded before
// (Caller.Policy). A file that cannot be read or
// parsed is an error, and every access is then denied: never a silent
// allow.
func (c *Caller) policy() (*policy.Set, error) {
	if err := c.userPolicyLost(); err != nil {
		return nil, err
	}
	c.policyOnce.Do(func() {
		if c.Policy != nil {
			c.policySet = c.Policy.set
			return
		}
		paths, err := c.policyPaths()
		if err != nil {
			c.policyErr = err
			return
		}
		c.policySet, c.policyErr = policy.Load(paths...)
	})
	if c.policyErr != nil {
		return nil, fmt.Errorf("%w: %w (every access is denied until it is fixed)", ErrDenied, policyBroken{c.policyErr})
	}
	return c.policySet, nil
}

// userPolicyLost fails closed for an agent when the user policy could not
// be located: its home is not in the user database, so its policy file,
// which may deny the agent, cannot be read. The human is only warned
// (Caller.Warnings).
func (c *Caller) userPolicyLost() error {
	_, err := c.lookupAccount()
	if c.Policy != nil {
		err = c.Policy.accountErr
	}
	if err == nil {
		return nil
	}
	if r, ok := c.detectAgent(); ok {
		return fmt.Errorf("%w: %s, and the user policy cannot be located (%v): agents are refused until the account's home can be established", ErrDenied, detected(r), err)
	}
	return nil
}

// subject is the policy's view of a request.
func (c *Caller) subject(program string) (policy.Subject, error) {
	gi, err := c.gitInfo()
	if err != nil {
		return policy.Subject{}, err
	}
	s := policy.Subject{Repo: gi.Repo, Branch: gi.Branch, Email: gi.User, Agents: []string{policy.Human}, Cmd: program}
	if a, err := c.lookupAccount(); err == nil {
		s.User = a.Name
	}
	if r, ok := c.detectAgent(); ok {
		s.Agents = r.Agents()
	}
	return s, nil
}

// otherProgram stands for every program but the one a request starts: no
// program's path is "/", so only a cmd pattern that names every program
// ('*') matches it.
const otherProgram = "/"

// checkPolicy decides every secret of a request; expires is the token's
// expiry (zero without a token), checked against the matching max_ttl.
// pins is true when the policy allows the request for its program and
// would refuse the same request for another program: the program is then
// pinned as by a token's cmd caveat.
func (b *Broker) checkPolicy(a access, expires time.Time) (pins bool, err error) {
	set, err := a.caller.policy()
	if err != nil {
		return false, err
	}
	if set.Empty() {
		return false, nil
	}
	subj, err := a.caller.subject(a.program)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	subj.SystemProgram = a.pin.isSystem()
	for _, name := range a.secrets {
		d := set.Decide(name, subj)
		if !d.Allowed {
			return false, fmt.Errorf("%w: policy denies %s: %s%s", ErrDenied, name, d.Reason, at(d.Source))
		}
		if d.MaxTTL > 0 && !expires.IsZero() && expires.Sub(b.now()) > d.MaxTTL {
			return false, fmt.Errorf("%w: policy: the token lives longer than %s's max_ttl %s%s", ErrDenied, name, d.MaxTTL, at(d.Source))
		}
		if a.program != "" && policyPins(set, subj, name) {
			pins = true
		}
	}
	return pins, nil
}

func at(source string) string {
	if source == "" {
		return ""
	}
	return " (" + source + ")"
}

// visibleByPolicy filters names for list.
func (b *Broker) visibleByPolicy(c *Caller) (func(string) bool, error) {
	set, err := c.policy()
	if err != nil {
		return nil, err
	}
	if set.Empty() {
		return nil, nil
	}
	subj, err := c.subject("")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDenied, err)
	}
	return func(name string) bool { return set.Decide(name, subj).Allowed }, nil
}

// mintBound checks a token's lifetime against every max_ttl that could
// apply to its secrets.
func (b *Broker) mintBound(r Restrictions, c *Caller) error {
	set, err := c.policy()
	if err != nil {
		return err
	}
	for _, name := range r.Secrets() {
		if bound := set.MintBound(name); bound > 0 && r.TTL > bound {
			return fmt.Errorf("%w: --ttl %s exceeds the policy's max_ttl %s for %s", ErrDenied, r.TTL, bound, name)
		}
	}
	return nil
}

// PolicyDecision explains one secret's decision for `llms policy check`.
type PolicyDecision struct {
	Secret  string
	Allowed bool
	Reason  string
	Source  string
	MaxTTL  time.Duration
}

// PolicyCheckRequest asks for the policy's decision on Names (none: every
// stored secret), with AsAgent and Program overriding the detected agent
// and the program.
type PolicyCheckRequest struct {
	Names   []string
	AsAgent string
	Program string
}

// PolicyCheckResult holds the policy files that apply, and a decision per
// secret.
type PolicyCheckResult struct {
	Paths     []string
	Decisions []PolicyDecision
}

// PolicyCheck explains the policy's decision for each secret in the
// caller's context. The files are reported even when deciding fails.
func (b *Broker) PolicyCheck(c *Caller, req PolicyCheckRequest) (PolicyCheckResult, error) {
	names, asAgent, program := req.Names, req.AsAgent, req.Program
	var paths []string
	if c.Policy != nil {
		paths = c.Policy.Paths()
	} else {
		var err error
		if paths, err = c.policyPaths(); err != nil {
			return PolicyCheckResult{}, err
		}
	}
	set, err := c.policy()
	if err != nil {
		return PolicyCheckResult{Paths: paths}, err
	}
	subj, err := c.subject(program)
	if err != nil {
		return PolicyCheckResult{Paths: paths}, err
	}
	subj.SystemProgram = program != "" && pinned.IsSystem(program)
	if asAgent != "" {
		subj.Agents = []string{policy.Human}
		if asAgent != policy.Human {
			id, err := agentid.Canonical(asAgent)
			if err != nil {
				return PolicyCheckResult{Paths: paths}, fmt.Errorf("%w: --as-agent: %v; or %s", ErrBadRequest, err, policy.Human)
			}
			subj.Agents = []string{id}
		}
	}
	if len(names) == 0 {
		// Every stored name: the human's view, as list is.
		if err := humanOnly(c, "lists every secret's policy decision (an agent may ask with --key)"); err != nil {
			return PolicyCheckResult{Paths: paths}, err
		}
		es, err := b.st.List()
		if err != nil {
			return PolicyCheckResult{Paths: paths}, err
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
	}
	out := make([]PolicyDecision, len(names))
	for i, n := range names {
		d := set.Decide(n, subj)
		out[i] = PolicyDecision{Secret: n, Allowed: d.Allowed, Reason: d.Reason, Source: d.Source, MaxTTL: d.MaxTTL}
	}
	return PolicyCheckResult{Paths: paths, Decisions: out}, nil
}
