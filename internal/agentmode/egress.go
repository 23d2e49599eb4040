package agentmode

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
	// proxied is what the proxy relays to: the allow-list and the hosts
	// of --http (nil with --allow-net: everything). The supervisor does
	// not use it: a --http host named by address is reached through the
	// proxy only, so that the placeholder cannot go there around it.
	proxied *egress.List
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
	rules := append(egress.AgentHosts(id), opts.AllowHost...)
	list, err := egress.Parse(rules)
	if err != nil {
		return nil, exitstatus.UsageError{Err: err}
	}
	for _, h := range opts.HTTP {
		rules = append(rules, net.JoinHostPort(h.Host, strconv.Itoa(h.Port)))
	}
	proxied, err := egress.Parse(rules)
	if err != nil {
		return nil, exitstatus.UsageError{Err: err}
	}
	return &network{list: list, proxied: proxied}, nil
}

// needsProxy: the proxy runs whenever the network is restricted (it is
// the way to every allowed name), and with --allow-net for --http.
func (n *network) needsProxy(opts *Options) bool { return !n.open || len(opts.HTTP) > 0 }

// proxyRequest is the proxy's part of the launch's egress: what it relays
// to and dials (the allowed hosts and --http's, never an address of this
// host's own for a name), and its refusals bounded with the supervisor's.
func (n *network) proxyRequest(refusals *egress.Refusals) broker.ProxyRequest {
	req := broker.ProxyRequest{Refused: refusals.Admit}
	if !n.open {
		req.Allowed, req.DialAllowed = n.proxied.Allowed, n.proxied.DialAllowed
	}
	return req
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
	first := "the agent reaches " + strings.Join(n.proxied.Rules(), ", ") + " through the credential proxy; direct connects only to its own servers"
	if direct := n.list.AddressRules(); len(direct) > 0 {
		first += " and " + strings.Join(direct, ", ")
	}
	return append([]string{first}, sandbox.NetOpen()...)
}

// refusals bounds the launch's audited refusals: the supervisor's, as
// egress-refused lines of launch, and the proxy's http-refused lines.
func refusals(b *broker.Broker, c *broker.Caller, launch *broker.AgentLaunch) *egress.Refusals {
	return egress.NewRefusals(maxAuditedRefusals, func(addr netip.AddrPort, why string) {
		_ = b.AgentEgressRefused(c, *launch, addr.String(), why)
	})
}

// supervise gives the supervisor the launch's egress.
func (n *network) supervise(sup *sandbox.Supervisor, refusals *egress.Refusals) {
	if n.proxy.IsValid() {
		sup.AllowTCP(n.proxy)
	}
	sup.SetEgress(sandbox.Egress{Open: n.open, List: n.list, Refused: refusals.Refused})
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
	s := fmt.Sprintf("egress: %d connect(s) and proxied request(s) refused, to %d destination(s) audited", total, reported)
	if unreported > 0 {
		s += fmt.Sprintf(", %d to destinations past the first %d not audited", unreported, maxAuditedRefusals)
	}
	return s
}
