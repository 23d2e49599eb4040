package mcpserver_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/mcpserver"
)

// fixture is a store with secrets, a live session, and a canary value
// that must never appear in anything a client receives.
type fixture struct {
	t      testing.TB
	b      *broker.Broker
	work   string // the server's working directory (a git repository)
	canary string
	forms  []string
	seen   strings.Builder // every result a client received, as JSON
	mu     sync.Mutex
	http   []string // the launch's bindings the server is told of
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	if err := broker.Init(dir); err != nil {
		t.Fatal(err)
	}
	b, err := broker.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 12)
	rand.Read(raw)
	f := &fixture{t: t, b: b, work: filepath.Join(root, "work"), canary: "canary-" + hex.EncodeToString(raw)}
	f.forms = []string{f.canary, base64.StdEncoding.EncodeToString([]byte(f.canary)),
		base64.RawURLEncoding.EncodeToString([]byte(f.canary)), hex.EncodeToString([]byte(f.canary)), url.QueryEscape(f.canary)}
	if err := os.MkdirAll(filepath.Join(f.work, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	git := exec.Command("git", "init", "-q", "-b", "main", f.work)
	if out, err := git.CombinedOutput(); err != nil {
		t.Skipf("git: %v %s", err, out)
	}
	human := f.caller("", nil)
	for name, value := range map[string]string{"A": f.canary, "B": "value-of-B-1234", "C": "value-of-C-1234"} {
		if _, err := b.Set(human, broker.SetRequest{Name: name, Value: []byte(value)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.StartSession(human, broker.SessionRequest{TTL: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.checkNoLeak)
	return f
}

// caller is someone in the fixture's repository, with no process tree and
// the given environment.
func (f *fixture) caller(token string, env map[string]string) *broker.Caller {
	procRoot := filepath.Join(filepath.Dir(f.work), "proc")
	if err := os.MkdirAll(procRoot, 0o700); err != nil {
		f.t.Fatal(err)
	}
	return &broker.Caller{Token: token, TokenGiven: token != "", Cwd: f.work, ProcRoot: procRoot,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// mint delegates a token under the session.
func (f *fixture) mint(ttl time.Duration, lists map[string][]string) string {
	f.t.Helper()
	minted, err := f.b.Mint(f.caller("", nil), broker.Restrictions{TTL: ttl, Lists: lists})
	if err != nil {
		f.t.Fatal(err)
	}
	return minted.Token
}

var agentEnv = map[string]string{"CLAUDECODE": "1"}

// connect starts a server under token (as Claude Code would) and a go-sdk
// client connected to it in memory.
func (f *fixture) connect(token string) *mcp.ClientSession {
	f.t.Helper()
	return f.connectAs(token, agentEnv)
}

// connectAs is connect with the environment the server sees (nil: no
// agent marker at all).
func (f *fixture) connectAs(token string, env map[string]string) *mcp.ClientSession {
	f.t.Helper()
	c := f.caller(token, env)
	c.Via = "mcp"
	s := mcpserver.New(mcpserver.Config{Broker: f.b, Caller: c.Fresh, Version: "test", HTTP: f.http,
		Environ: func() []string { return []string{"PATH=" + os.Getenv("PATH")} }})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { cs.Close(); ss.Close() })
	return cs
}

// call calls a tool and returns its result, recording it for the leak
// check. It does not stop the test, so goroutines may call it.
func (f *fixture) call(cs *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, error) {
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, fmt.Errorf("%s: protocol error %v", name, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("%s: the result does not encode: %v", name, err)
	}
	f.mu.Lock()
	f.seen.Write(b)
	f.mu.Unlock()
	return res, nil
}

// tryOK calls a tool that must succeed and decodes its structured output
// into out. Like call, it does not stop the test.
func (f *fixture) tryOK(cs *mcp.ClientSession, name string, args any, out any) error {
	res, err := f.call(cs, name, args)
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("%s(%v): error %s", name, args, text(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		return fmt.Errorf("%s: structured output %s: %v", name, b, err)
	}
	return nil
}

// ok is tryOK that stops the test on failure.
func (f *fixture) ok(cs *mcp.ClientSession, name string, args any, out any) {
	f.t.Helper()
	if err := f.tryOK(cs, name, args, out); err != nil {
		f.t.Fatal(err)
	}
}

// refused calls a tool that must fail with an error naming want.
func (f *fixture) refused(cs *mcp.ClientSession, name string, args any, want string) {
	f.t.Helper()
	res, err := f.call(cs, name, args)
	if err != nil {
		f.t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), want) {
		f.t.Fatalf("%s(%v): want an error containing %q, got error=%v %s", name, args, want, res.IsError, text(res))
	}
}

func text(res *mcp.CallToolResult) string {
	var s []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			s = append(s, t.Text)
		}
	}
	return strings.Join(s, "\n")
}

func (f *fixture) checkNoLeak() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, form := range f.forms {
		if strings.Contains(f.seen.String(), form) {
			f.t.Errorf("a client received the canary (form %q)", form)
		}
	}
}

var allTools = []string{"audit_recent", "describe_access", "list_secrets", "peek_secret", "request_secret", "run_with_secrets"}

func TestToolsAreListedWithSchemas(t *testing.T) {
	f := newFixture(t)
	cs := f.connect("")
	init := cs.InitializeResult()
	if !strings.Contains(init.Instructions, "No tool returns a secret value") {
		t.Errorf("instructions: %q", init.Instructions)
	}
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema == nil || tool.OutputSchema == nil || tool.Description == "" {
			t.Errorf("%s: missing input schema, output schema or description", tool.Name)
		}
		in, err := json.Marshal(tool.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(in), `"additionalProperties":false`) {
			t.Errorf("%s: input schema allows unknown arguments: %s", tool.Name, in)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, allTools) {
		t.Errorf("tools %v, want %v", names, allTools)
	}
}

func TestWithoutTokenEveryToolSaysWhatToRun(t *testing.T) {
	f := newFixture(t)
	cs := f.connect("")
	args := map[string]any{
		"list_secrets": map[string]any{}, "describe_access": map[string]any{}, "audit_recent": map[string]any{},
		"peek_secret": map[string]any{"name": "A"}, "request_secret": map[string]any{"name": "N", "reason": "r"},
		"run_with_secrets": map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "A"}},
	}
	for _, name := range allTools {
		f.refused(cs, name, args[name], "llms profile mint")
	}
	// Where no agent is detected the server still never acts as the
	// human.
	human := f.connectAs("", nil)
	for _, name := range allTools {
		f.refused(human, name, args[name], "mcp acts only under a delegated token")
	}
}

func TestSessionTokenIsRefused(t *testing.T) {
	f := newFixture(t)
	sess, err := f.b.CurrentSession()
	if err != nil {
		t.Fatal(err)
	}
	cs := f.connect(sess.Token)
	f.refused(cs, "list_secrets", map[string]any{}, "names no secret")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "A"}}, "names no secret")
	f.refused(cs, "describe_access", map[string]any{}, "names no secret")
}

func TestListDescribePeek(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A", "B", "MISSING"}, "branch": {"main"}})
	cs := f.connect(tok)

	var list mcpserver.ListOutput
	f.ok(cs, "list_secrets", map[string]any{}, &list)
	if !slices.Equal(list.Secrets, []string{"A", "B"}) {
		t.Errorf("list_secrets = %v, want [A B] (allowed and existing)", list.Secrets)
	}

	var d mcpserver.DescribeOutput
	f.ok(cs, "describe_access", map[string]any{}, &d)
	if !slices.Equal(d.Secrets, []string{"A", "B", "MISSING"}) || !slices.Equal(d.Branches, []string{"main"}) ||
		len(d.Programs) != 0 || !slices.Equal(d.Ops, []string{"exec", "peek", "list"}) {
		t.Errorf("describe_access = %+v", d)
	}
	if d.TimeLeftSeconds < 3500 || d.TimeLeftSeconds > 3600 || d.TokenID == "" || d.Expires == "" {
		t.Errorf("describe_access time: %+v", d)
	}

	var p mcpserver.PeekOutput
	f.ok(cs, "peek_secret", map[string]any{"name": "A"}, &p)
	if p.Length != len(f.canary) || p.Prefix != "cana" || len(p.Fingerprint) != 8 {
		t.Errorf("peek_secret = %+v", p)
	}
	f.refused(cs, "peek_secret", map[string]any{"name": "C"}, `secret "C" is not allowed`)
	f.refused(cs, "peek_secret", map[string]any{"name": "../etc"}, "bad request")
}

func TestRunWithSecretsRedacts(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A", "B"}, "cmd": {"sh", "true", "printf"}})
	cs := f.connect(tok)

	var out mcpserver.RunOutput
	f.ok(cs, "run_with_secrets", map[string]any{
		"argv":   []string{"sh", "-c", `echo "$X"; printf %s "$X" | base64; printf %s "$X" | od -An -tx1 | tr -d ' \n'; echo; echo err >&2; exit 3`},
		"inject": map[string]string{"X": "A"},
	}, &out)
	if out.ExitCode != 3 || !strings.Contains(out.Stdout, "[REDACTED:A]") || out.Stderr != "err\n" || out.TimedOut {
		t.Errorf("run: %+v", out)
	}
	// The child does not get the token.
	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"sh", "-c", `echo "tok=${LLM_SECRETS_MACAROON:-none}"`}, "inject": map[string]string{"B": "B"}}, &out)
	if out.Stdout != "tok=none\n" {
		t.Errorf("the child sees the token variable: %q", out.Stdout)
	}

	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"env"}, "inject": map[string]string{"X": "A"}}, "program")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "C"}}, `secret "C" is not allowed`)
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"no-such-program-xyz"}}, "cannot run the command")
}

func TestRunBounds(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A"}})
	cs := f.connect(tok)
	a := map[string]string{"X": "A"}

	var out mcpserver.RunOutput
	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"}, "max_output_bytes": 10, "inject": a}, &out)
	if out.Stdout != "xxxxxxxxxx" || !out.StdoutTruncated {
		t.Errorf("truncation: %q truncated=%v", out.Stdout, out.StdoutTruncated)
	}
	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"printf", `a\377\376b`}, "inject": a}, &out)
	if out.Stdout != "a\uFFFDb" {
		t.Errorf("non-UTF-8 output: %q", out.Stdout)
	}
	start := time.Now()
	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"sleep", "30"}, "timeout_seconds": 1, "inject": a}, &out)
	if !out.TimedOut || time.Since(start) > 10*time.Second {
		t.Errorf("timeout: %+v after %s", out, time.Since(start))
	}
	// A grandchild that keeps the output open does not hold the call.
	start = time.Now()
	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"sh", "-c", "sleep 30 & echo started; wait"}, "timeout_seconds": 1, "inject": a}, &out)
	if !out.TimedOut || out.Stdout != "started\n" || time.Since(start) > 10*time.Second {
		t.Errorf("grandchild: %+v after %s", out, time.Since(start))
	}

	f.ok(cs, "run_with_secrets", map[string]any{"argv": []string{"pwd"}, "cwd": "sub", "inject": a}, &out)
	if got, err := filepath.EvalSymlinks(filepath.Join(f.work, "sub")); err != nil || out.Stdout != got+"\n" {
		t.Errorf("cwd: %q, want %q (%v)", out.Stdout, got, err)
	}
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"pwd"}, "cwd": "/"}, "outside")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"pwd"}, "cwd": "../.."}, "outside")
	if err := os.Symlink("/", filepath.Join(f.work, "out")); err != nil {
		t.Fatal(err)
	}
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"pwd"}, "cwd": "out"}, "outside")

	huge := make([]string, 5000)
	for i := range huge {
		huge[i] = "x"
	}
	f.refused(cs, "run_with_secrets", map[string]any{"argv": huge}, "argv")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true", strings.Repeat("y", 200<<10)}}, "bytes")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{}}, "argv")
	f.refused(cs, "run_with_secrets", map[string]any{}, "argv")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "shell": true}, "shell")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": "true"}, "argv")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "timeout_seconds": 100000}, "timeout_seconds")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "inject": map[string]string{"1X": "A"}}, "not a valid environment variable")
	f.refused(cs, "peek_secret", map[string]any{}, "name")
	f.refused(cs, "list_secrets", map[string]any{"all": true}, "all")

	// Protocol-level: an unknown tool is a JSON-RPC error, and the
	// server keeps serving.
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_secret", Arguments: map[string]any{"name": "A"}}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Errorf("unknown tool: %v", err)
	}
	var list mcpserver.ListOutput
	f.ok(cs, "list_secrets", map[string]any{}, &list)
}

func TestTokenEndsMidSession(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(2*time.Second, map[string][]string{"secret": {"A"}})
	cs := f.connect(tok)
	var list mcpserver.ListOutput
	f.ok(cs, "list_secrets", map[string]any{}, &list)
	time.Sleep(2100 * time.Millisecond)
	f.refused(cs, "list_secrets", map[string]any{}, "expired")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "A"}}, "expired")

	tok2 := f.mint(time.Hour, map[string][]string{"secret": {"A"}})
	cs2 := f.connect(tok2)
	f.ok(cs2, "list_secrets", map[string]any{}, &list)
	info, err := broker.Inspect(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Revoke(f.caller("", nil), broker.RevokeRequest{ID: info.ID}); err != nil {
		t.Fatal(err)
	}
	f.refused(cs2, "list_secrets", map[string]any{}, "revoked")
	f.refused(cs2, "describe_access", map[string]any{}, "revoked")
}

func TestRequestSecret(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A", "NEW_KEY"}})
	cs := f.connect(tok)
	var r mcpserver.RequestOutput
	f.ok(cs, "request_secret", map[string]any{"name": "NEW_KEY", "reason": "the deploy step needs the registry password"}, &r)
	if r.Command != "llms set NEW_KEY" || r.Status != "pending" {
		t.Errorf("request_secret = %+v", r)
	}
	f.refused(cs, "request_secret", map[string]any{"name": "A", "reason": "x"}, "exists and your token allows it")
	f.refused(cs, "request_secret", map[string]any{"name": "X", "reason": "a\x1b[2Jb"}, "control")
	f.refused(cs, "request_secret", map[string]any{"name": "X", "reason": "a\u202eb"}, "control")
	f.refused(cs, "request_secret", map[string]any{"name": "X", "reason": strings.Repeat("r", 301)}, "longer")
	f.refused(cs, "request_secret", map[string]any{"name": "X"}, "reason")
	f.refused(cs, "request_secret", map[string]any{"name": "a b", "reason": "r"}, "bad request")
	// C exists but the token does not allow it: the request is recorded,
	// so the agent does not learn that it exists.
	f.ok(cs, "request_secret", map[string]any{"name": "C", "reason": "need it"}, &r)

	human := f.caller("", nil)
	list, err := f.b.Requests(human)
	if err != nil || len(list) != 2 || list[0].Name != "NEW_KEY" || list[0].Agent != "claude-code" || list[0].Exists || !list[1].Exists {
		t.Fatalf("requests: %+v %v", list, err)
	}
	if _, err := f.b.Requests(f.caller("", agentEnv)); err == nil {
		t.Error("an agent read the requests")
	}
	if _, err := f.b.Set(human, broker.SetRequest{Name: "NEW_KEY", Value: []byte("the-new-value-123")}); err != nil {
		t.Fatal(err)
	}
	list, err = f.b.Requests(human)
	if err != nil || len(list) != 1 || list[0].Name != "C" {
		t.Errorf("set did not fulfil the request: %+v %v", list, err)
	}
}

func TestAuditRecentShowsOnlyThisToken(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A"}})
	other := f.mint(time.Hour, map[string][]string{"secret": {"B"}})
	cs, cs2 := f.connect(tok), f.connect(other)
	var p mcpserver.PeekOutput
	f.ok(cs, "peek_secret", map[string]any{"name": "A"}, &p)
	f.refused(cs, "peek_secret", map[string]any{"name": "B"}, "not allowed")
	f.ok(cs2, "peek_secret", map[string]any{"name": "B"}, &p)

	var a mcpserver.AuditOutput
	f.ok(cs, "audit_recent", map[string]any{"limit": 10}, &a)
	info, err := broker.Inspect(tok)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range a.Entries {
		ops = append(ops, e.Event+"/"+e.Op+"/"+e.Decision)
		if slices.Contains(e.Secrets, "B") && e.Decision == "allow" {
			t.Errorf("another token's entry: %+v", e)
		}
	}
	want := []string{"mint/" + "/allow", "mcp/peek/allow", "mcp/peek/deny", "mcp/audit/allow"}
	if !slices.Equal(ops, want) {
		t.Errorf("audit_recent for %s: %v, want %v", info.ID, ops, want)
	}
	f.refused(cs, "audit_recent", map[string]any{"limit": 1000}, "between 1 and 200")
}

// TestConcurrentCalls: the SDK serves calls concurrently; each gets a
// broker of its own (run with -race).
func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A", "B"}})
	cs := f.connect(tok)
	var wg sync.WaitGroup
	for i := range 6 {
		// Only t.Error is safe here: t.Fatal would stop this goroutine, not the test.
		wg.Go(func() {
			for range 3 {
				var err error
				switch i % 3 {
				case 0:
					var l mcpserver.ListOutput
					err = f.tryOK(cs, "list_secrets", map[string]any{}, &l)
				case 1:
					var p mcpserver.PeekOutput
					err = f.tryOK(cs, "peek_secret", map[string]any{"name": "B"}, &p)
				default:
					var o mcpserver.RunOutput
					err = f.tryOK(cs, "run_with_secrets", map[string]any{"argv": []string{"sh", "-c", "echo $X"}, "inject": map[string]string{"X": "A"}}, &o)
					if err == nil && o.Stdout != "[REDACTED:A]\n" {
						err = fmt.Errorf("run: %q", o.Stdout)
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDocsListEverySchemaField: docs/MCP.md has a section per tool naming
// every field of its input and output schemas, so the page cannot fall
// behind the code.
func TestDocsListEverySchemaField(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "MCP.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	for _, part := range strings.Split(string(doc), "\n### `")[1:] {
		name, body, _ := strings.Cut(part, "`")
		sections[name] = body
	}
	f := newFixture(t)
	res, err := f.connect("").ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		body, ok := sections[tool.Name]
		if !ok {
			t.Errorf("docs/MCP.md has no section for %s", tool.Name)
			continue
		}
		for _, schema := range []any{tool.InputSchema, tool.OutputSchema} {
			b, err := json.Marshal(schema)
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Properties map[string]struct {
					Items struct {
						Properties map[string]any
					}
				}
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("%s: schema %s: %v", tool.Name, b, err)
			}
			for field, p := range s.Properties {
				if !strings.Contains(body, "`"+field+"`") {
					t.Errorf("docs/MCP.md, %s: field %s is not described", tool.Name, field)
				}
				for nested := range p.Items.Properties {
					if !strings.Contains(body, "`"+nested+"`") {
						t.Errorf("docs/MCP.md, %s: field %s.%s is not described", tool.Name, field, nested)
					}
				}
			}
		}
	}
}

// run_with_secrets binds a secret to a host: the command holds a
// placeholder, the bound server receives the value, and the output carries
// the server's echo redacted; describe_access shows the launch's bindings.
func TestRunWithSecretsHTTP(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed (.ci/run installs it)")
		}
		t.Skip("curl is not installed")
	}
	f := newFixture(t)
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "echo: "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	f.http = []string{"API_KEY=A@api.example.com:443"}
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A", "B"}, "cmd": {"sh"}})
	cs := f.connect(tok)

	var out mcpserver.RunOutput
	f.ok(cs, "run_with_secrets", map[string]any{
		"argv": []string{"sh", "-c", `echo "holds=$K"; curl -sS -H "Authorization: Bearer $K" ` + srv.URL},
		"http": map[string]string{"K": "A@" + host},
	}, &out)
	mu.Lock()
	if len(got) != 1 || got[0] != "Bearer "+f.canary {
		t.Errorf("the bound server saw %q", got)
	}
	mu.Unlock()
	if !strings.Contains(out.Stdout, "holds=llms-placeholder-A-") || !strings.Contains(out.Stdout, "echo: Bearer [REDACTED:A]") {
		t.Errorf("run: %+v", out)
	}

	var d mcpserver.DescribeOutput
	f.ok(cs, "describe_access", map[string]any{}, &d)
	if !slices.Equal(d.HTTP, []string{"API_KEY=A@api.example.com:443"}) {
		t.Errorf("describe_access http = %v", d.HTTP)
	}

	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"sh"}, "http": map[string]string{"K": "C@" + host}}, `secret "C" is not allowed`)
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"sh"}, "http": map[string]string{"K": "A"}}, "want VAR=KEY@HOST")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"sh"}, "http": map[string]string{"K": "A@" + host}, "http_body": []string{"J"}}, "http_body")
	f.refused(cs, "run_with_secrets", map[string]any{"argv": []string{"sh"}, "http": map[string]string{"K": "A@" + host}, "inject": map[string]string{"K": "B"}}, "given twice")
}
