package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/llm-secrets/llms/"

// allowed lists, for each package, the internal packages it may import
// (non-test code). A package missing here fails the test, so a new package
// must state its place in the graph.
var allowed = map[string][]string{
	"cmd/llms": {"internal/cli", "internal/sandbox"},
	// llms-mcp is the MCP server's own program, so that llms links no MCP
	// SDK (docs/adr/0036); mcpmain joins the CLI's mcp command to it.
	"cmd/llms-mcp":       {"internal/cli", "internal/mcpmain"},
	"internal/mcpmain":   {"internal/cli", "internal/mcpserver"},
	"internal/cli":       {"internal/agentmode", "internal/agentsock", "internal/broker", "internal/caveat", "internal/cfgedit", "internal/dotenv", "internal/durable", "internal/exitstatus", "internal/gitrun", "internal/human", "internal/leakscan", "internal/profile", "internal/sandbox", "internal/setup", "internal/userdb", "internal/repoconf", "internal/teamsync"},
	"internal/agentmode": {"internal/agentsock", "internal/broker", "internal/caveat", "internal/egress", "internal/exitstatus", "internal/human", "internal/sandbox"},
	"internal/setup":     {"internal/agentsock", "internal/broker", "internal/cfgedit", "internal/durable", "internal/exitstatus", "internal/human"},
	"internal/cfgedit":   {},
	// What a person reads and the status llms exits with: below every
	// command package, importing nothing of llms.
	"internal/human":      {},
	"internal/exitstatus": {},
	"internal/mcpserver":  {"internal/broker"},
	"internal/sandbox":    {"internal/supervise", "internal/egress"},
	"internal/egress":     {},
	"internal/supervise":  {},
	"internal/profile":    {"internal/caveat", "internal/names", "internal/agentid", "internal/smallfile", "internal/egress"},
	"internal/names":      {},
	"internal/broker":     {"internal/store", "internal/runner", "internal/redact", "internal/macaroon", "internal/caveat", "internal/policy", "internal/audit", "internal/gitctx", "internal/agentid", "internal/names", "internal/v3store", "internal/userdb", "internal/leakscan", "internal/pinned", "internal/credproxy"},
	"internal/pinned":     {},
	"internal/store":      {"internal/names", "internal/durable", "internal/agefile"},
	"internal/runner":     {},
	"internal/agentsock":  {"internal/audit", "internal/broker", "internal/runner", "internal/agentid"},
	"internal/redact":     {},
	"internal/dotenv":     {},
	"internal/macaroon":   {},
	"internal/caveat":     {"internal/names", "internal/agentid"},
	"internal/policy":     {"internal/names", "internal/agentid", "internal/smallfile"},
	"internal/audit":      {"internal/durable"},
	"internal/durable":    {},
	"internal/gitctx":     {"internal/smallfile"},
	"internal/smallfile":  {},
	"internal/agentid":    {},
	"internal/userdb":     {},
	"internal/v3store":    {"internal/durable"},
	"internal/leakscan":   {"internal/gitrun", "internal/smallfile"},
	"internal/gitrun":     {"internal/sandbox"},
	"internal/archtest":   {},
	// The age header and its re-wrap: age's API only, no llms package.
	"internal/agefile": {},
	// Test support (the age test vectors, the age CLI): imported by tests
	// only, so by no package here.
	"internal/agevectors": {},
	// The credential proxy sits below the broker, like the runner: the
	// broker authorizes each binding, reads its value and hands it to
	// the proxy; the proxy reads no store and decides no access. It masks
	// answers with the same redactor as exec output.
	"internal/credproxy": {"internal/redact"},
	// Certificate authorities for tests of the proxy; tests import it.
	"internal/testca": {},
	// The shared store's .llm-secrets.toml and its trust: nothing of llms.
	"internal/repoconf": {},
	// llms sync: git through gitrun's Writer; it never opens the store
	// (the CLI hands it the broker's member merge, re-encryption and
	// comparison of two values).
	"internal/teamsync": {"internal/gitrun", "internal/durable"},
	// The end-to-end stage drives the built binary from outside: it
	// imports nothing of llms.
	"e2e":              {},
	"e2e/providermock": {},
}

func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	used := map[string]bool{} // "pkg -> imp"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the allowed import graph; add it with the imports it may have", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			rel, internal := strings.CutPrefix(imp, module)
			if !internal {
				continue
			}
			used[pkg+" -> "+rel] = true
			if !slices.Contains(ok, rel) {
				t.Errorf("%s imports %s, which the one-way flow forbids", pkg, rel)
			}
		}
	}
	for pkg, imps := range allowed {
		for _, imp := range imps {
			if !used[pkg+" -> "+imp] {
				t.Errorf("the table allows %s to import %s, but it does not: remove the entry so the table describes the code", pkg, imp)
			}
		}
	}
}

// heavyForLLMS are packages the llms binary must not link: Go runs the
// initialiser of every linked package at every start, and these cost more
// than a command that does not use them can afford (docs/adr/0036). The MCP
// SDK, and through it encoding/gob and a JSON-schema library, live in
// llms-mcp. net/http is linked, for the credential proxy below the broker;
// ADR 36 says what it costs.
var heavyForLLMS = []string{
	"github.com/modelcontextprotocol/go-sdk/mcp",
	"github.com/google/jsonschema-go/jsonschema",
	"encoding/gob",
}

func TestLLMSLinksNoHeavyPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"cmd/llms").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, p := range heavyForLLMS {
		if slices.Contains(deps, p) {
			t.Errorf("cmd/llms links %s, whose initialisers every command would pay; keep it in a program of its own, as llms-mcp (docs/adr/0036)", p)
		}
	}
}
