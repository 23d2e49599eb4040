package agentid

import (
	"os"
	"strings"
)

// Result says which agent was detected and by which signal, e.g.
// Source "env:CLAUDECODE" or "process:claude (pid 123)".
type Result struct {
	Agent  string
	Source string
}

// declareEnv lets a user or a wrapper declare an agent that nothing else
// detects. It can add detection, never remove it.
const declareEnv = "LLM_SECRETS_AGENT"

// conventionEnv is the cross-tool AI_AGENT=<name> convention
// (vercel/vercel packages/detect-agent README).
const conventionEnv = "AI_AGENT"

type marker struct{ env, agent string }

// agentMarkers are set by an agent in the shells it spawns, so they name the
// agent running the command.
var agentMarkers = []marker{
	// CLAUDECODE=1 since Claude Code 0.2.47 (anthropics/claude-code#531);
	// CLAUDE_CODE_ENTRYPOINT beside it (kcenon/claude_code_agent#715).
	{"CLAUDECODE", "claude"},
	{"CLAUDE_CODE_ENTRYPOINT", "claude"},
	// CODEX_SANDBOX_NETWORK_DISABLED=1 in Codex's shell tool (openai/codex
	// AGENTS.md); CODEX_SANDBOX and CODEX_THREAD_ID (vercel/vercel
	// packages/detect-agent, unjs/std-env src/agents.ts).
	{"CODEX_SANDBOX", "codex"},
	{"CODEX_SANDBOX_NETWORK_DISABLED", "codex"},
	{"CODEX_THREAD_ID", "codex"},
	// GEMINI_CLI=1 on every spawned shell command
	// (google-gemini/gemini-cli#4791).
	{"GEMINI_CLI", "gemini"},
	// COPILOT_AGENT=1 in VS Code agent terminals (microsoft/vscode#316267);
	// COPILOT_CLI=1 from the Copilot CLI (dynatrace-oss/dtctl#289);
	// COPILOT_AGENT_SESSION_ID in the cloud coding agent (watson/is-ci#28).
	{"COPILOT_AGENT", "copilot"},
	{"COPILOT_CLI", "copilot"},
	{"COPILOT_AGENT_SESSION_ID", "copilot"},
	// CURSOR_AGENT from the Cursor CLI (vercel/vercel packages/detect-agent,
	// unjs/std-env src/agents.ts).
	{"CURSOR_AGENT", "cursor"},
	// OPENCODE=1 in OpenCode's shell tool (anomalyco/opencode#1775, #34062).
	{"OPENCODE", "opencode"},
	// AMP_CURRENT_THREAD_ID in Amp's shell tool (shipfastlabs/agent-detector
	// src/AgentDetector.php, microsoft/vscode#311734).
	{"AMP_CURRENT_THREAD_ID", "amp"},
	// CLINE_ACTIVE=true in the terminals Cline creates (cline/cline
	// TerminalRegistry.createTerminal).
	{"CLINE_ACTIVE", "cline"},
	// AUGMENT_AGENT from Augment's Auggie CLI (unjs/std-env src/agents.ts,
	// shipfastlabs/agent-detector).
	{"AUGMENT_AGENT", "augment"},
	// WINDSURF_CASCADE_TERMINAL in the terminals Windsurf's Cascade agent
	// runs commands in (JFrog CLI's agent table; user shell configs key
	// on it).
	{"WINDSURF_CASCADE_TERMINAL", "windsurf"},
}

// editorMarkers are set in every integrated terminal of an editor whose
// agent runs commands there. A human in that terminal is detected too: an
// agent's command and a human's cannot be told apart, so we fail closed.
var editorMarkers = []marker{
	// CURSOR_TRACE_ID in Cursor's terminals (vercel/vercel
	// packages/detect-agent, ascorbic/am-i-vibing src/providers.ts).
	{"CURSOR_TRACE_ID", "cursor"},
	// CODEIUM_EDITOR_APP_ROOT in Windsurf's terminals (ascorbic/am-i-vibing#6).
	{"CODEIUM_EDITOR_APP_ROOT", "windsurf"},
}

// Detect reports the AI coding agent running process pid, if any. env looks
// up an environment variable (os.LookupEnv in production; nil means
// os.LookupEnv). procRoot is where /proc is mounted ("" means "/proc"); pid
// is the process to start the walk from, normally os.Getpid().
func Detect(env func(string) (string, bool), procRoot string, pid int) (Result, bool) {
	if env == nil {
		env = os.LookupEnv
	}
	if procRoot == "" {
		procRoot = "/proc"
	}
	if r, ok := lookupMarkers(env, agentMarkers); ok {
		return r, true
	}
	if v, ok := env(conventionEnv); ok {
		return Result{Agent: declaredName(v), Source: "env:" + conventionEnv}, true
	}
	if r, ok := walkProcesses(procRoot, pid); ok {
		return r, true
	}
	if r, ok := lookupMarkers(env, editorMarkers); ok {
		return r, true
	}
	if v, ok := env(declareEnv); ok {
		return Result{Agent: declaredName(v), Source: "env:" + declareEnv}, true
	}
	return Result{}, false
}

// Stamped is the result for an agent a launcher vouches for (it started
// the agent and serves its requests), in place of detection.
func Stamped(name string) Result {
	return Result{Agent: declaredName(name), Source: "stamped by its launcher"}
}

// lookupMarkers counts a marker as present even when empty: CLAUDECODE=""
// is as much a sign of Claude Code as CLAUDECODE=1.
func lookupMarkers(env func(string) (string, bool), markers []marker) (Result, bool) {
	for _, m := range markers {
		if _, ok := env(m.env); ok {
			return Result{Agent: m.agent, Source: "env:" + m.env}, true
		}
	}
	return Result{}, false
}

// declaredName turns a self-declared name into a valid agent name. A value
// that cannot be one still counts as a detection, under "unknown", so that
// a malformed declaration cannot be used to avoid detection.
func declaredName(v string) string {
	name := strings.ToLower(v)
	if !validName(name) {
		return "unknown"
	}
	return name
}

// validName is the agent caveat's grammar: [a-z0-9][a-z0-9._-]{0,63}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || (i > 0 && (b == '.' || b == '_' || b == '-'))
		if !ok {
			return false
		}
	}
	return true
}
