package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mcpClientDir holds the official MCP TypeScript SDK client, pinned by
// package-lock.json; .ci/run installs it with `npm ci`.
var mcpClientDir = filepath.Join("testdata", "mcpclient")

// requireMCPClient returns node's path, or skips (fails in CI) when node or
// the SDK is missing.
func requireMCPClient(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(mcpClientDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node and @modelcontextprotocol/sdk are required in CI (.ci/run: npm ci --prefix %s): %v", mcpClientDir, err)
		}
		t.Skipf("node or the MCP TypeScript SDK is missing (npm ci --prefix %s): %v", mcpClientDir, err)
	}
	return node
}

// TestMCPWithTheTypeScriptSDK drives `llms mcp` with a client nobody here
// wrote, over stdio: initialize, tools/list, every tool, and malformed
// requests. The raw protocol stream in both directions, the server's
// stderr and the client's report must hold neither the canary value, nor
// any encoding of it the redactor knows, nor the token.
func TestMCPWithTheTypeScriptSDK(t *testing.T) {
	node := requireMCPClient(t)
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "canary-" + hex.EncodeToString(raw)
	forms := []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), base64.RawURLEncoding.EncodeToString([]byte(canary)),
		hex.EncodeToString([]byte(canary)), url.QueryEscape(canary)}

	bin := llmsBin(t)
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	env := llmsEnv(dir)
	work := filepath.Join(root, "work")
	mustDo(t, os.Mkdir(work, 0o700))
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "other-value-1234", "set", "--stdin", "NOT_ALLOWED")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	token := strings.TrimSpace(mustRun(t, bin, env, "", "macaroon", "mint", "--secret", "K,NEW_TOKEN_FOR_CI", "--ttl", "10m"))
	tokenFile := filepath.Join(root, "mcp.token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := map[string]string{"in": filepath.Join(root, "in.jsonl"), "out": filepath.Join(root, "out.jsonl"), "err": filepath.Join(root, "err.log")}
	cmd := exec.Command(node, "client.mjs")
	cmd.Dir = mcpClientDir
	cmd.Env = append(env, "LLMS="+bin, "SECRET=K", "WORK="+work, "CLAUDECODE=1", "LLM_SECRETS_MACAROON_FILE="+tokenFile,
		"MCP_IN_LOG="+logs["in"], "MCP_OUT_LOG="+logs["out"], "MCP_ERR_LOG="+logs["err"])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("client: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("client did not finish\n%s", stderr.String())
	}

	// Nothing of the value, in any form, and not the token, anywhere.
	texts := map[string]string{"report": stdout.String(), "client stderr": stderr.String()}
	for name, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		texts[name] = string(b)
	}
	for name, s := range texts {
		for _, form := range append(forms, token) {
			if strings.Contains(s, form) {
				t.Errorf("%s holds the canary or the token (%.20q…)", name, form)
			}
		}
	}
	if strings.Count(texts["out"], "[REDACTED:K]") < 4 {
		t.Errorf("the redacted output is not in the stream:\n%s", texts["out"])
	}

	var report struct {
		Server struct{ Name, Version string }
		Tools  []struct {
			Name   string
			Input  map[string]any
			Output map[string]any
		}
		Calls []struct {
			Label      string
			IsError    bool
			Structured map[string]any
			Content    []struct{ Text string }
			RPCError   *struct {
				Code    int
				Message string
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	if report.Server.Name != "llms" {
		t.Errorf("server %+v", report.Server)
	}
	var names []string
	for _, tool := range report.Tools {
		names = append(names, tool.Name)
		if tool.Input["type"] != "object" || tool.Output["type"] != "object" {
			t.Errorf("%s: schemas %v / %v", tool.Name, tool.Input, tool.Output)
		}
	}
	slices.Sort(names)
	if want := []string{"audit_recent", "describe_access", "list_secrets", "peek_secret", "request_secret", "run_with_secrets"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
	// The negotiated version is the TypeScript SDK's latest, which the Go
	// SDK speaks.
	if !strings.Contains(texts["out"], `"protocolVersion":"2025-11-25"`) {
		t.Errorf("initialize did not negotiate 2025-11-25:\n%.400s", texts["out"])
	}

	calls := map[string]int{}
	for i, c := range report.Calls {
		calls[c.Label] = i
	}
	get := func(label string) (bool, map[string]any, string, int) {
		c := report.Calls[calls[label]]
		text := ""
		for _, p := range c.Content {
			text += p.Text
		}
		if c.RPCError != nil {
			return true, nil, c.RPCError.Message, c.RPCError.Code
		}
		return c.IsError, c.Structured, text, 0
	}
	for _, label := range []string{"list", "describe", "peek", "run-echo", "run-env", "run-exit", "run-timeout", "request", "audit", "after-bad"} {
		if isErr, _, text, _ := get(label); isErr {
			t.Errorf("%s failed: %s", label, text)
		}
	}
	if _, s, _, _ := get("list"); !slices.Equal(asStrings(s["secrets"]), []string{"K"}) {
		t.Errorf("list_secrets: %v", s)
	}
	if _, s, _, _ := get("run-echo"); s["stdout"] == nil || !strings.Contains(s["stdout"].(string), "value=[REDACTED:K]") || s["stderr"] != "err=[REDACTED:K]\n" {
		t.Errorf("run-echo: %v", s)
	}
	if _, s, _, _ := get("run-exit"); s["exit_code"] != float64(7) {
		t.Errorf("run-exit: %v", s)
	}
	if _, s, _, _ := get("run-timeout"); s["timed_out"] != true {
		t.Errorf("run-timeout: %v", s)
	}
	if _, s, _, _ := get("request"); s["command"] != "llms set NEW_TOKEN_FOR_CI" {
		t.Errorf("request: %v", s)
	}
	// Refusals: clean tool errors, or JSON-RPC errors for what is not a
	// tool call at all.
	for label, want := range map[string]string{
		"bad-unknown-tool": "unknown tool", "bad-extra-arg": "reveal", "bad-missing-arg": "name",
		"bad-type": "argv", "bad-not-allowed": "not allowed", "bad-program": "cannot run",
		"bad-arguments-not-object": "", "bad-no-params": "", "bad-method": "",
	} {
		isErr, _, text, _ := get(label)
		if !isErr || !strings.Contains(text, want) {
			t.Errorf("%s: error=%v %q, want an error containing %q", label, isErr, text, want)
		}
	}
	if _, _, _, code := get("bad-method"); code != -32601 {
		t.Errorf("unknown method: code %d, want -32601", code)
	}
	if out := mustRun(t, bin, env, "", "requests"); !strings.Contains(out, "NEW_TOKEN_FOR_CI") {
		t.Errorf("llms requests: %s", out)
	}
}

func asStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

// TestMCPMalformedLines: bytes that are not one JSON-RPC message get a
// JSON-RPC error (parse error, invalid request) and the server keeps
// serving the same session.
func TestMCPMalformedLines(t *testing.T) {
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	cmd := exec.Command(bin, "mcp")
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`not json at all`,
		"\xff\xfe{\"jsonrpc\":\"2.0\",\"id\":2}",
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_secrets","arguments":{}}`, // unterminated
		`{"jsonrpc":"1.0","id":4,"method":"tools/list"}`,
		`[{"jsonrpc":"2.0","id":5,"method":"tools/list"}]`,
		`{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}`,
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"peek_secret\",\"arguments\":{\"name\":\"" + strings.Repeat("A", 5<<20) + "\"}}}",
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run_with_secrets","arguments":{"argv":["true"],"inject":{"X":"K"}}}}`,
		`{"jsonrpc":"2.0","id":8,"method":"tools/list"}`,
	}
	go func() {
		for _, l := range lines {
			if _, err := stdin.Write([]byte(l + "\n")); err != nil {
				return
			}
		}
	}()
	var got []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	// Answers may come in any order: the SDK handles requests concurrently.
	seen7, seen8 := false, false
	for !(seen7 && seen8) && sc.Scan() {
		got = append(got, sc.Text())
		seen7 = seen7 || strings.Contains(sc.Text(), `"id":7,`)
		seen8 = seen8 || strings.Contains(sc.Text(), `"id":8,`)
	}
	all := strings.Join(got, "\n")
	if n := strings.Count(all, `"code":-32700`); n != 4 {
		t.Errorf("%d parse errors, want 4 (garbage, binary, unterminated, oversized):\n%s", n, all)
	}
	if n := strings.Count(all, `"code":-32600`); n != 3 {
		t.Errorf("%d invalid-request errors, want 3 (version, batch, object id):\n%s", n, all)
	}
	for _, id := range []string{`"id":1,"result"`, `"id":7,"result"`, `"id":8,"result"`} {
		if !strings.Contains(all, id) {
			t.Errorf("no answer %s; the session did not survive:\n%.2000s\nstderr: %s", id, all, errb.String())
		}
	}
	if !strings.Contains(all, "llms profile mint") {
		t.Errorf("run_with_secrets without a token should say what to run:\n%.2000s", all)
	}
}
