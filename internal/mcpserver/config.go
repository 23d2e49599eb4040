package mcpserver

import (
	"github.com/llm-secrets/llms/internal/broker"
)

// Config is what the server acts with.
type Config struct {
	// Broker serves the tools, one broker operation per tool: the
	// broker in this process (direct mode) or, inside agent mode, the
	// launcher's across its socket. The SDK calls it concurrently.
	Broker broker.Service
	// Caller describes who asks, afresh for each call, as one CLI
	// command does: a new policy or repository state is seen by the next
	// call. It carries the one token and Via "mcp".
	Caller func() *broker.Caller
	// Environ is the environment children start from.
	Environ func() []string
	// Version is the llms version the server reports.
	Version string
	// HTTP are the bindings of the agent's launch (VAR=SECRET@HOST:PORT),
	// as the launcher described them to the agent; describe_access shows
	// them. Names only: the variables hold placeholders.
	HTTP []string
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

func auditEntry(e broker.AuditEntry) AuditEntry {
	return AuditEntry{Time: e.Time.UTC().Format(timeLayout), Event: e.Event, Op: e.Op, Decision: e.Decision,
		Reason: e.Reason, Secrets: nonNil(e.Secrets), Program: e.Program, Agent: e.Agent, Repo: e.Repo, Branch: e.Branch}
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
