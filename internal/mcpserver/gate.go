package mcpserver

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/llm-secrets/llms/internal/broker"
)

// Gate is the broker as the tools use it: every method is one broker
// operation under the server's one delegated token. Direct mode is
// [Direct]; inside agent mode the same operations travel over the agent's
// broker socket.
type Gate interface {
	// HasToken reports whether the server was given a token at all; the
	// tools refuse, saying what to run, when it was not.
	HasToken() bool
	List(ctx context.Context) ([]string, error)
	Describe(ctx context.Context) (broker.TokenAccess, error)
	Peek(ctx context.Context, name string) (broker.Peek, error)
	// Exec runs a command; stdout and stderr receive redacted output.
	Exec(ctx context.Context, req ExecRequest) (int, error)
	RequestSecret(ctx context.Context, name, reason string) (broker.SecretRequest, error)
	AuditRecent(ctx context.Context, limit int) ([]AuditEntry, error)
}

// ExecRequest is one run_with_secrets call as the gate sees it.
type ExecRequest struct {
	Inject []broker.Injection
	Argv   []string
	Dir    string // "" is the server's working directory
	Stdout io.Writer
	Stderr io.Writer
}

// AuditEntry is one audit line as audit_recent shows it.
type AuditEntry struct {
	Time     string   `json:"time" jsonschema:"when, RFC 3339 UTC"`
	Event    string   `json:"event" jsonschema:"mcp for calls made over MCP"`
	Op       string   `json:"op" jsonschema:"the operation: exec, peek, list, describe, audit, request"`
	Decision string   `json:"decision" jsonschema:"allow, deny, or empty"`
	Reason   string   `json:"reason" jsonschema:"why it was denied"`
	Secrets  []string `json:"secrets" jsonschema:"secret names involved"`
	Program  string   `json:"program" jsonschema:"the program started, for exec"`
	Agent    string   `json:"agent" jsonschema:"the agent that asked"`
	Repo     string   `json:"repo"`
	Branch   string   `json:"branch"`
}

// Direct is the gate in this process. Each call describes the caller
// afresh, as one CLI command does, so a new policy or repository state is
// seen by the next call. Calls may run concurrently (the SDK serves them
// so) and a broker is not safe for concurrent use, so each call takes a
// broker of its own from a small free list, opening one when none is
// free; reusing them keeps what a broker caches (the audit key) warm.
type Direct struct {
	// Open opens the broker on the store.
	Open func() (*broker.Broker, error)

	free chan *broker.Broker
	once sync.Once
	// Caller describes who asks, fresh for each call.
	Caller func() *broker.Caller
	// Environ is the environment children start from (os.Environ).
	Environ func() []string
	// TokenGiven: a token flag, variable or file was given (and is not
	// empty).
	TokenGiven bool
}

// maxIdle brokers are kept for reuse.
const maxIdle = 4

// broker takes a broker for one call; the call gives it back with done.
func (d *Direct) broker() (*broker.Broker, func(), error) {
	d.once.Do(func() { d.free = make(chan *broker.Broker, maxIdle) })
	var b *broker.Broker
	select {
	case b = <-d.free:
	default:
		var err error
		if b, err = d.Open(); err != nil {
			return nil, nil, err
		}
	}
	return b, func() {
		select {
		case d.free <- b:
		default:
		}
	}, nil
}

// HasToken implements Gate.
func (d *Direct) HasToken() bool { return d.TokenGiven }

// List implements Gate.
func (d *Direct) List(context.Context) ([]string, error) {
	b, done, err := d.broker()
	if err != nil {
		return nil, err
	}
	defer done()
	es, err := b.List(false, d.Caller())
	if err != nil {
		return nil, err
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return names, nil
}

// Describe implements Gate.
func (d *Direct) Describe(context.Context) (broker.TokenAccess, error) {
	b, done, err := d.broker()
	if err != nil {
		return broker.TokenAccess{}, err
	}
	defer done()
	return b.DescribeAccess(d.Caller())
}

// Peek implements Gate.
func (d *Direct) Peek(_ context.Context, name string) (broker.Peek, error) {
	b, done, err := d.broker()
	if err != nil {
		return broker.Peek{}, err
	}
	defer done()
	return b.Peek(name, d.Caller())
}

// Exec implements Gate.
func (d *Direct) Exec(ctx context.Context, req ExecRequest) (int, error) {
	env := d.Environ
	if env == nil {
		env = os.Environ
	}
	b, done, err := d.broker()
	if err != nil {
		return 0, err
	}
	defer done()
	return b.Exec(ctx, broker.ExecRequest{
		Caller: d.Caller(), Inject: req.Inject, Argv: req.Argv, Dir: req.Dir,
		Env: env(), Stdout: req.Stdout, Stderr: req.Stderr, Unattended: true,
	})
}

// RequestSecret implements Gate.
func (d *Direct) RequestSecret(_ context.Context, name, reason string) (broker.SecretRequest, error) {
	b, done, err := d.broker()
	if err != nil {
		return broker.SecretRequest{}, err
	}
	defer done()
	return b.RequestSecret(name, reason, d.Caller())
}

// AuditRecent implements Gate.
func (d *Direct) AuditRecent(_ context.Context, limit int) ([]AuditEntry, error) {
	b, done, err := d.broker()
	if err != nil {
		return nil, err
	}
	defer done()
	es, err := b.AuditRecent(limit, d.Caller())
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(es))
	for i, e := range es {
		out[i] = AuditEntry{Time: e.Time.UTC().Format(timeLayout), Event: e.Event, Op: e.Op, Decision: e.Decision,
			Reason: e.Reason, Secrets: nonNil(e.Secrets), Program: e.Program, Agent: e.Agent, Repo: e.Repo, Branch: e.Branch}
	}
	return out, nil
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
