package agentid

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func envOf(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

// Written out by hand rather than derived from the tables, so that a marker
// changed or dropped by mistake fails here.
var wantMarkers = map[string]string{
	"CLAUDECODE":                     "claude-code",
	"CLAUDE_CODE_ENTRYPOINT":         "claude-code",
	"CODEX_SANDBOX":                  "codex",
	"CODEX_SANDBOX_NETWORK_DISABLED": "codex",
	"CODEX_THREAD_ID":                "codex",
	"GEMINI_CLI":                     "gemini",
	"COPILOT_AGENT":                  "github-copilot",
	"COPILOT_CLI":                    "github-copilot",
	"COPILOT_AGENT_SESSION_ID":       "github-copilot",
	"CURSOR_AGENT":                   "cursor",
	"OPENCODE":                       "opencode",
	"AMP_CURRENT_THREAD_ID":          "amp",
	"CLINE_ACTIVE":                   "cline",
	"AUGMENT_AGENT":                  "augment",
	"WINDSURF_CASCADE_TERMINAL":      "windsurf",
	"CURSOR_TRACE_ID":                "cursor",
	"CODEIUM_EDITOR_APP_ROOT":        "windsurf",
}

func TestEveryMarker(t *testing.T) {
	if n := len(agentMarkers) + len(editorMarkers); n != len(wantMarkers) {
		t.Fatalf("%d markers in the tables, %d tested", n, len(wantMarkers))
	}
	empty := t.TempDir()
	for name, agent := range wantMarkers {
		// Presence counts: an empty value detects as well as "1".
		for _, value := range []string{"1", "true", "", "0"} {
			r, ok := Detect(envOf(map[string]string{name: value}), empty, 100)
			if !ok || len(r.Findings) != 1 || r.Findings[0] != (Finding{agent, "env:" + name}) {
				t.Errorf("%s=%q: Detect = %+v, %v; want %s from env:%s", name, value, r, ok, agent, name)
			}
		}
	}
}

func TestNothingDetected(t *testing.T) {
	env := envOf(map[string]string{"HOME": "/home/u", "TERM_PROGRAM": "vscode", "CLAUDE": "1", "CODEX": "1"})
	if r, ok := Detect(env, t.TempDir(), 100); ok {
		t.Errorf("Detect = %+v, want nothing", r)
	}
}

func TestDeclaredNames(t *testing.T) {
	tests := []struct {
		env       string
		value     string
		wantAgent string
	}{
		{"LLM_SECRETS_AGENT", "claude-code", "claude-code"},
		{"LLM_SECRETS_AGENT", "Claude", "claude-code"},
		{"LLM_SECRETS_AGENT", "copilot", "github-copilot"},
		{"LLM_SECRETS_AGENT", "my-bot", Unknown},
		{"LLM_SECRETS_AGENT", "", Unknown},
		{"LLM_SECRETS_AGENT", "none", Unknown},
		{"LLM_SECRETS_AGENT", "human", Unknown},
		{"LLM_SECRETS_AGENT", "0", Unknown},
		{"LLM_SECRETS_AGENT", "my bot", Unknown},
		{"LLM_SECRETS_AGENT", "bot\nINJECTED", Unknown},
		{"LLM_SECRETS_AGENT", strings.Repeat("a", 65), Unknown},
		{"AI_AGENT", "github_copilot_vscode_agent", Unknown},
		{"AI_AGENT", "aider", "aider"},
		{"AI_AGENT", "HUMAN", Unknown},
		{"AI_AGENT", "Devin@1", Unknown},
		{"AI_AGENT", "", Unknown},
	}
	for _, tt := range tests {
		r, ok := Detect(envOf(map[string]string{tt.env: tt.value}), t.TempDir(), 100)
		if !ok || len(r.Findings) != 1 || r.Findings[0] != (Finding{tt.wantAgent, "env:" + tt.env}) {
			t.Errorf("%s=%q: Detect = %+v, %v; want %s from env:%s", tt.env, tt.value, r, ok, tt.wantAgent, tt.env)
		}
	}
}

// Every signal is looked at and none replaces another: the caller is every
// agent found, in signal order, each once.
func TestEverySignalCounts(t *testing.T) {
	procWithClaude := func(t *testing.T) string {
		return makeProc(t, fakeProc{pid: 100, ppid: 90, comm: "llms"}, fakeProc{pid: 90, ppid: 80, comm: "bash"}, fakeProc{pid: 80, ppid: 1, comm: "claude"})
	}
	tests := []struct {
		name string
		env  map[string]string
		proc bool
		want []Finding
	}{
		// A claimed identity never overrides the proven one.
		{"AI_AGENT=human under a claude process", map[string]string{"AI_AGENT": "human"}, true,
			[]Finding{{Unknown, "env:AI_AGENT"}, {"claude-code", "process:claude (pid 80)"}}},
		{"LLM_SECRETS_AGENT=human under a claude process", map[string]string{"LLM_SECRETS_AGENT": "human"}, true,
			[]Finding{{"claude-code", "process:claude (pid 80)"}, {Unknown, "env:LLM_SECRETS_AGENT"}}},
		{"a codex marker in a claude tree", map[string]string{"CODEX_SANDBOX": "1"}, true,
			[]Finding{{"codex", "env:CODEX_SANDBOX"}, {"claude-code", "process:claude (pid 80)"}}},
		{"AI_AGENT naming another agent", map[string]string{"AI_AGENT": "codex"}, true,
			[]Finding{{"codex", "env:AI_AGENT"}, {"claude-code", "process:claude (pid 80)"}}},
		{"the marker and the process agree", map[string]string{"CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "cli"}, true,
			[]Finding{{"claude-code", "env:CLAUDECODE"}}},
		{"an agent in an editor terminal", map[string]string{"CURSOR_TRACE_ID": "x", "CLAUDECODE": "1"}, false,
			[]Finding{{"claude-code", "env:CLAUDECODE"}, {"cursor", "env:CURSOR_TRACE_ID"}}},
		{"a declaration beside a marker", map[string]string{"GEMINI_CLI": "1", "LLM_SECRETS_AGENT": "aider"}, false,
			[]Finding{{"gemini", "env:GEMINI_CLI"}, {"aider", "env:LLM_SECRETS_AGENT"}}},
		{"a declaration alone", map[string]string{"LLM_SECRETS_AGENT": "aider"}, false,
			[]Finding{{"aider", "env:LLM_SECRETS_AGENT"}}},
	}
	for _, tt := range tests {
		root := t.TempDir()
		if tt.proc {
			root = procWithClaude(t)
		}
		r, ok := Detect(envOf(tt.env), root, 100)
		if !ok || !slices.Equal(r.Findings, tt.want) {
			t.Errorf("%s: Detect = %+v, %v; want %+v", tt.name, r, ok, tt.want)
		}
	}
}

// No variable turns detection off, whatever it is called or set to.
func TestNothingDisablesDetection(t *testing.T) {
	for _, off := range []map[string]string{
		{"LLM_SECRETS_AGENT": ""},
		{"LLM_SECRETS_AGENT": "none"},
		{"LLM_SECRETS_AGENT": "human"},
		{"LLM_SECRETS_NO_AGENT": "1"},
		{"AI_AGENT": ""},
		{"AI_AGENT": "0"},
		{"AI_AGENT": "human"},
	} {
		off["CLAUDECODE"] = "1"
		if r, ok := Detect(envOf(off), t.TempDir(), 100); !ok || !slices.Contains(r.Agents(), "claude-code") {
			t.Errorf("%v: Detect = %+v, %v; want claude-code among the agents", off, r, ok)
		}
	}
}

// Every name detection can report is a canonical id (or Unknown), and
// every id fits the agent caveat's grammar, [a-z0-9][a-z0-9._-]{0,63}.
func TestTablesUseCanonicalIds(t *testing.T) {
	var names []string
	for _, m := range append(agentMarkers, editorMarkers...) {
		names = append(names, m.agent)
	}
	for _, a := range agentPrograms {
		names = append(names, a)
	}
	for _, a := range agentPackages {
		names = append(names, a)
	}
	for _, id := range aliases {
		names = append(names, id)
	}
	for _, n := range names {
		if id, err := Canonical(n); err != nil || id != n {
			t.Errorf("table name %q is not a canonical id: %q, %v", n, id, err)
		}
	}
	for _, n := range append(Known(), Unknown) {
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`).MatchString(n) {
			t.Errorf("agent id %q does not fit the agent caveat", n)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"claude-code": "claude-code", "claude": "claude-code", "Claude-Code": "claude-code", "CLAUDE": "claude-code",
		"copilot": "github-copilot", "github-copilot": "github-copilot", "cursor-agent": "cursor",
		"auggie": "augment", "gemini-cli": "gemini", "aider": "aider", "continue": "continue", "windsurf": "windsurf",
	} {
		if got, err := Canonical(in); err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "human", "unknown", "none", "claude code", "claude-code ", "*", "c*", "cl\u0430ude", strings.Repeat("x", 1000)} {
		_, err := Canonical(bad)
		if err == nil {
			t.Errorf("Canonical(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "known agents: aider, amp,") || !strings.Contains(err.Error(), "claude=claude-code") {
			t.Errorf("Canonical(%q): %v; want the known agents listed", bad, err)
		}
		if len(err.Error()) > 600 {
			t.Errorf("Canonical of a %d-byte name: error of %d bytes", len(bad), len(err.Error()))
		}
	}
}

func TestStamped(t *testing.T) {
	for in, want := range map[string]string{"claude": "claude-code", "codex": "codex", "human": Unknown, "": Unknown, "Bad Name": Unknown} {
		r := Stamped(in)
		if len(r.Findings) != 1 || r.Findings[0].Agent != want {
			t.Errorf("Stamped(%q) = %+v, want %s", in, r, want)
		}
	}
}

func TestDetectDefaults(t *testing.T) {
	// nil env means the process environment, "" means /proc: detection is
	// never silently skipped for want of an argument.
	t.Setenv("GEMINI_CLI", "1")
	if r, ok := Detect(nil, "", os.Getpid()); !ok || r.Findings[0] != (Finding{"gemini", "env:GEMINI_CLI"}) {
		t.Errorf("Detect(nil, \"\", pid) = %+v, %v; want env:GEMINI_CLI", r, ok)
	}
}

func TestDetectOnRealProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	// Whatever runs this test, a process hit must be well formed.
	r, _ := Detect(noEnv, "/proc", os.Getpid())
	for _, f := range r.Findings {
		if _, err := Canonical(f.Agent); (err != nil && f.Agent != Unknown) || !strings.HasPrefix(f.Source, "process:") {
			t.Errorf("Detect on /proc = %+v", r)
		}
	}
}
