// Package agentid tells whether an AI coding agent is running us, and which.
//
// Detection looks at three things, in this order, and reports the first hit:
//
//  1. environment markers that an agent sets in the shells it spawns;
//  2. the process tree: the process and its ancestors, nearest first, up to
//     1024 levels, stopping at pid 1, looking for a known agent program (a
//     tree deeper than that counts as an agent, "unknown": nesting
//     processes must not hide one);
//  3. environment markers that an editor sets in every integrated terminal,
//     where its agent and a human type alike;
//
// and last the declaration LLM_SECRETS_AGENT=<name>. The order only decides
// the name reported: an agent started from an editor terminal is named
// rather than the editor, and the nearest agent in the tree is named rather
// than one that started it.
//
// Environment markers (presence counts, whatever the value, even empty):
//
//	agent     variable                         set in
//	claude    CLAUDECODE                       Claude Code's shells
//	claude    CLAUDE_CODE_ENTRYPOINT           Claude Code's shells
//	codex     CODEX_SANDBOX                    Codex CLI's shell tool
//	codex     CODEX_SANDBOX_NETWORK_DISABLED   Codex CLI's shell tool
//	codex     CODEX_THREAD_ID                  Codex CLI's shell tool
//	gemini    GEMINI_CLI                       Gemini CLI's shell commands
//	copilot   COPILOT_AGENT                    VS Code Copilot agent terminals
//	copilot   COPILOT_CLI                      Copilot CLI's commands
//	copilot   COPILOT_AGENT_SESSION_ID         Copilot cloud coding agent
//	cursor    CURSOR_AGENT                     Cursor CLI's commands
//	opencode  OPENCODE                         OpenCode's shell tool
//	amp       AMP_CURRENT_THREAD_ID            Amp's shell tool
//	cline     CLINE_ACTIVE                     terminals Cline creates
//	augment   AUGMENT_AGENT                    Auggie's shell tool
//	windsurf  WINDSURF_CASCADE_TERMINAL        terminals Cascade runs in
//	(value)   AI_AGENT                         the AI_AGENT=<name> convention
//	cursor    CURSOR_TRACE_ID                  every Cursor terminal (editor)
//	windsurf  CODEIUM_EDITOR_APP_ROOT          every Windsurf terminal (editor)
//
// agentid.go cites where each marker is documented or observed.
//
// Process names (the comm name, the executable's base name or argv[0]; for
// node, bun and python also the script, or its npm package):
//
//	claude, @anthropic-ai/claude-code  → claude
//	codex, @openai/codex               → codex
//	gemini, @google/gemini-cli         → gemini
//	copilot, @github/copilot           → copilot
//	cursor-agent                       → cursor
//	opencode, opencode-ai              → opencode
//	amp, @sourcegraph/amp              → amp
//	cline                              → cline
//	auggie, @augmentcode/auggie        → augment
//	aider                              → aider     (sets no marker)
//	cn, @continuedev/cli               → continue  (sets no marker)
//
// Agent names match [a-z0-9][a-z0-9._-]{0,63}, the grammar of the agent
// caveat. A name taken from AI_AGENT or LLM_SECRETS_AGENT is lowercased;
// one that still does not fit is reported as "unknown".
//
// Detection fails closed. It can only be added to: LLM_SECRETS_AGENT
// declares an agent where nothing else was found, and no variable turns
// detection off. A human typing in a Cursor or Windsurf terminal, or under
// any process named like an agent, is treated as an agent.
//
// It is not a security boundary against the agent, and says so: the agent
// runs as the same user, so it can pass for a human, but only by scrubbing
// every marker from its environment and not running under a known agent
// process (renaming itself, or detaching from its tree). Detection catches
// agents that do not hide, which covers the accident and confusion threats
// (T1, T2); agent mode's sandbox answers an agent that hides (T4). Agents
// that set no marker and run under an editor process, such as older VS Code
// Copilot agent terminals, are not detected at all. The process tree is read
// from Linux's /proc; elsewhere only markers count.
//
// A launcher that started the agent itself and serves its requests (agent
// mode) does not detect: it stamps the agent it started (Stamped), and the
// environment and process tree of the request are not looked at.
//
// This package reads the environment and /proc and nothing else. It does
// not decide what a detected agent may do.
package agentid
