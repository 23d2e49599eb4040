package agentid

import (
	"os"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/caveat"
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
	"CLAUDECODE":                     "claude",
	"CLAUDE_CODE_ENTRYPOINT":         "claude",
	"CODEX_SANDBOX":                  "codex",
	"CODEX_SANDBOX_NETWORK_DISABLED": "codex",
	"CODEX_THREAD_ID":                "codex",
	"GEMINI_CLI":                     "gemini",
	"COPILOT_AGENT":                  "copilot",
	"COPILOT_CLI":                    "copilot",
	"COPILOT_AGENT_SESSION_ID":       "copilot",
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
			if !ok || r.Agent != agent || r.Source != "env:"+name {
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
		env        string
		value      string
		wantAgent  string
		wantSource string
	}{
		{"LLM_SECRETS_AGENT", "my-bot", "my-bot", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "Claude", "claude", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "", "unknown", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "none", "none", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "0", "0", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "my bot", "unknown", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", "bot\nINJECTED", "unknown", "env:LLM_SECRETS_AGENT"},
		{"LLM_SECRETS_AGENT", strings.Repeat("a", 65), "unknown", "env:LLM_SECRETS_AGENT"},
		{"AI_AGENT", "github_copilot_vscode_agent", "github_copilot_vscode_agent", "env:AI_AGENT"},
		{"AI_AGENT", "Devin@1", "unknown", "env:AI_AGENT"},
		{"AI_AGENT", "", "unknown", "env:AI_AGENT"},
	}
	for _, tt := range tests {
		r, ok := Detect(envOf(map[string]string{tt.env: tt.value}), t.TempDir(), 100)
		if !ok || r.Agent != tt.wantAgent || r.Source != tt.wantSource {
			t.Errorf("%s=%q: Detect = %+v, %v; want {%s %s}", tt.env, tt.value, r, ok, tt.wantAgent, tt.wantSource)
		}
	}
}

func TestPrecedence(t *testing.T) {
	procWithAider := func(t *testing.T) string {
		return makeProc(t, fakeProc{pid: 100, ppid: 90, comm: "llms"}, fakeProc{pid: 90, ppid: 1, comm: "aider"})
	}
	tests := []struct {
		name       string
		env        map[string]string
		proc       bool
		wantSource string
	}{
		{"agent marker over process", map[string]string{"GEMINI_CLI": "1"}, true, "env:GEMINI_CLI"},
		{"agent marker over editor marker", map[string]string{"CURSOR_TRACE_ID": "x", "CLAUDECODE": "1"}, false, "env:CLAUDECODE"},
		{"AI_AGENT over process", map[string]string{"AI_AGENT": "x"}, true, "env:AI_AGENT"},
		{"process over editor marker", map[string]string{"CURSOR_TRACE_ID": "x"}, true, "process:aider (pid 90)"},
		{"editor marker over declaration", map[string]string{"CURSOR_TRACE_ID": "x", "LLM_SECRETS_AGENT": "bot"}, false, "env:CURSOR_TRACE_ID"},
		{"declaration cannot rename a detected agent", map[string]string{"LLM_SECRETS_AGENT": "bot"}, true, "process:aider (pid 90)"},
		{"declaration alone", map[string]string{"LLM_SECRETS_AGENT": "bot"}, false, "env:LLM_SECRETS_AGENT"},
	}
	for _, tt := range tests {
		root := t.TempDir()
		if tt.proc {
			root = procWithAider(t)
		}
		r, ok := Detect(envOf(tt.env), root, 100)
		if !ok || r.Source != tt.wantSource {
			t.Errorf("%s: Detect = %+v, %v; want source %s", tt.name, r, ok, tt.wantSource)
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
	} {
		off["CLAUDECODE"] = "1"
		if r, ok := Detect(envOf(off), t.TempDir(), 100); !ok || r.Agent != "claude" {
			t.Errorf("%v: Detect = %+v, %v; want claude", off, r, ok)
		}
	}
}

// Every name this package can report must be usable in an agent caveat.
func TestNamesFitTheAgentCaveat(t *testing.T) {
	names := []string{"unknown"}
	for _, m := range append(agentMarkers, editorMarkers...) {
		names = append(names, m.agent)
	}
	for _, a := range agentPrograms {
		names = append(names, a)
	}
	for _, a := range agentPackages {
		names = append(names, a)
	}
	for _, n := range names {
		if _, err := caveat.Agent(n); err != nil {
			t.Errorf("agent name %q: %v", n, err)
		}
	}
}

func TestDetectDefaults(t *testing.T) {
	// nil env means the process environment, "" means /proc: detection is
	// never silently skipped for want of an argument.
	t.Setenv("GEMINI_CLI", "1")
	if r, ok := Detect(nil, "", os.Getpid()); !ok || r.Source != "env:GEMINI_CLI" {
		t.Errorf("Detect(nil, \"\", pid) = %+v, %v; want env:GEMINI_CLI", r, ok)
	}
}

func TestDetectOnRealProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	// Whatever runs this test, a process hit must be well formed.
	r, ok := Detect(noEnv, "/proc", os.Getpid())
	if ok && (!strings.HasPrefix(r.Source, "process:") || !validName(r.Agent)) {
		t.Errorf("Detect on /proc = %+v", r)
	}
}
