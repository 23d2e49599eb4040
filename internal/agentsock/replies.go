package agentsock

import (
	"time"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/broker"
)

// The replies' results are the protocol's own types, converted here from
// and to the broker's: renaming a field or a JSON tag of the broker's
// types cannot change what docs/AGENT-MODE.md documents (wire_test.go pins
// every frame's encoding).

// DescribeReply is broker.TokenAccess on the wire.
type DescribeReply struct {
	TokenID  string              `json:"token_id"`
	Scope    map[string][]string `json:"scope"`
	Caveats  []CaveatReply       `json:"caveats"`
	Expires  time.Time           `json:"expires"`
	TimeLeft time.Duration       `json:"time_left_ns"`
}

// CaveatReply is broker.CaveatScope on the wire: one list caveat.
type CaveatReply struct {
	Kind  string   `json:"kind"`
	Items []string `json:"items"`
}

// AuditReply is one audit.Entry on the wire: the line as the log holds it.
type AuditReply struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason"`
	Secrets  []string  `json:"secrets"`
	TokenID  string    `json:"token"`
	Op       string    `json:"op"`
	Program  string    `json:"program"`
	Agent    string    `json:"agent"`
	User     string    `json:"user,omitempty"`
	Repo     string    `json:"repo"`
	Branch   string    `json:"branch"`
	Cwd      string    `json:"cwd"`
	PID      int       `json:"pid"`
	Seq      uint64    `json:"seq"`
	MAC      string    `json:"mac"`
}

// AskReply is broker.SecretRequest on the wire: the recorded request.
type AskReply struct {
	Name    string    `json:"name"`
	Reason  string    `json:"reason"`
	Agent   string    `json:"agent"`
	TokenID string    `json:"token"`
	Repo    string    `json:"repo"`
	Branch  string    `json:"branch"`
	Created time.Time `json:"created"`
}

func describeReply(a broker.TokenAccess) *DescribeReply {
	r := &DescribeReply{TokenID: a.TokenID, Scope: a.Scope, Expires: a.Expires, TimeLeft: a.TimeLeft}
	for _, c := range a.Caveats {
		r.Caveats = append(r.Caveats, CaveatReply(c))
	}
	return r
}

func (r *DescribeReply) access() broker.TokenAccess {
	a := broker.TokenAccess{TokenID: r.TokenID, Scope: r.Scope, Expires: r.Expires, TimeLeft: r.TimeLeft}
	for _, c := range r.Caveats {
		a.Caveats = append(a.Caveats, broker.CaveatScope(c))
	}
	return a
}

func auditReply(es []audit.Entry) *[]AuditReply {
	out := make([]AuditReply, len(es))
	for i, e := range es {
		out[i] = AuditReply{Time: e.Time, Event: e.Event, Decision: e.Decision, Reason: e.Reason, Secrets: e.Secrets,
			TokenID: e.TokenID, Op: e.Op, Program: e.Program, Agent: e.Agent, User: e.User, Repo: e.Repo, Branch: e.Branch,
			Cwd: e.Cwd, PID: e.PID, Seq: e.Seq, MAC: e.MAC}
	}
	return &out
}

func auditEntries(rs []AuditReply) []audit.Entry {
	out := make([]audit.Entry, len(rs))
	for i, r := range rs {
		out[i] = audit.Entry{Record: audit.Record{Time: r.Time, Event: r.Event, Decision: r.Decision, Reason: r.Reason,
			Secrets: r.Secrets, TokenID: r.TokenID, Op: r.Op, Program: r.Program, Agent: r.Agent, User: r.User,
			Repo: r.Repo, Branch: r.Branch, Cwd: r.Cwd, PID: r.PID}, Seq: r.Seq, MAC: r.MAC}
	}
	return out
}

func askReply(s broker.SecretRequest) *AskReply {
	return &AskReply{Name: s.Name, Reason: s.Reason, Agent: s.Agent, TokenID: s.TokenID, Repo: s.Repo, Branch: s.Branch, Created: s.Created}
}

func (r *AskReply) request() broker.SecretRequest {
	return broker.SecretRequest{Name: r.Name, Reason: r.Reason, Agent: r.Agent, TokenID: r.TokenID, Repo: r.Repo, Branch: r.Branch, Created: r.Created}
}

// PeekReply is broker.Peek on the wire.
type PeekReply struct {
	Name        string `json:"name"`
	Prefix      string `json:"prefix,omitempty"`
	Length      int    `json:"length"`
	Fingerprint string `json:"fingerprint"`
}

// Entry is one listed name; Updated is set when the request asked for
// times.
type Entry struct {
	Name    string    `json:"name"`
	Updated time.Time `json:"updated,omitzero"`
}

func peekReply(p broker.Peek) *PeekReply {
	return &PeekReply{Name: p.Name, Prefix: p.Prefix, Length: p.Length, Fingerprint: p.Fingerprint}
}

func (r *PeekReply) peek() broker.Peek {
	return broker.Peek{Name: r.Name, Prefix: r.Prefix, Length: r.Length, Fingerprint: r.Fingerprint}
}

func listReply(es []broker.Entry) *[]Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Name: e.Name, Updated: e.Updated}
	}
	return &out
}

func listResult(es []Entry) broker.ListResult {
	out := make([]broker.Entry, len(es))
	for i, e := range es {
		out[i] = broker.Entry{Name: e.Name, Updated: e.Updated}
	}
	return broker.ListResult{Entries: out}
}
