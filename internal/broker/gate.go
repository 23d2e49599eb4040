package broker

// The gate, whole: every decision to let a request read values or names,
// to act about a token, or to change what only the human changes, and the
// audit line each decision writes. A request for values goes
// grantValues → decide (authorize, then its line) → values; one about the
// caller's token goes decideAbout → decide; a human-only change goes
// change/changeEach → humanOnly, then its line. The policy's rules
// (policy.go) and the pinned-program checks (pin.go) are what authorize
// asks; nothing outside this file creates a grant.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/macaroon"
	"golang.org/x/sys/unix"
)

// access is one request for secret values or names.
type access struct {
	op      string // a caveat.Op constant
	secrets []string
	program string // exec: the resolved program path
	// pin is how exec found and checked the program, set when it asked
	// pinsProgram first and so looked it up as a pinned one.
	pin    *pinLookup
	caller *Caller
	// about names a request about the caller's own token (describe,
	// audit, request) instead of an access: the token must verify and
	// every caveat about who and where must hold, but the caveats that
	// scope an access (secret, op, cmd) have nothing to judge. Such a
	// request is judged with op list, which names no secret.
	about string
	// mentions are names the audit line records that the request neither
	// reads nor checks exist (the name a request for a secret asks for).
	mentions []string
	// http: the values go to hosts through a launch's credential proxy,
	// not into a program's environment.
	http bool
}

// accessCaveats scope one access; a request about the token itself has
// none to offer them.
var accessCaveats = map[string]bool{caveat.NameSecret: true, caveat.NameOp: true, caveat.NameCmd: true}

// grant is the proof that authorize allowed a request; reading values
// requires one, so no code path reads a value without a decision.
type grant struct {
	secrets []string
	tokenID string // "" for the human without a token
	// visible filters names for list: nil means every name.
	visible func(name string) bool
	// programPinned: the token's cmd caveat or the policy limits the
	// request to the program exec starts; the child then gets an
	// environment by allow-list (childenv.go).
	programPinned bool
	// keep is what the token's keep_env caveats list (keptVars decides
	// what of it counts).
	keep []string
	// caveats are the verified token's, nil without a token.
	caveats caveat.Set
}

// authorize is the decision point for every access to secret values or
// names. It is the only function that creates a grant.
//
// Order: the names' syntax; then the caller — a token is verified
// (signature before any caveat), and without a token an agent is refused
// while the human in their own shell is allowed; then the policy; and only
// then whether the secrets exist, so that nobody learns which names exist
// beyond what they may use.
func (b *Broker) authorize(a access) (grant, error) {
	for _, name := range a.secrets {
		if err := ValidateName(name); err != nil {
			return grant{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	g, err := b.authorizeCaller(a)
	if err != nil {
		return grant{}, a.pinReason(err)
	}
	for _, name := range a.secrets {
		if !b.st.Has(name) {
			return grant{}, fmt.Errorf("%w: no secret named %q", ErrBadRequest, name)
		}
	}
	return g, nil
}

// authorizeCaller decides who is asking: token, agent or human; then the
// policy.
func (b *Broker) authorizeCaller(a access) (grant, error) {
	g := grant{secrets: a.secrets}
	c := a.caller
	if c.Via != "" && !c.hasToken() {
		return grant{}, c.noDelegatedToken()
	}
	if c.TokenGiven && c.Token != "" {
		m, set, err := b.verifyToken(c.Token, a)
		if err != nil {
			return grant{}, err
		}
		g.tokenID, g.caveats = tokenID(m), set
		if c.LaunchToken != nil && g.tokenID != *c.LaunchToken {
			return grant{}, fmt.Errorf("%w: token %s is not the one this agent was launched with: in agent mode the agent acts only with the token its launcher minted", ErrDenied, g.tokenID)
		}
		if _, all := set.AllowedSecrets(); all && c.Via != "" {
			return grant{}, fmt.Errorf("%w: token %s names no secret: it is the session token or made from it, "+
				"and %s never acts with the human's whole authority; delegate a token that names secrets", ErrDenied, g.tokenID, c.Via)
		}
		if a.about != "" {
			return g, nil
		}
		g.keep, _ = set.Items(caveat.NameKeepEnv)
		expires, _ := set.Expiry()
		byPolicy, err := b.checkPolicy(a, expires)
		if err != nil {
			return grant{}, err
		}
		g.programPinned = tokenPins(set) || byPolicy
		if err := a.checkPin(g.programPinned); err != nil {
			return grant{}, err
		}
		byToken := func(string) bool { return true }
		if names, all := set.AllowedSecrets(); !all {
			byToken = func(n string) bool { return slices.Contains(names, n) }
		}
		return g, b.restrictList(&g, a, byToken)
	}
	if r, ok := c.detectAgent(); ok {
		given := "no token was given"
		if c.TokenGiven {
			given = "the token given is empty (an empty variable is no token)"
		}
		return grant{}, fmt.Errorf("%w: %s and %s. "+
			"Agents use secrets only through a token the human delegates: "+
			"`llms macaroon mint --secret KEY --ttl 5m`, passed as LLM_SECRETS_MACAROON "+
			"or LLM_SECRETS_MACAROON_FILE", ErrDenied, detected(r), given)
	}
	byPolicy, err := b.checkPolicy(a, time.Time{})
	if err != nil {
		return grant{}, err
	}
	g.programPinned = byPolicy
	if err := a.checkPin(byPolicy); err != nil {
		return grant{}, err
	}
	return g, b.restrictList(&g, a, nil)
}

// restrictList sets, for list, which names the caller may see: those its
// token allows (byToken, nil for all) and the policy allows.
func (b *Broker) restrictList(g *grant, a access, byToken func(string) bool) error {
	if a.op != caveat.OpList {
		return nil
	}
	byPolicy, err := b.visibleByPolicy(a.caller)
	if err != nil {
		return err
	}
	switch {
	case byToken == nil:
		g.visible = byPolicy
	case byPolicy == nil:
		g.visible = byToken
	default:
		g.visible = func(n string) bool { return byToken(n) && byPolicy(n) }
	}
	return nil
}

// verifyToken checks a token for one access: parse, revocation, the HMAC
// chain (constant time) and only then every caveat against the request's
// context.
func (b *Broker) verifyToken(text string, a access) (*macaroon.Macaroon, caveat.Set, error) {
	m, err := parseToken(text)
	if err != nil {
		return nil, nil, err
	}
	id := tokenID(m)
	// A macaroon's location is outside its signature; pin it so that no
	// byte of a token can change without the token being refused.
	if m.Location() != location {
		return nil, nil, fmt.Errorf("%w: token %s: location %q is not %q", ErrDenied, id, m.Location(), location)
	}
	if revoked, err := b.isRevoked(id); err != nil {
		return nil, nil, err
	} else if revoked {
		return nil, nil, fmt.Errorf("%w: token %s was revoked", ErrDenied, id)
	}
	key, err := b.lookupRootKey(m.ID())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: token %s: %v", ErrDenied, id, err)
	}
	ctx, err := b.context(a)
	if err != nil {
		return nil, nil, err
	}
	err = m.Verify(key, func(raw []byte) error {
		c, err := caveat.Parse(raw)
		if err != nil {
			return err
		}
		if a.about != "" && accessCaveats[c.Name] {
			return nil
		}
		return c.Check(ctx)
	})
	var ce *macaroon.CaveatError
	if errors.As(err, &ce) {
		return nil, nil, fmt.Errorf("%w: token %s: %v", ErrDenied, id, ce.Err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: token %s: %v", ErrDenied, id, err)
	}
	_, set, err := infoOf(m)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: token %s: %v", ErrDenied, id, err)
	}
	if _, ok := set.Expiry(); !ok {
		return nil, nil, fmt.Errorf("%w: token %s has no expiry; llms never issues one", ErrDenied, id)
	}
	return m, set, nil
}

// context builds the caveat context of a request. Git state is read only
// here, once per request; a repository that cannot be read is an error,
// not an empty context.
func (b *Broker) context(a access) (caveat.Context, error) {
	ctx := caveat.Context{Now: b.now(), Op: a.op, Secrets: a.secrets, Program: a.program,
		SystemProgram: a.pin.isSystem(), Launch: a.caller.Launch}
	gi, err := a.caller.gitInfo()
	if err != nil {
		return ctx, fmt.Errorf("%w: cannot read the git repository: %v", ErrDenied, err)
	}
	ctx.Repo, ctx.Branch, ctx.Who = gi.Repo, gi.Branch, gi.User
	if r, ok := a.caller.detectAgent(); ok {
		ctx.Agents = r.Agents()
	}
	return ctx, nil
}

// values reads the granted secrets, in order.
func (b *Broker) values(g grant) ([][]byte, error) {
	out := make([][]byte, len(g.secrets))
	for i, name := range g.secrets {
		v, err := b.st.Read(name)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// decide is authorize plus its audit line: every allow and every deny of
// an access is recorded, and an allow that cannot be recorded becomes a
// deny.
func (b *Broker) decide(a access) (grant, error) {
	g, err := b.authorize(a)
	r := audit.Record{Event: a.op, Op: a.op, Secrets: a.secrets, Program: a.program, TokenID: g.tokenID, Decision: "allow"}
	if a.about != "" {
		r.Event, r.Op = a.about, a.about
		r.Secrets = a.mentions
	}
	if a.caller.Via != "" {
		r.Event = a.caller.Via
	}
	if a.caller.TokenGiven && g.tokenID == "" {
		r.TokenID = tokenIDOf(a.caller.Token)
	}
	if err != nil {
		r.Decision, r.Reason = "deny", reasonOf(err)
		if isPolicyError(err) {
			_ = b.record(audit.Record{Event: "policy-error", Reason: r.Reason}, a.caller)
		}
		if aerr := b.record(r, a.caller); aerr != nil {
			return grant{}, fmt.Errorf("%w (and %v)", err, aerr)
		}
		return grant{}, err
	}
	if err := b.record(r, a.caller); err != nil {
		return grant{}, err
	}
	return g, nil
}

// reasonOf strips the sentinel prefix from a decision error.
func reasonOf(err error) string {
	s := err.Error()
	for _, p := range []string{ErrDenied.Error() + ": ", ErrBadRequest.Error() + ": "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

func isPolicyError(err error) bool { return errors.As(err, new(policyBroken)) }

// tokenIDOf names a token that failed before verification, if it parses.
func tokenIDOf(text string) string {
	if m, err := parseToken(text); err == nil {
		return tokenID(m)
	}
	return ""
}

// mayNotRedact decides --no-redact, whatever the front end: only for the
// human, with no token, and with stdout a terminal (output that a pipe or
// a file captured would keep the values).
func mayNotRedact(c *Caller, stdout io.Writer) error {
	if c.TokenGiven {
		return fmt.Errorf("%w: output redaction cannot be turned off under a token: it exists only for a human at a terminal", ErrDenied)
	}
	if err := humanOnly(c, "may turn off output redaction"); err != nil {
		return err
	}
	if f, ok := stdout.(*os.File); !ok || !isTerminal(f) {
		return fmt.Errorf("%w: --no-redact is refused when stdout is not a terminal: output would be captured unredacted", ErrBadRequest)
	}
	return nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// humanOnly refuses what only the human may do, whatever token is held.
func humanOnly(c *Caller, what string) error {
	if r, ok := c.detectAgent(); ok {
		return fmt.Errorf("%w: %s; only the human %s", ErrDenied, detected(r), what)
	}
	return nil
}

// HumanOnly refuses a detected agent what only the human does outside the
// store (such as editing an agent's configuration with llms setup).
func (c *Caller) HumanOnly(what string) error { return humanOnly(c, what) }

// change records, then allows, a change only the human may make. The
// line is written first, so no change goes unrecorded; a refusal is
// recorded too.
func (b *Broker) change(event string, secrets []string, c *Caller, what string) error {
	if err := humanOnly(c, what); err != nil {
		return b.refuse(audit.Record{Event: event, Secrets: secrets}, err, c)
	}
	return b.record(audit.Record{Event: event, Decision: "allow", Secrets: secrets}, c)
}

// changeEach is change for a batch: one line per secret, as many single
// changes would write, all in one write.
func (b *Broker) changeEach(event string, secrets []string, c *Caller, what string) error {
	denied := humanOnly(c, what)
	rs := make([]audit.Record, len(secrets))
	for i, name := range secrets {
		rs[i] = audit.Record{Event: event, Decision: "allow", Secrets: []string{name}}
		if denied != nil {
			rs[i].Decision, rs[i].Reason = "deny", reasonOf(denied)
		}
	}
	if denied != nil {
		_ = b.recordAll(rs, c)
		return denied
	}
	return b.recordAll(rs, c)
}

// grantValues decides an access and reads its values, holding the
// broker's lock: a long-lived broker serves several requests at once.
func (b *Broker) grantValues(a access) (grant, [][]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.decide(a)
	if err != nil {
		return grant{}, nil, err
	}
	values, err := b.values(g)
	return g, values, err
}

// decideAbout authorizes and records a request about the caller's token,
// under the broker's lock. mentions are names the audit line records
// without judging them.
func (b *Broker) decideAbout(about string, c *Caller, mentions ...string) (grant, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !c.hasToken() {
		err := fmt.Errorf("%w: %s needs a token: there is none to describe, audit or ask under", ErrDenied, about)
		if c.Via != "" {
			err = c.noDelegatedToken()
		}
		return grant{}, b.refuse(audit.Record{Event: aboutEvent(about, c), Op: about, Secrets: mentions}, err, c)
	}
	return b.decide(access{op: caveat.OpList, about: about, mentions: mentions, caller: c})
}

func aboutEvent(about string, c *Caller) string {
	if c.Via != "" {
		return c.Via
	}
	return about
}

// refuse records a denied request and returns why it was denied. The
// refusal itself is what matters to the caller, so a failure to record
// it does not replace err.
func (b *Broker) refuse(r audit.Record, err error, c *Caller) error {
	r.Decision, r.Reason = "deny", reasonOf(err)
	_ = b.record(r, c)
	return err
}
