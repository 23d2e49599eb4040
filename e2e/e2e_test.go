// The end-to-end stage (make e2e): llms with the agents' real CLIs —
// Claude Code, Codex and Gemini CLI at the versions e2e/clients pins — on
// a throwaway HOME, with a scripted model (e2e/providermock) in place of
// each provider. It runs only when make e2e sets LLMS_E2E=1.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/e2e/providermock"
)

// world is one throwaway user: a HOME, a project in it, the llms binary
// and the clients on PATH, nothing of the caller's environment.
type world struct {
	t          *testing.T
	home, proj string
	store      string
	env        []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if os.Getenv("LLMS_E2E") != "1" {
		t.Skip("the end-to-end stage runs with make e2e")
	}
	llms, clients := os.Getenv("LLMS_E2E_BIN"), os.Getenv("LLMS_E2E_CLIENTS")
	if llms == "" || clients == "" {
		t.Fatal("make e2e sets LLMS_E2E_BIN and LLMS_E2E_CLIENTS")
	}
	// Not under /tmp: agent mode lets the agent create files in /tmp, and
	// a home there would make it grant /tmp's entries one by one instead.
	home, err := os.MkdirTemp(".", ".home-")
	if err != nil {
		t.Fatal(err)
	}
	if home, err = filepath.Abs(home); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	w := &world{t: t, home: home, proj: filepath.Join(home, "proj"), store: filepath.Join(home, ".local", "share", "llm-secrets")}
	bin := filepath.Join(home, "bin")
	for _, d := range []string{w.proj, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// llms as the user installs it: llms and, beside it, llms-mcp (which
	// `llms mcp` runs) in ~/bin, which the profile puts on PATH for login
	// shells (Codex runs its commands in one), as Debian's default
	// ~/.profile does.
	for _, name := range []string{"llms", "llms-mcp"} {
		if err := copyFile(filepath.Join(filepath.Dir(llms), name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	profile := "if [ -d \"$HOME/bin\" ] ; then\n    PATH=\"$HOME/bin:$PATH\"\nfi\n"
	if err := os.WriteFile(filepath.Join(home, ".profile"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = []string{
		"HOME=" + home, "USER=" + os.Getenv("USER"), "LANG=C.UTF-8", "TERM=xterm",
		"PATH=" + bin + ":" + clients + ":/usr/local/bin:/usr/bin:/bin",
		"TMPDIR=" + os.TempDir(),
		// The clients' first run, pinned: no updater, no telemetry, no
		// traffic but the model's.
		"DISABLE_AUTOUPDATER=1", "DISABLE_TELEMETRY=1", "DISABLE_ERROR_REPORTING=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "NO_UPDATE_NOTIFIER=1", "NO_COLOR=1",
	}
	return w
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// lookPath finds a program on the world's PATH, not the test's.
func (w *world) lookPath(name string) string {
	for _, kv := range w.env {
		if dirs, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range filepath.SplitList(dirs) {
				if fi, err := os.Stat(filepath.Join(d, name)); err == nil && fi.Mode()&0o111 != 0 {
					return filepath.Join(d, name)
				}
			}
		}
	}
	return name
}

// run runs a command in the project with the world's environment (and
// extra variables), stdin empty, and returns its combined output.
func (w *world) run(timeout time.Duration, extra []string, name string, args ...string) (string, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.lookPath(name), args...)
	cmd.Dir, cmd.Env = w.proj, append(append([]string{}, w.env...), extra...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", name, timeout, ctx.Err())
	}
	return string(out), err
}

func (w *world) must(timeout time.Duration, name string, args ...string) string {
	w.t.Helper()
	out, err := w.run(timeout, nil, name, args...)
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// An answer is typed when the output shows its prompt; a hidden one only
// once the terminal no longer echoes, as a person's typing would arrive.
type answer struct {
	prompt *regexp.Regexp
	typed  string
	hidden bool
}

// typeLine runs one line of documentation in bash on a terminal, as a user
// types it, answering its prompts.
func (w *world) typeLine(line string, answers []answer) (string, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir, cmd.Env = w.proj, w.env
	tty, term, err := pty.Open()
	if err != nil {
		return "", err
	}
	defer tty.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		term.Close()
		return "", err
	}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		from := 0 // output before this was answered already
		for {
			n, err := tty.Read(buf)
			out.Write(buf[:n])
			for _, a := range answers {
				if a.prompt.Match(out.Bytes()[from:]) {
					for wait := 0; a.hidden && echoes(term) && wait < 500; wait++ {
						time.Sleep(10 * time.Millisecond)
					}
					tty.WriteString(a.typed)
					from = out.Len()
					break
				}
			}
			if err != nil {
				done <- nil
				return
			}
		}
	}()
	err = cmd.Wait()
	// The terminal's last holder gone, the reader gets its end.
	term.Close()
	<-done
	return out.String(), err
}

// echoes says whether the terminal echoes what is typed.
func echoes(term *os.File) bool {
	t, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	return err != nil || t.Lflag&unix.ECHO != 0
}

// docBlock is the fenced code block of a document (a path from the
// repository's top) that holds a line containing text.
func docBlock(t *testing.T, doc, text string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", doc))
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	in := false
	for line := range strings.SplitSeq(string(data), "\n") {
		switch {
		case !in && strings.HasPrefix(line, "```"):
			in, block = true, nil
		case in && line == "```":
			in = false
			for _, l := range block {
				if strings.Contains(l, text) {
					return block
				}
			}
		case in:
			block = append(block, line)
		}
	}
	t.Fatalf("%s has no code block holding %q", doc, text)
	return nil
}

// canary is a unique value, and every form of it that must never reach a
// model: as is, base64 (standard and URL alphabets, padded or not, at
// each of the three alignments inside longer data), hex in either case,
// URL-escaped.
func canary(t *testing.T) (string, []string) {
	raw := make([]byte, 12)
	rand.Read(raw)
	v := "e2e-canary-" + hex.EncodeToString(raw)
	forms := []string{v, hex.EncodeToString([]byte(v)), strings.ToUpper(hex.EncodeToString([]byte(v))), url.QueryEscape(v), url.PathEscape(v)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			s := enc.EncodeToString(append(make([]byte, k), v...))
			// The groups that depend on the value's bytes alone.
			from := 0
			if k > 0 {
				from = 4
			}
			to := 4 * ((k + len(v)) / 3)
			forms = append(forms, s[from:to])
		}
	}
	return v, forms
}

// setUp stores the canary as E2E_SECRET and starts a session: the human's
// part, before any agent runs.
func (w *world) setUp(value string) {
	w.t.Helper()
	w.must(30*time.Second, "llms", "init")
	cmd := exec.Command(w.lookPath("llms"), "set", "--stdin", "E2E_SECRET")
	cmd.Dir, cmd.Env, cmd.Stdin = w.proj, w.env, strings.NewReader(value)
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("llms set: %v\n%s", err, out)
	}
	w.must(30*time.Second, "llms", "session-start", "--ttl", "1h")
}

// The README's quick start for Claude Code, typed as written, line by line
// on a terminal: the hidden prompt answered twice, setup's question with y.
// Claude Code then lists the llms server as connected.
func TestQuickStartClaude(t *testing.T) {
	w := newWorld(t)
	value, forms := canary(t)
	var transcript strings.Builder
	for _, line := range docBlock(t, "README.md", "claude mcp list") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		answers := []answer{
			{regexp.MustCompile(`Value for [A-Z_]+: `), value + "\r", true},
			{regexp.MustCompile(`Again: `), value + "\r", true},
			{regexp.MustCompile(`\[y/N\] `), "y\r", false},
		}
		out, err := w.typeLine(line, answers)
		fmt.Fprintf(&transcript, "$ %s\n%s", line, out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, transcript.String())
		}
	}
	t.Logf("quick start:\n%s", transcript.String())
	// What claude mcp list drew on the terminal, read without one.
	if out := w.must(time.Minute, "claude", "mcp", "list"); !regexp.MustCompile(`(?m)^llms: .*llms mcp .*Connected`).MatchString(out) {
		t.Errorf("claude mcp list does not show llms connected:\n%s", out)
	}
	for _, f := range forms {
		if strings.Contains(transcript.String(), f) {
			t.Errorf("the quick start printed the value (form %q…)", f[:6])
		}
	}
}

// Every client lists the llms server that setup wrote (Claude Code and
// Gemini CLI start it and say it is connected; Codex lists it), before any
// token file exists: the server starts without one.
func TestClientsListTheServer(t *testing.T) {
	w := newWorld(t)
	w.must(30*time.Second, "llms", "init")
	w.trustGemini()
	for _, agent := range []string{"claude", "codex", "gemini"} {
		w.must(30*time.Second, "llms", "setup", agent, "--yes")
	}
	for _, c := range []struct {
		client string
		want   *regexp.Regexp
	}{
		{"claude", regexp.MustCompile(`(?m)^llms: .*llms mcp .*Connected`)},
		{"codex", regexp.MustCompile(`(?m)^llms +\S+llms +mcp .*enabled`)},
		{"gemini", regexp.MustCompile(`(?m)llms: .*llms mcp .*Connected`)},
	} {
		out := w.must(2*time.Minute, c.client, "mcp", "list")
		if !c.want.MatchString(out) {
			t.Errorf("%s mcp list:\n%s", c.client, out)
		}
	}
}

// trustGemini marks the project as trusted by Gemini CLI, whose first run
// otherwise disables every MCP server in it.
func (w *world) trustGemini() {
	w.t.Helper()
	dir := filepath.Join(w.home, ".gemini")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trustedFolders.json"), fmt.Appendf(nil, "{%q: \"TRUST_FOLDER\"}\n", w.proj), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// setup, then the client adds a server of its own (rewriting its file as
// it does), then --remove: the client's entry stays, llms's is gone, and
// nothing else changed. Without the client's edit, --remove gives the
// client's own bytes back.
func TestSetupAndTheClientsEdits(t *testing.T) {
	w := newWorld(t)
	w.must(30*time.Second, "llms", "init")
	w.trustGemini()
	for _, c := range []struct {
		agent, file string
		seed        []string // the client writes its file first
		add, list   []string
	}{
		{"claude", ".claude.json",
			[]string{"claude", "mcp", "add-json", "--scope", "user", "first", `{"type":"stdio","command":"/bin/true"}`},
			[]string{"claude", "mcp", "add-json", "--scope", "user", "other", `{"type":"stdio","command":"/bin/echo","args":["hi"]}`},
			[]string{"claude", "mcp", "list"}},
		{"codex", ".codex/config.toml",
			[]string{"codex", "mcp", "add", "first", "--", "/bin/true"},
			[]string{"codex", "mcp", "add", "other", "--env", "A=B", "--", "/bin/echo", "hi"},
			[]string{"codex", "mcp", "list"}},
		{"gemini", ".gemini/settings.json",
			[]string{"gemini", "mcp", "add", "--scope", "user", "first", "/bin/true"},
			[]string{"gemini", "mcp", "add", "--scope", "user", "other", "/bin/echo", "hi"},
			[]string{"gemini", "mcp", "list"}},
	} {
		t.Run(c.agent, func(t *testing.T) {
			path := filepath.Join(w.home, c.file)
			w.must(2*time.Minute, c.seed[0], c.seed[1:]...)
			before := readFile(t, path)
			w.must(30*time.Second, "llms", "setup", c.agent, "--yes")
			if !strings.Contains(readFile(t, path), "LLM_SECRETS_MACAROON_FILE") {
				t.Fatalf("setup did not write the entry:\n%s", readFile(t, path))
			}
			w.must(30*time.Second, "llms", "setup", c.agent, "--remove", "--yes")
			if got := readFile(t, path); got != before {
				t.Errorf("--remove right after setup:\n%q\nwant the client's bytes\n%q", got, before)
			}

			w.must(30*time.Second, "llms", "setup", c.agent, "--yes")
			w.must(2*time.Minute, c.add[0], c.add[1:]...)
			if out := w.must(30*time.Second, "llms", "setup", c.agent, "--yes"); !strings.Contains(out, "nothing to change") {
				t.Errorf("setup after the client's edit:\n%s", out)
			}
			w.must(30*time.Second, "llms", "setup", c.agent, "--remove", "--yes")
			got := readFile(t, path)
			if strings.Contains(got, "LLM_SECRETS_MACAROON_FILE") || !strings.Contains(got, "other") || !strings.Contains(got, "first") {
				t.Errorf("--remove after the client's edit:\n%s", got)
			}
			out := w.must(2*time.Minute, c.list[0], c.list[1:]...)
			if !strings.Contains(out, "other") || regexp.MustCompile(`(?m)^\W*llms\b`).MatchString(out) {
				t.Errorf("%s after --remove:\n%s", strings.Join(c.list, " "), out)
			}
			// Once more: setup still finds its way in.
			w.must(30*time.Second, "llms", "setup", c.agent, "--yes")
			w.must(30*time.Second, "llms", "setup", c.agent, "--remove", "--yes")
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// agentSteps are what the scripted model has the agent do inside agent
// mode: use the secret through llms exec and through the MCP tool (its
// value redacted), then attack — read the store's identity, decrypt with
// age, mint a token, dump the environment. Each step's result must show
// that it ran and what happened.
func agentSteps(store string) []providermock.Step {
	return []providermock.Step{
		{Name: "exec", Shell: "llms exec -i E2E_VAR=E2E_SECRET -- printenv E2E_VAR",
			Expect: regexp.MustCompile(`\[REDACTED:E2E_SECRET\]`)},
		{Name: "exec-encoded", Shell: `llms exec -i E2E_VAR=E2E_SECRET -- sh -c 'printf %s "$E2E_VAR" | base64; printf %s "$E2E_VAR" | od -An -tx1; echo end-of-encoded'`,
			Expect: regexp.MustCompile(`(?s)REDACTED.*end-of-encoded`)},
		{Name: "mcp", MCPServer: "llms", MCPTool: "run_with_secrets",
			MCPInput: map[string]any{"argv": []string{"printenv", "E2E_VAR"}, "inject": map[string]string{"E2E_VAR": "E2E_SECRET"}},
			Expect:   regexp.MustCompile(`\[REDACTED:E2E_SECRET\]`)},
		{Name: "read-identity", Attack: true, Shell: "cat " + store + "/identity.txt",
			Expect: regexp.MustCompile(`identity.txt: Permission denied`)},
		{Name: "age-decrypt", Attack: true, Shell: "age -d -i " + store + "/identity.txt " + store + "/secrets/E2E_SECRET.age",
			Expect: regexp.MustCompile(`(?i)permission denied`)},
		// Refused: by llms inside agent mode (which forwards only exec,
		// peek and list to the broker) or by the sandbox, which hides the
		// store.
		{Name: "mint", Attack: true, Shell: "llms macaroon mint --secret E2E_SECRET --ttl 1h",
			Expect: regexp.MustCompile(`only the human mints tokens|is for the human|recipients.txt: permission denied`)},
		{Name: "env-dump", Shell: "env",
			Expect: regexp.MustCompile(`LLM_SECRETS_SOCKET=`)},
	}
}

// runAgent runs client in agent mode against the scripted model and
// checks that every step ran with its expected result (and, but for the
// attacks, without failing: failed is how the client reports a command
// that failed), that the model got its last turn, and that no request
// carried any form of the value.
func runAgent(t *testing.T, w *world, agent string, mock *providermock.Server, failed *regexp.Regexp, extra []string, argv ...string) {
	t.Helper()
	// The scripted model is a server of the test's on this host: agent
	// mode reaches it only as an allowed IP literal.
	args := append([]string{"agent", "--agent", agent, "--secret", "E2E_SECRET", "--ttl", "10m",
		"--allow-host", strings.TrimPrefix(mock.URL(), "http://"), "--"}, argv...)
	start := time.Now()
	out, err := w.run(3*time.Minute, extra, "llms", args...)
	t.Logf("%s in agent mode: %s, %d model requests\n%s", agent, time.Since(start).Round(time.Millisecond), mock.Requests(), out)
	if err != nil {
		t.Errorf("llms agent -- %s: %v", argv[0], err)
	}
	for _, r := range mock.Results() {
		switch {
		case !r.Ran:
			t.Errorf("step %s: the agent never returned its result (refused or skipped)", r.Step.Name)
		case !r.Step.Expect.MatchString(r.Output):
			t.Errorf("step %s: result does not match %s:\n%s\n(the tools offered: %s)", r.Step.Name, r.Step.Expect, r.Output,
				strings.Join(mock.Offered(), ", "))
		case !r.Step.Attack && failed.MatchString(r.Output):
			t.Errorf("step %s failed in agent mode:\n%s", r.Step.Name, r.Output)
		default:
			t.Logf("step %s: ran, %q", r.Step.Name, firstLine(r.Output))
		}
		if os.Getenv("LLMS_E2E_DEBUG") != "" {
			t.Logf("step %s output:\n%s", r.Step.Name, r.Output)
		}
	}
	if !mock.Finished() {
		t.Errorf("the model never got its last turn")
	}
	for _, l := range mock.Leaks() {
		t.Errorf("leak: %s", l)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s[:min(len(s), 120)]
}

func needLandlock(t *testing.T, w *world) {
	t.Helper()
	out, _ := w.run(30*time.Second, nil, "llms", "status")
	if m := regexp.MustCompile(`(?m)^landlock: +ABI (\d+)`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("agent mode needs Landlock, and this kernel has none (CI=true)\n%s", out)
		}
		t.Skipf("agent mode needs Landlock:\n%s", out)
	}
}

// Claude Code, in agent mode, driven by a scripted Anthropic Messages API
// through its Bash tool and the llms MCP tool.
func TestAgentModeClaude(t *testing.T) {
	w := newWorld(t)
	value, forms := canary(t)
	w.setUp(value)
	needLandlock(t, w)
	// The entry as llms mcp config prints it, pasted. (llms setup would
	// also add Claude Code's own rule against reading the store, which
	// stops the attack below before the kernel does.)
	w.must(time.Minute, "sh", "-c", `eval "$(llms mcp config claude)"`)
	mock, err := providermock.Start(agentSteps(w.store), forms)
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	runAgent(t, w, "claude-code", mock, regexp.MustCompile(`(?m)^Exit code [1-9]|Permission denied`), []string{"ANTHROPIC_BASE_URL=" + mock.URL(), "ANTHROPIC_API_KEY=sk-ant-e2e-mock"},
		"claude", "-p", "Run the steps the tools ask for.", "--allowedTools", "Bash,mcp__llms__run_with_secrets")
}

// Codex, in agent mode, driven by a scripted OpenAI Responses API through
// its exec_command tool and the llms MCP tool. Codex's own sandbox is off
// (agent mode is the sandbox) and it never asks for approval.
func TestAgentModeCodex(t *testing.T) {
	w := newWorld(t)
	value, forms := canary(t)
	w.setUp(value)
	needLandlock(t, w)
	w.must(30*time.Second, "llms", "setup", "codex", "--yes")
	mock, err := providermock.Start(agentSteps(w.store), forms)
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	config := filepath.Join(w.home, ".codex", "config.toml")
	mine := fmt.Sprintf(`model = "gpt-5-codex"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.mock]
name = "scripted model"
base_url = %q
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[projects.%q]
trust_level = "trusted"

`, mock.URL()+"/v1", w.proj)
	// Codex's settings before setup's table, as a user's file would be.
	if err := os.WriteFile(config, []byte(mine+readFile(t, config)), 0o600); err != nil {
		t.Fatal(err)
	}
	runAgent(t, w, "codex", mock, regexp.MustCompile(`Process exited with code [1-9]|Permission denied`), []string{"OPENAI_API_KEY=sk-e2e-mock"},
		"codex", "exec", "Run the steps the tools ask for.")
}

// Claude Code in agent mode from a home where it never ran: no ~/.claude,
// no ~/.claude.json, no ~/.cache. llms makes the state directories before
// confining it; its Bash tool and the MCP server (named on the command
// line) work.
func TestAgentModeClaudeFreshHome(t *testing.T) {
	w := newWorld(t)
	value, forms := canary(t)
	w.setUp(value)
	needLandlock(t, w)
	for _, p := range []string{".claude", ".claude.json", ".cache"} {
		if _, err := os.Lstat(filepath.Join(w.home, p)); err == nil {
			t.Fatalf("~/%s exists before the agent ran", p)
		}
	}
	cmd := exec.Command(w.lookPath("llms"), "mcp", "config", "cursor")
	cmd.Dir, cmd.Env = w.proj, w.env
	entry, err := cmd.Output() // the entry alone; where it goes is on stderr
	if err != nil {
		t.Fatalf("llms mcp config: %v", err)
	}
	mcpConfig := filepath.Join(w.proj, "mcp.json")
	if err := os.WriteFile(mcpConfig, entry, 0o644); err != nil {
		t.Fatal(err)
	}
	steps := agentSteps(w.store)
	mock, err := providermock.Start([]providermock.Step{steps[0], steps[2], steps[3]}, forms)
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	runAgent(t, w, "claude-code", mock, regexp.MustCompile(`(?m)^Exit code [1-9]|Permission denied`),
		[]string{"ANTHROPIC_BASE_URL=" + mock.URL(), "ANTHROPIC_API_KEY=sk-ant-e2e-mock"},
		"claude", "-p", "Run the steps the tools ask for.", "--mcp-config", mcpConfig, "--strict-mcp-config",
		"--allowedTools", "Bash,mcp__llms__run_with_secrets")
}
