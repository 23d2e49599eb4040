package audit

import (
	"errors"
	"math"
	"time"
)

// Record is one audited event as the caller describes it. It holds names and
// context, never secret values.
type Record struct {
	// Time is when the event happened; Append uses the current time when it
	// is zero. It is stored in UTC with nanosecond precision.
	Time time.Time `json:"time"`
	// Event names what happened: exec, peek, list, lease, mcp, set, delete,
	// import, mint, session-start, revoke, revoke-all, rotate, scan,
	// policy-error, … (docs/AUDIT.md lists the broker's events).
	Event string `json:"event"`
	// Decision is "allow", "deny", or "" for events that decide nothing.
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	// Secrets are the names of the secrets involved, never their values.
	Secrets []string `json:"secrets"`
	TokenID string   `json:"token"`
	Op      string   `json:"op"`
	Program string   `json:"program"`
	Agent   string   `json:"agent"`
	// User is the caller's login name, and " <git email>" when one is set:
	// what policy user rules match. Omitted from the line when empty.
	User   string `json:"user,omitempty"`
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	// Store is the shared store the decision was about; omitted for the
	// member's own store.
	Store string `json:"store,omitempty"`
	Cwd   string `json:"cwd"`
	PID   int    `json:"pid"`
}

// Entry is a Record as read back from the log, with the sequence number and
// MAC that Append assigned. Its JSON field names are the log's.
type Entry struct {
	Record
	Seq uint64 `json:"seq"`
	// MAC is the line's HMAC-SHA256 in lowercase hex.
	MAC string `json:"mac"`
}

const maxEventLen = 64

// validate checks what both Append and the line parser demand of a record, so
// that everything Append writes parses and everything that parses could have
// been written. Errors name the field, never its contents.
func (r *Record) validate() error {
	if !validEvent(r.Event) {
		return errors.New("event must be 1-64 characters of a-z, 0-9 and '-', starting with a letter")
	}
	switch r.Decision {
	case "", "allow", "deny":
	default:
		return errors.New(`decision must be "allow", "deny" or ""`)
	}
	for _, name := range r.Secrets {
		if name == "" {
			return errors.New("secrets must not contain an empty name")
		}
	}
	if r.PID < 0 || r.PID > math.MaxInt32 {
		return errors.New("pid out of range")
	}
	if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
		return errors.New("time outside years 0000-9999")
	}
	return nil
}

func validEvent(s string) bool {
	if len(s) == 0 || len(s) > maxEventLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
