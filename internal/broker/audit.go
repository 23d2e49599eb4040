package broker

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/store"
)

// AuditFile is the audit log inside the store directory.
const AuditFile = "audit.jsonl"

// auditLog opens the log with its key, creating the key on first use. The
// key is sealed in the store, so only a holder of the identity can extend
// or check the chain.
func (b *Broker) auditLog() (*audit.Log, error) {
	if b.audit != nil {
		return b.audit, nil
	}
	key, err := b.st.ReadSealed(auditKeyFile)
	if errors.Is(err, store.ErrNotFound) {
		err = b.st.UpdateSealed(auditKeyFile, func(old []byte) ([]byte, error) {
			if old != nil {
				return old, nil // another process made it first
			}
			k := make([]byte, audit.MinKeySize)
			rand.Read(k)
			return k, nil
		})
		if err == nil {
			key, err = b.st.ReadSealed(auditKeyFile)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	b.audit = audit.Open(filepath.Join(b.Dir(), AuditFile), key)
	return b.audit, nil
}

// record appends one audit line. Callers fail closed on its error: an
// access that cannot be recorded does not happen.
func (b *Broker) record(r audit.Record, c *Caller) error { return b.recordAll([]audit.Record{r}, c) }

// recordAll appends one line per record, in one write and one fsync.
func (b *Broker) recordAll(rs []audit.Record, c *Caller) error {
	pid := os.Getpid()
	for i := range rs {
		r := &rs[i]
		if c != nil {
			if a, ok := c.detectAgent(); ok {
				r.Agent = strings.Join(a.Agents(), ",")
			}
			if gi, err := c.gitInfo(); err == nil {
				r.Repo, r.Branch = gi.Repo, gi.Branch
			}
			r.User = c.User()
			r.Cwd = c.Cwd
			r.PID = c.PID
		}
		if r.PID == 0 {
			r.PID = pid
		}
		r.Store = b.st.Shared()
	}
	// Time stays zero: Append stamps it under the log's lock, so times
	// follow the chain's order.
	log, err := b.auditLog()
	if err == nil {
		err = log.AppendAll(rs)
	}
	if err != nil {
		return fmt.Errorf("%w: the audit log cannot be written, so nothing is allowed: %v", ErrDenied, err)
	}
	return nil
}

// decide is authorize plus its audit line: every allow and every deny of
// an access is recorded, and an allow that cannot be recorded becomes a
// deny.
func (b *Broker) decide(a access) (grant, error) { return b.decideWhile(a, nil) }

// decideWhile is decide that, when the access is allowed, runs during
// while the audit line is written and made durable: its fsync is the
// longest wait of an exec, and reading the values granted needs nothing of
// it. The caller releases nothing that during made before decideWhile
// returns, and drops it on an error. The audit key is unsealed first, so
// that the two never use the store at once.
func (b *Broker) decideWhile(a access, during func(grant)) (grant, error) {
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
	var wg sync.WaitGroup
	if _, lerr := b.auditLog(); lerr == nil && during != nil {
		wg.Go(func() { during(g) })
	}
	err = b.record(r, a.caller)
	wg.Wait()
	if err != nil {
		return grant{}, err
	}
	return g, nil
}

// event records a change to the store or to authority (set, mint,
// revoke…); the change is refused when it cannot be recorded, so it must
// be called before the change is made.
func (b *Broker) event(name string, secrets []string, tokenID, reason string, c *Caller) error {
	return b.record(audit.Record{Event: name, Secrets: secrets, TokenID: tokenID, Reason: reason}, c)
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

// AuditVerify checks the whole chain; the error names the first bad line.
func (b *Broker) AuditVerify(c *Caller) (int, error) {
	if err := humanOnly(c, "reads the audit log"); err != nil {
		return 0, err
	}
	log, err := b.auditLog()
	if err != nil {
		return 0, err
	}
	return log.Verify()
}

// AuditQuery selects audit entries, newest last. Limit 0 means all.
type AuditQuery struct {
	Limit   int
	Since   time.Time
	Secret  string
	TokenID string
	Denied  bool
}

func (q AuditQuery) filtered() bool {
	return !q.Since.IsZero() || q.Secret != "" || q.TokenID != "" || q.Denied
}

func (q AuditQuery) match(e audit.Entry) bool {
	switch {
	case !q.Since.IsZero() && e.Time.Before(q.Since):
		return false
	case q.Secret != "" && !slices.Contains(e.Secrets, q.Secret):
		return false
	case q.TokenID != "" && e.TokenID != q.TokenID:
		return false
	case q.Denied && e.Decision != "deny":
		return false
	}
	return true
}

// Audit reads the log. Without filters it reads only the tail.
func (b *Broker) Audit(c *Caller, q AuditQuery) ([]audit.Entry, error) {
	if err := humanOnly(c, "reads the audit log"); err != nil {
		return nil, err
	}
	path := filepath.Join(b.Dir(), AuditFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if !q.filtered() && q.Limit > 0 {
		return audit.ReadTail(path, q.Limit)
	}
	var out []audit.Entry
	err := audit.Scan(path, func(e audit.Entry) error {
		if q.match(e) {
			out = append(out, e)
			if q.Limit > 0 && len(out) > q.Limit {
				out = out[1:]
			}
		}
		return nil
	})
	return out, err
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
