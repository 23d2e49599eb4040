package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/v3store"
)

// Session is the human's session: a root macaroon under a fresh root key,
// sealed in the store, from which delegated tokens are minted.
type Session struct {
	Token   string    `json:"token"`
	KeyID   string    `json:"key_id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	Dir     string    `json:"dir"`
}

// MaxSessionTTL bounds a session, so that a forgotten one ends.
const MaxSessionTTL = 7 * 24 * time.Hour

// SessionRequest asks for a session lasting TTL (at most MaxSessionTTL).
type SessionRequest struct {
	TTL time.Duration
}

// StartSession creates a root key and the session token. Only the human
// starts a session: an agent is refused.
func (b *Broker) StartSession(c *Caller, req SessionRequest) (Session, error) {
	ttl := req.TTL
	if ttl <= 0 || ttl > MaxSessionTTL {
		return Session{}, fmt.Errorf("%w: --ttl must be between 1s and %s", ErrBadRequest, MaxSessionTTL)
	}
	if err := b.change("session-start", nil, c, "starts a session"); err != nil {
		return Session{}, err
	}
	now := b.now()
	key, err := b.addRootKey(now.Add(ttl))
	if err != nil {
		return Session{}, err
	}
	exp, err := caveat.ExpiresAt(now.Add(ttl))
	if err != nil {
		return Session{}, err
	}
	m, err := newToken(key, []caveat.Caveat{exp})
	if err != nil {
		return Session{}, err
	}
	host, _ := os.Hostname()
	s := Session{Token: m.Text(), KeyID: key.ID, Created: now.UTC(), Expires: key.Expires.UTC().Truncate(time.Second),
		User: c.User(), Host: host, Dir: c.Cwd}
	if err := b.writeState(sessionState, s); err != nil {
		return Session{}, err
	}
	return s, nil
}

// ErrNoSession says what to run; llms never starts one silently.
var ErrNoSession = errors.New("no live session: run `llms session-start --ttl 8h` first")

// CurrentSession returns the live session, verified against its root key.
// An expired or invalid session is an error, never a silent re-mint.
func (b *Broker) CurrentSession() (Session, error) {
	var s Session
	found, err := b.readState(sessionState, &s)
	if err != nil {
		return Session{}, err
	}
	if !found {
		return Session{}, ErrNoSession
	}
	if !b.now().Before(s.Expires) {
		return s, fmt.Errorf("the session expired at %s: run `llms session-start --ttl 8h` for a new one", s.Expires.Format(time.RFC3339))
	}
	m, err := parseToken(s.Token)
	if err != nil {
		return s, err
	}
	key, err := b.lookupRootKey(m.ID())
	if err != nil {
		return s, fmt.Errorf("the session is no longer valid (%v): run `llms session-start`", err)
	}
	if err := m.Verify(key, func([]byte) error { return nil }); err != nil {
		return s, fmt.Errorf("the session token does not verify (%v): run `llms session-start`", err)
	}
	return s, nil
}

// Mint issues a delegated token under the live session. It must name at
// least one secret and expire within the session.
func (b *Broker) Mint(c *Caller, r Restrictions) (Minted, error) {
	return b.mint("mint", r, c)
}

// Lease is Mint for one secret, recorded as a lease.
func (b *Broker) Lease(c *Caller, r Restrictions) (Minted, error) {
	return b.mint("lease", r, c)
}

// Minted is a token just issued: its text, for the human to hand on, and
// what may be shown of it.
type Minted struct {
	Token string
	Info  TokenInfo
	// CutTo is the lifetime the token got when its TTL was cut to the
	// session's remaining time (Restrictions.UpToSession); 0 otherwise.
	CutTo time.Duration
	// Warnings are for the human: a pinned program a pin contains
	// nothing for (pinned.Launcher).
	Warnings []string
}

func (b *Broker) mint(kind string, r Restrictions, c *Caller) (Minted, error) {
	if err := humanOnly(c, "mints tokens (an agent can only attenuate the one it holds)"); err != nil {
		return Minted{}, b.refuse(audit.Record{Event: kind, Secrets: r.Secrets()}, err, c)
	}
	if len(r.Secrets()) == 0 {
		return Minted{}, fmt.Errorf("%w: a token must name at least one secret (--secret)", ErrBadRequest)
	}
	if r.TTL <= 0 {
		return Minted{}, fmt.Errorf("%w: a token must expire (--ttl, e.g. 5m)", ErrBadRequest)
	}
	for _, name := range r.Secrets() {
		if err := ValidateName(name); err != nil {
			return Minted{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	s, err := b.CurrentSession()
	if err != nil {
		return Minted{}, err
	}
	now := b.now()
	var cut time.Duration
	if left := s.Expires.Sub(now); r.TTL > left {
		if !r.UpToSession {
			return Minted{}, fmt.Errorf("%w: --ttl %s exceeds the session's remaining %s", ErrBadRequest, r.TTL, left.Truncate(time.Second))
		}
		r.TTL, cut = left, left
	}
	if err := b.mintBound(r, c); err != nil {
		return Minted{}, err
	}
	cavs, err := r.caveats(now)
	if err != nil {
		return Minted{}, err
	}
	keys, err := b.rootKeys()
	if err != nil {
		return Minted{}, err
	}
	i := slices.IndexFunc(keys, func(k rootKey) bool { return k.ID == s.KeyID })
	if i < 0 {
		return Minted{}, errors.New("the session's root key is gone: run `llms session-start`")
	}
	m, err := newToken(keys[i], cavs)
	if err != nil {
		return Minted{}, err
	}
	info, _, err := infoOf(m)
	if err != nil {
		return Minted{}, err
	}
	// The token exists only once it is recorded: in the audit log and in
	// the lease registry the human can list and revoke from.
	if err := b.record(audit.Record{Event: kind, Decision: "allow", Secrets: r.Secrets(), TokenID: info.ID,
		Reason: strings.Join(info.Caveats, " ")}, c); err != nil {
		return Minted{}, err
	}
	if err := b.addLease(kind, info, now); err != nil {
		return Minted{}, err
	}
	return Minted{Token: m.Text(), Info: info, CutTo: cut, Warnings: launcherWarnings(r.Lists[caveat.NameCmd])}, nil
}

// launcherWarnings warn of each pinned program that runs whatever its
// arguments or working directory say, both of which the agent chooses.
func launcherWarnings(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		if pinned.Launcher(c) {
			out = append(out, fmt.Sprintf("--cmd %s: %s runs what its arguments, working directory or files say, "+
				"and the agent chooses them: the pin contains nothing (docs/POLICY.md)", c, filepath.Base(c)))
		}
	}
	return out
}

// CheckTokenRequest is one access to check a token against, without
// performing it.
type CheckTokenRequest struct {
	Token   string
	Op      string // a caveat.Op constant; "" is exec
	Secrets []string
	Program string // the program exec would start: an absolute path, or a name looked up as a pinned program is
}

// CheckToken verifies a token for one access without performing it, for
// `macaroon verify`: it reports the first caveat that fails and why. The
// access is judged for a copy of the caller holding the token: c itself
// is left as it is.
func (b *Broker) CheckToken(c *Caller, req CheckTokenRequest) (TokenInfo, error) {
	op := req.Op
	if op == "" {
		op = caveat.OpExec
	}
	holder := c.Fresh()
	holder.Token, holder.TokenGiven = req.Token, true
	program := req.Program
	if !strings.Contains(program, "/") || filepath.IsAbs(program) {
		// As a pinned exec would find it.
		if p, err := pinned.Find(program, "/"); err == nil {
			program = p
		}
	}
	a := access{op: op, secrets: req.Secrets, program: program, caller: holder,
		pin: &pinLookup{path: program, system: program != "" && pinned.IsSystem(program)}}
	m, _, err := b.verifyToken(req.Token, a)
	if err != nil {
		return TokenInfo{}, err
	}
	info, _, err := infoOf(m)
	return info, err
}

// revocation is one entry of the sealed deny-list.
type revocation struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

func (b *Broker) revocations() ([]revocation, error) {
	var list []revocation
	_, err := b.readState(revokedState, &list)
	return list, err
}

func (b *Broker) isRevoked(id string) (bool, error) {
	list, err := b.revocations()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(list, func(r revocation) bool { return r.ID == id }), nil
}

// RevokeRequest names the token to revoke by its id.
type RevokeRequest struct {
	ID string
}

// Revoke denies one token, and every attenuation of it (they share its
// id). The entry is kept until the token's root key expires, after which
// the token could not verify anyway.
func (b *Broker) Revoke(c *Caller, req RevokeRequest) error {
	id := req.ID
	if len(id) != 2*(keyIDLen+nonceLen) || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: a token id is %d lowercase hex digits (see `llms leases` or `llms macaroon inspect`)", ErrBadRequest, 2*(keyIDLen+nonceLen))
	}
	if err := humanOnly(c, "revokes tokens"); err != nil {
		return b.refuse(audit.Record{Event: "revoke", TokenID: id}, err, c)
	}
	if err := b.record(audit.Record{Event: "revoke", Decision: "allow", TokenID: id}, c); err != nil {
		return err
	}
	if err := b.endLease(id); err != nil {
		return err
	}
	keys, err := b.rootKeys()
	if err != nil {
		return err
	}
	expires := b.now().Add(MaxSessionTTL)
	for _, k := range keys {
		if k.ID == id[:2*keyIDLen] {
			expires = k.Expires
		}
	}
	now := b.now()
	return updateState(b, revokedState, func(list []revocation) []revocation {
		list = slices.DeleteFunc(list, func(r revocation) bool { return !r.Expires.After(now) || r.ID == id })
		return append(list, revocation{ID: id, Expires: expires})
	})
}

// RevokeAllRequest ends every token; with Rotate it also replaces the
// store's identity.
type RevokeAllRequest struct {
	Rotate bool
}

// RevokeAll destroys every root key — one unlink, whatever the number of
// tokens — and the session, so every token dies. With rotate it also
// re-encrypts the store under a new identity.
func (b *Broker) RevokeAll(c *Caller, req RevokeAllRequest) error {
	rotate := req.Rotate
	if rotate && v3store.Present(b.Dir()) {
		// A new identity would make the v3 store.age unreadable.
		return fmt.Errorf("%w: an llm-secrets v3 store.age is still in %s and the identity it needs would be replaced: run `llms migrate` to finish moving it first", ErrBadRequest, b.Dir())
	}
	if rotate && b.st.Shared() != "" {
		// Refused before anything is revoked: half of what was asked
		// would otherwise be done.
		return fmt.Errorf("%w: a shared store's secrets are encrypted to its members: change your key by adding the new identity as a member and removing the old one (llms member add/remove)", ErrBadRequest)
	}
	if err := b.change("revoke-all", nil, c, "revokes tokens"); err != nil {
		return err
	}
	if rotate {
		if err := b.event("rotate", nil, "", "", c); err != nil {
			return err
		}
	}
	// The root keys go first: once they are gone no token verifies,
	// whatever happens to the rest.
	if err := b.deleteState(rootKeysState, sessionState, revokedState, leasesState); err != nil {
		return err
	}
	if rotate {
		return b.st.Rotate()
	}
	return nil
}
