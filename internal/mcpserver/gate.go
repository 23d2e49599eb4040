package mcpserver

import (
	"context"
	"io"
	"os"

	"github.com/llm-secrets/llms/internal/broker"
)

// Gate is the broker as the tools use it: every method is one broker
// operation under the server's one delegated token. Direct mode is
// [Direct]; inside agent mode the same operations travel over the agent's
// broker socket.
type Gate interface {
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

// Direct is the gate in this process: one broker, which serves
// concurrent calls (the SDK serves them so), and a caller described afresh
// for each call, as one CLI command does, so that a new policy or
// repository state is seen by the next call.
type Direct struct {
	Broker *broker.Broker
	// Caller describes who asks, fresh for each call.
	Caller func() *broker.Caller
	// Environ is the environment children start from (os.Environ).
	Environ func() []string
}

// List implements Gate.
func (d *Direct) List(context.Context) ([]string, error) {
	es, err := d.Broker.List(false, d.Caller())
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
	return d.Broker.DescribeAccess(d.Caller())
}

// Peek implements Gate.
func (d *Direct) Peek(_ context.Context, name string) (broker.Peek, error) {
	return d.Broker.Peek(name, d.Caller())
}

// Exec implements Gate.
func (d *Direct) Exec(ctx context.Context, req ExecRequest) (int, error) {
	env := d.Environ
	if env == nil {
		env = os.Environ
	}
	return d.Broker.Exec(ctx, broker.ExecRequest{
		Caller: d.Caller(), Inject: req.Inject, Argv: req.Argv, Dir: req.Dir,
		Env: env(), Stdout: req.Stdout, Stderr: req.Stderr, Unattended: true, ConfineDir: true,
	})
}

// RequestSecret implements Gate.
func (d *Direct) RequestSecret(_ context.Context, name, reason string) (broker.SecretRequest, error) {
	return d.Broker.RequestSecret(name, reason, d.Caller())
}

// AuditRecent implements Gate.
func (d *Direct) AuditRecent(_ context.Context, limit int) ([]AuditEntry, error) {
	es, err := d.Broker.AuditRecent(limit, d.Caller())
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
