package broker

import (
	"context"

	"github.com/llm-secrets/llms/internal/audit"
)

// Service is what a front end (the CLI's exec, peek and list; the MCP
// server's tools) asks of a broker: *Broker in this process, or inside
// agent mode the launcher's broker across its socket (agentsock.Client).
// Both decide and audit in the broker; both take any writer for an exec's
// output. Implementations serve concurrent calls.
type Service interface {
	List(c *Caller, req ListRequest) (ListResult, error)
	Peek(c *Caller, req PeekRequest) (Peek, error)
	Exec(ctx context.Context, c *Caller, req ExecRequest) (int, error)
	DescribeAccess(c *Caller) (TokenAccess, error)
	RequestSecret(c *Caller, req AskRequest) (SecretRequest, error)
	AuditRecent(c *Caller, req AuditRecentRequest) ([]audit.Entry, error)
}

var _ Service = (*Broker)(nil)
