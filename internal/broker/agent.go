package broker

import (
	"fmt"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/audit"
)

// AgentLaunch describes an agent-mode launch for the audit log.
type AgentLaunch struct {
	Agent   string // the agent id the launcher stamps
	Program string // the agent's resolved path
	TokenID string // the agent's token, "" when it has none
	// Sandbox says how the agent is confined, e.g. "landlock abi 7", or
	// "none (--no-sandbox)".
	Sandbox string
}

// AgentStart records that the human starts an agent in agent mode. Only
// the human may (an agent cannot launch agents), and nothing may start
// unrecorded: an error means the launch must not happen.
func (b *Broker) AgentStart(c *Caller, l AgentLaunch) error {
	r := audit.Record{Event: "agent-start", Agent: l.Agent, Program: l.Program, TokenID: l.TokenID, Reason: "sandbox: " + l.Sandbox}
	if err := humanOnly(c, "launches agents"); err != nil {
		return b.refuse(r, err, c)
	}
	r.Decision = "allow"
	return b.record(r, c)
}

// AgentEndRequest is how an agent-mode session ended: its launch, the
// agent's exit status, and what its network egress came to ("" to say
// nothing).
type AgentEndRequest struct {
	Launch     AgentLaunch
	ExitStatus int
	Egress     string
}

// AgentEnd records how an agent-mode session ended.
func (b *Broker) AgentEnd(c *Caller, req AgentEndRequest) error {
	l := req.Launch
	reason := fmt.Sprintf("exit %d", req.ExitStatus)
	if req.Egress != "" {
		reason += "; " + req.Egress
	}
	return b.record(audit.Record{Event: "agent-end", Agent: l.Agent, Program: l.Program, TokenID: l.TokenID, Reason: reason}, c)
}

// AgentEgressRefused records a connection agent mode refused the agent
// of launch l: where to (an address and port, or a host and port) and why.
// The caller bounds how many it records; no value is ever in either.
func (b *Broker) AgentEgressRefused(c *Caller, l AgentLaunch, dest, why string) error {
	return b.record(audit.Record{Event: "egress-refused", Decision: "deny", Agent: l.Agent, Program: l.Program, TokenID: l.TokenID, Reason: dest + ": " + why}, c)
}

// AgentForProgram is the agent id a program of this name runs as, for a
// launcher that must stamp the agent it starts.
func AgentForProgram(path string) (string, bool) { return agentid.ForProgram(path) }

// CanonicalAgent is the canonical id of an agent id or alias ("claude" is
// "claude-code"); an unknown name is an error listing the known ones.
func CanonicalAgent(name string) (string, error) { return agentid.Canonical(name) }
