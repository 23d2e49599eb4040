package agentmode

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/egress"
)

// A launch allows the agent's own API hosts and --allow-host's rules;
// Landlock's TCP rule names the proxy's port alone; --allow-net opens it
// all, and says so.
func TestAgentNetwork(t *testing.T) {
	n, err := agentNetwork(&Options{AllowHost: []string{"@npm", "127.0.0.2:5432"}}, "claude-code")
	if err != nil {
		t.Fatal(err)
	}
	rules := n.list.Rules()
	for _, want := range []string{"api.anthropic.com:443", "registry.npmjs.org:443", "127.0.0.2:5432"} {
		if !slices.Contains(rules, want) {
			t.Errorf("rules %q lack %s", rules, want)
		}
	}
	if r := n.sandboxRules(); r == nil || len(r.TCPPorts) != 0 {
		t.Errorf("without a proxy, Landlock's rule allows %+v", r)
	}
	n.proxy = netip.MustParseAddrPort("127.0.0.1:40001")
	if r := n.sandboxRules(); r == nil || !slices.Equal(r.TCPPorts, []uint16{40001}) {
		t.Errorf("Landlock's rule allows %+v, want the proxy's port", r)
	}
	if s := n.String(); !strings.HasPrefix(s, "network: api.anthropic.com:443") || !strings.Contains(s, "127.0.0.2:5432") {
		t.Errorf("audit part %q", s)
	}
	notes := n.notes()
	if len(notes) < 3 || !strings.Contains(notes[0], "direct connects only to its own servers and 127.0.0.2:5432") ||
		!strings.Contains(strings.Join(notes, "\n"), "programs llms runs for the agent (llms exec, run_with_secrets) connect only where the agent may") {
		t.Errorf("notes: %q", notes)
	}

	open, err := agentNetwork(&Options{AllowNet: true}, "codex")
	if err != nil {
		t.Fatal(err)
	}
	if open.sandboxRules() != nil || open.String() != "network: open (--allow-net)" || open.notes() != nil {
		t.Errorf("--allow-net: rules %+v, %q, notes %q", open.sandboxRules(), open.String(), open.notes())
	}
}

// The proxy relays to the allow-list and --http's hosts; the supervisor's
// list holds no --http host, so that a bound host named by address is not
// reached around the proxy.
func TestAgentNetworkProxied(t *testing.T) {
	opts := &Options{AllowHost: []string{"example.com"}, HTTP: []broker.HTTPBinding{{Var: "K", Secret: "K", Host: "127.0.0.3", Port: 8443}}}
	n, err := agentNetwork(opts, "claude-code")
	if err != nil {
		t.Fatal(err)
	}
	if !n.needsProxy(opts) {
		t.Error("a restricted network runs no proxy")
	}
	req := n.proxyRequest(egress.NewRefusals(1, func(netip.AddrPort, string) {}))
	if req.Allowed == nil || !req.Allowed("127.0.0.3", 8443) || !req.Allowed("example.com", 443) || req.Allowed("example.org", 443) {
		t.Error("the proxy's egress is not the allow-list with --http's hosts")
	}
	if req.DialAllowed("example.com", netip.MustParseAddr("127.0.0.1"), 443) || !req.DialAllowed("example.com", netip.MustParseAddr("93.184.215.14"), 443) {
		t.Error("the proxy's dial does not refuse a name rebound to this host")
	}
	if n.list.AllowedAddr(netip.MustParseAddrPort("127.0.0.3:8443")) {
		t.Error("the supervisor allows the --http host directly")
	}
	if first := n.notes()[0]; !strings.Contains(first, "127.0.0.3:8443 through the credential proxy; direct connects only to its own servers") ||
		strings.Contains(first, "servers and") {
		t.Errorf("the launch note %q does not say the --http host is reached through the proxy only", first)
	}
	open, _ := agentNetwork(&Options{AllowNet: true}, "claude-code")
	if open.needsProxy(&Options{AllowNet: true}) || !open.needsProxy(opts) || open.proxyRequest(nil).Allowed != nil {
		t.Error("--allow-net: a proxy without --http, or an egress decision")
	}
}
