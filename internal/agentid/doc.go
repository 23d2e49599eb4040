// Package agentid tells whether an AI coding agent is running us, and which.
//
// Detection looks at every signal, always, and reports every agent found:
//
//  1. environment markers that an agent sets in the shells it spawns;
//  2. the AI_AGENT=<name> declaration;
//  3. the process tree: the process and its ancestors, nearest first, up to
//     1024 levels, stopping at pid 1, looking for known agent programs (a
//     tree deeper than that counts as an agent, "unknown": nesting
//     processes must not hide one);
//  4. environment markers that an editor sets in every integrated terminal,
//     where its agent and a human type alike;
//  5. the LLM_SECRETS_AGENT=<name> declaration.
//
// The rule: no signal can remove or replace what another found. When the
// signals disagree — CODEX_SANDBOX=1 in a process whose parent is claude,
// AI_AGENT=human under Claude Code — the caller is every agent found, and
// every one of them must be allowed: a token's agent caveat must name each,
// and a policy must allow the request for each. A command Claude Code runs
// in a Cursor terminal is both claude-code and cursor. "human" is not an
// agent id and cannot be declared: a declaration that names no known agent
// ("human", "none", "", a typo) is the agent "unknown", which no token or
// policy can allow. A launcher's stamp (below) is the one exception: it
// replaces detection.
//
// # Agent ids
//
// The canonical ids are llm-secrets v3's — claude-code, cursor,
// github-copilot, aider, continue, windsurf — and amp, augment, cline,
// codex, gemini and opencode. Aliases: claude (claude-code), copilot
// (github-copilot), cursor-agent (cursor), gemini-cli (gemini), auggie
// (augment). Detection reports ids; Canonical turns an id or alias into
// its id and refuses any other name, listing the known ones, and every
// place a person names an agent (token caveats, policy rules, profiles,
// policy check) goes through it.
//
// Environment markers (presence counts, whatever the value, even empty):
//
//	agent           variable                         set in
//	claude-code     CLAUDECODE                       Claude Code's shells
//	claude-code     CLAUDE_CODE_ENTRYPOINT           Claude Code's shells
//	codex           CODEX_SANDBOX                    Codex CLI's shell tool
//	codex           CODEX_SANDBOX_NETWORK_DISABLED   Codex CLI's shell tool
//	codex           CODEX_THREAD_ID                  Codex CLI's shell tool
//	gemini          GEMINI_CLI                       Gemini CLI's shell commands
//	github-copilot  COPILOT_AGENT                    VS Code Copilot agent terminals
//	github-copilot  COPILOT_CLI                      Copilot CLI's commands
//	github-copilot  COPILOT_AGENT_SESSION_ID         Copilot cloud coding agent
//	cursor          CURSOR_AGENT                     Cursor CLI's commands
//	opencode        OPENCODE                         OpenCode's shell tool
//	amp             AMP_CURRENT_THREAD_ID            Amp's shell tool
//	cline           CLINE_ACTIVE                     terminals Cline creates
//	augment         AUGMENT_AGENT                    Auggie's shell tool
//	windsurf        WINDSURF_CASCADE_TERMINAL        terminals Cascade runs in
//	(declared)      AI_AGENT                         the AI_AGENT=<name> convention
//	cursor          CURSOR_TRACE_ID                  every Cursor terminal (editor)
//	windsurf        CODEIUM_EDITOR_APP_ROOT          every Windsurf terminal (editor)
//	(declared)      LLM_SECRETS_AGENT                a user's or wrapper's declaration
//
// agentid.go cites where each marker is documented or observed.
//
// Process names (the comm name, the executable's base name or argv[0]; for
// node, bun and python also the script, or its npm package):
//
//	claude, @anthropic-ai/claude-code  → claude-code
//	codex, @openai/codex               → codex
//	gemini, @google/gemini-cli         → gemini
//	copilot, @github/copilot           → github-copilot
//	cursor-agent                       → cursor
//	opencode, opencode-ai              → opencode
//	amp, @sourcegraph/amp              → amp
//	cline                              → cline
//	auggie, @augmentcode/auggie        → augment
//	aider                              → aider     (sets no marker)
//	cn, @continuedev/cli               → continue  (sets no marker)
//
// Detection fails closed. It can only be added to: a declaration adds an
// agent, never removes one, and no variable turns detection off. A human
// typing in a Cursor or Windsurf terminal, or under any process named like
// an agent, is treated as an agent.
//
// It is not a security boundary against the agent, and says so: the agent
// runs as the same user, so it can pass for a human, but only by scrubbing
// every marker from its environment and not running under a known agent
// process (renaming itself, or detaching from its tree). Detection catches
// agents that do not hide, which covers the accident and confusion threats
// (T1, T2 in docs/SECURITY.md); agent mode's sandbox answers an agent that
// hides (T4). Agents that set no marker and run under an editor process,
// such as older VS Code Copilot agent terminals, are not detected at all.
// The process tree is read from Linux's /proc; elsewhere only markers
// count.
//
// A launcher that started the agent itself and serves its requests (agent
// mode) does not detect: it stamps the agent it started (Stamped), and the
// environment and process tree of the request are not looked at.
//
// This package reads the environment and /proc and nothing else. It does
// not decide what a detected agent may do.
package agentid
