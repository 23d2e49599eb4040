package agentmode

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
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
