package broker

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// event records a change to the store or to authority (set, mint,
// revoke…); the change is refused when it cannot be recorded, so it must
// be called before the change is made.
func (b *Broker) event(name string, secrets []string, tokenID, reason string, c *Caller) error {
	return b.record(audit.Record{Event: name, Secrets: secrets, TokenID: tokenID, Reason: reason}, c)
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
