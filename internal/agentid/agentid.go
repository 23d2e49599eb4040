package agentid

import (
	"os"
	"strings"
)

// Finding is one agent found, and the signal that found it, e.g. Source
// "env:CLAUDECODE" or "process:claude (pid 123)".
type Finding struct {
	Agent  string // a canonical id, or Unknown
	Source string
}

// Result is every agent found, one Finding per agent, in the order of the
// signals (see the package doc). No finding: no agent, the human.
type Result struct {
	Findings []Finding
}

// Agents returns the agents found, each once.
func (r Result) Agents() []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.Agent
	}
	return out
}

// String names each agent and its signal: "claude-code (env:CLAUDECODE),
// codex (env:CODEX_SANDBOX)".
func (r Result) String() string {
	parts := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		parts[i] = f.Agent + " (" + f.Source + ")"
	}
	return strings.Join(parts, ", ")
}

// add records a finding unless its agent is already found.
func (r *Result) add(f Finding) {
	for _, have := range r.Findings {
		if have.Agent == f.Agent {
			return
		}
	}
	r.Findings = append(r.Findings, f)
}

// declareEnv lets a user or a wrapper declare an agent that nothing else
// detects. It can add an agent, never remove one.
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
	{"CLAUDECODE", "claude-code"},
	{"CLAUDE_CODE_ENTRYPOINT", "claude-code"},
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
	{"COPILOT_AGENT", "github-copilot"},
	{"COPILOT_CLI", "github-copilot"},
	{"COPILOT_AGENT_SESSION_ID", "github-copilot"},
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

// Detect reports every AI coding agent found running process pid. env
// looks up an environment variable (os.LookupEnv in production; nil means
// os.LookupEnv). procRoot is where /proc is mounted ("" means "/proc"); pid
// is the process to start the walk from, normally os.Getpid().
//
// Every signal is looked at, always: no signal can hide or replace what
// another found, so when they disagree the caller is every agent found.
func Detect(env func(string) (string, bool), procRoot string, pid int) (Result, bool) {
	if env == nil {
		env = os.LookupEnv
	}
	if procRoot == "" {
		procRoot = "/proc"
	}
	var r Result
	lookupMarkers(&r, env, agentMarkers)
	declared(&r, env, conventionEnv)
	walkProcesses(&r, procRoot, pid)
	lookupMarkers(&r, env, editorMarkers)
	declared(&r, env, declareEnv)
	return r, len(r.Findings) > 0
}

// Stamped is the result for an agent a launcher vouches for (it started
// the agent and serves its requests), in place of detection. A name that
// is no known id or alias is Unknown.
func Stamped(name string) Result {
	return Result{Findings: []Finding{{Agent: canonicalOrUnknown(name), Source: "stamped by its launcher"}}}
}

// declared adds the agent a variable declares. Presence counts, whatever
// the value: a name that is no known id or alias, "human" and the empty
// string included, is Unknown, so a declaration can add an agent but never
// take the human's place.
func declared(r *Result, env func(string) (string, bool), name string) {
	if v, ok := env(name); ok {
		r.add(Finding{Agent: canonicalOrUnknown(v), Source: "env:" + name})
	}
}

// lookupMarkers counts a marker as present even when empty: CLAUDECODE=""
// is as much a sign of Claude Code as CLAUDECODE=1.
func lookupMarkers(r *Result, env func(string) (string, bool), markers []marker) {
	for _, m := range markers {
		if _, ok := env(m.env); ok {
			r.add(Finding{Agent: m.agent, Source: "env:" + m.env})
		}
	}
}
