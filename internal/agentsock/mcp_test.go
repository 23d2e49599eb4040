package agentsock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/broker"
)

// The MCP front end's requests travel the socket like the CLI's: the
// broker judges them as the stamped agent, and records them as event mcp.
func TestMCPRequests(t *testing.T) {
	f := newFixture(t)
	cl := &Client{Socket: f.sock}
	mcpCaller := func(token string) *broker.Caller {
		c := f.caller(t, token)
		c.Via = ViaMCP
		return c
	}

	acc, err := cl.DescribeAccess(mcpCaller(f.token))
	if err != nil || len(acc.Scope["secret"]) != 1 || acc.Scope["secret"][0] != "k" || acc.TimeLeft <= 0 {
		t.Fatalf("describe: %+v %v", acc, err)
	}
	r, err := cl.RequestSecret(mcpCaller(f.token), broker.AskRequest{Name: "NEW_KEY", Reason: "the build needs it"})
	if err != nil || r.Name != "NEW_KEY" || r.Agent != "claude-code" {
		t.Fatalf("ask: %+v %v", r, err)
	}
	if _, err := cl.RequestSecret(mcpCaller(f.token), broker.AskRequest{Name: "NEW_KEY", Reason: "bad\x1b[2J"}); !errors.Is(err, broker.ErrBadRequest) {
		t.Errorf("ask with a control character: %v", err)
	}
	// Without a token the MCP front end is refused, stamped agent or not.
	if _, err := cl.DescribeAccess(mcpCaller("")); !errors.Is(err, broker.ErrDenied) || !strings.Contains(err.Error(), "llms profile mint") {
		t.Errorf("describe without a token: %v", err)
	}

	// exec with a directory: it must lie in the caller's repository (here
	// its directory), and the child starts there. A directory outside is
	// a bad request, refused before anything is decided (so not audited).
	c := mcpCaller(f.token)
	sub := filepath.Join(c.Cwd, "sub")
	must(t, os.Mkdir(sub, 0o700))
	out, errOut, read := outputs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := cl.Exec(ctx, c, broker.ExecRequest{Inject: injectK, Argv: []string{"sh", "-c", `echo "$X"; pwd`},
		Env: []string{"PATH=/usr/bin:/bin"}, Dir: sub, ConfineDir: true, Stdout: out, Stderr: errOut})
	stdout, _ := read()
	if real, _ := filepath.EvalSymlinks(sub); err != nil || code != 0 || stdout != "[REDACTED:k]\n"+real+"\n" {
		t.Errorf("exec in a directory: %d %v %q", code, err, stdout)
	}
	_, err = cl.Exec(ctx, mcpCaller(f.token), broker.ExecRequest{Inject: injectK, Argv: []string{"true"},
		Env: []string{"PATH=/usr/bin:/bin"}, Dir: "/", ConfineDir: true, Stdout: out, Stderr: errOut})
	if !errors.Is(err, broker.ErrDenied) || !strings.Contains(err.Error(), "outside") {
		t.Errorf("exec outside the repository: %v", err)
	}

	es, err := cl.AuditRecent(mcpCaller(f.token), broker.AuditRecentRequest{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range es {
		ops = append(ops, e.Event+"/"+e.Op+"/"+e.Decision)
	}
	want := "mint//allow mcp/describe/allow mcp/request/allow mcp/exec/allow mcp/audit/allow"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("audit: %s\nwant   %s", got, want)
	}
}
