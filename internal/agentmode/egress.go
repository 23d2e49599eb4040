package agentmode

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/egress"
	"github.com/llm-secrets/llms/internal/exitstatus"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// What one launch lets the agent reach over the network (docs/adr/0033):
// by default the agent's own API hosts, plus --allow-host's rules and
// presets (and the profile's allow_host); everything else is refused by
// the credential proxy for the requests it relays, and by the supervisor
// for every connect that goes around it. --allow-net opens it all.

// maxAuditedRefusals bounds the egress-refused lines of one session: a
// loop of connects cannot fill the disk.
const maxAuditedRefusals = 64

// network is one launch's egress.
type network struct {
	open bool         // --allow-net
	list *egress.List // the allow-list
	// proxy is the credential proxy's listener, the one address every
	// process of the session may connect to; invalid when none runs.
	proxy netip.AddrPort
}

// agentNetwork reads --allow-host and --allow-net for agent id.
func agentNetwork(opts *Options, id string) (*network, error) {
	switch {
	case opts.NoSandbox && (opts.AllowNet || len(opts.AllowHost) > 0):
		return nil, exitstatus.Usagef("--allow-host and --allow-net need the sandbox: with --no-sandbox the network is open anyway")
	case opts.AllowNet && len(opts.AllowHost) > 0:
		return nil, exitstatus.Usagef("--allow-net and --allow-host contradict each other (--allow-net allows every host)")
	case opts.AllowNet || opts.NoSandbox:
		return &network{open: true}, nil
	}
	list, err := egress.Parse(append(egress.AgentHosts(id), opts.AllowHost...))
	if err != nil {
		return nil, exitstatus.UsageError{Err: err}
	}
	return &network{list: list}, nil
}

// sandboxRules is the sandbox's part: nil when the network is open; else
// Landlock's TCP rule allows the proxy's port alone (none without one).
func (n *network) sandboxRules() *sandbox.NetRules {
	if n.open {
		return nil
	}
	r := &sandbox.NetRules{}
	if n.proxy.IsValid() {
		r.TCPPorts = []uint16{n.proxy.Port()}
	}
	return r
}

// String is the agent-start audit line's part.
func (n *network) String() string {
	if n.open {
		return "network: open (--allow-net)"
	}
	return "network: " + strings.Join(n.list.Rules(), ", ")
}

// notes are what the launch prints about the network (the same at every
// Landlock ABI).
func (n *network) notes() []string {
	if n.open {
		return nil
	}
	first := "the agent reaches " + strings.Join(n.list.Rules(), ", ") + " through the credential proxy; direct connects only to its own servers"
	if direct := n.list.AddressRules(); len(direct) > 0 {
		first += " and " + strings.Join(direct, ", ")
	}
	return append([]string{first}, sandbox.NetOpen()...)
}

// supervise gives the supervisor the launch's egress: refusals are
// audited as egress-refused lines of launch, bounded.
func (n *network) supervise(sup *sandbox.Supervisor, b *broker.Broker, c *broker.Caller, launch *broker.AgentLaunch) *egress.Refusals {
	refusals := egress.NewRefusals(maxAuditedRefusals, func(addr netip.AddrPort, why string) {
		_ = b.AgentEgressRefused(c, *launch, addr.String(), why)
	})
	if n.proxy.IsValid() {
		sup.AllowTCP(n.proxy)
	}
	sup.SetEgress(sandbox.Egress{Open: n.open, List: n.list, Refused: refusals.Refused})
	return refusals
}

// summary is the agent-end line's part: "" when nothing was refused.
func summary(r *egress.Refusals) string {
	if r == nil {
		return ""
	}
	total, reported, unreported := r.Summary()
	if total == 0 {
		return ""
	}
	s := fmt.Sprintf("egress: %d connect(s) refused, to %d destination(s) audited", total, reported)
	if unreported > 0 {
		s += fmt.Sprintf(", %d to destinations past the first %d not audited", unreported, maxAuditedRefusals)
	}
	return s
}
