package leakscan

import (
	"iter"
	"path/filepath"
	"slices"
)

// A Location is a place where an agent or a shell keeps what was typed,
// run or printed.
type Location struct {
	Owner string // the agent id (llm-secrets v3's names), or the shell
	What  string // what is kept there
	// Pattern is an absolute path, with filepath.Match wildcards in its
	// elements. A matching directory is scanned whole.
	Pattern string
}

// Env is what the locations depend on: the home directory, the
// environment (CLAUDE_CONFIG_DIR, CODEX_HOME, XDG_*, HISTFILE, …) and the
// directories aider may have kept its files in.
type Env struct {
	Home   string
	Getenv func(string) string
	// Projects are the working directory and the top of the repository
	// that holds it, if any: aider writes its history files to the
	// repository's top, or to the directory it was started in.
	Projects []string
}

func (e Env) dir(variable, fallback string) string {
	if v := e.Getenv(variable); v != "" && filepath.IsAbs(v) {
		return v
	}
	return fallback
}

// Agents lists the transcript and history stores of the agents, at their
// default locations or where their documented variables move them.
func Agents(e Env) []Location {
	h := e.Home
	claude := e.dir("CLAUDE_CONFIG_DIR", filepath.Join(h, ".claude"))
	codex := e.dir("CODEX_HOME", filepath.Join(h, ".codex"))
	gemini := filepath.Join(h, ".gemini")
	xdgConfig := e.dir("XDG_CONFIG_HOME", filepath.Join(h, ".config"))
	var l []Location
	add := func(owner, what string, patterns ...string) {
		for _, p := range patterns {
			l = append(l, Location{owner, what, p})
		}
	}
	add("claude-code", "session transcripts, subagent transcripts, spilled tool output",
		filepath.Join(claude, "projects"))
	add("claude-code", "prompt history", filepath.Join(claude, "history.jsonl"))
	add("claude-code", "snapshots of the files it edited", filepath.Join(claude, "file-history"))
	add("claude-code", "snapshots of the shell environment its commands run in", filepath.Join(claude, "shell-snapshots"))
	add("codex", "session rollouts", filepath.Join(codex, "sessions"), filepath.Join(codex, "archived_sessions"))
	add("codex", "prompt history", filepath.Join(codex, "history.jsonl"))
	add("codex", "SQLite session index and transcript projection", filepath.Join(codex, "*.sqlite"))
	add("cursor", "chat and composer databases (SQLite)",
		filepath.Join(xdgConfig, "Cursor", "User", "globalStorage", "state.vscdb"),
		filepath.Join(xdgConfig, "Cursor", "User", "workspaceStorage", "*", "state.vscdb"),
		filepath.Join(h, "Library", "Application Support", "Cursor", "User", "globalStorage", "state.vscdb"),
		filepath.Join(h, "Library", "Application Support", "Cursor", "User", "workspaceStorage", "*", "state.vscdb"))
	add("cursor", "cursor-agent chats (SQLite) and agent transcripts",
		filepath.Join(h, ".cursor", "chats"),
		filepath.Join(h, ".cursor", "projects", "*", "agent-transcripts"))
	for _, dir := range e.Projects {
		add("aider", "chat and input history of this project",
			filepath.Join(dir, ".aider.chat.history.md"),
			filepath.Join(dir, ".aider.input.history"),
			filepath.Join(dir, ".aider.llm.history"))
	}
	for _, v := range []string{"AIDER_CHAT_HISTORY_FILE", "AIDER_INPUT_HISTORY_FILE", "AIDER_LLM_HISTORY_FILE"} {
		if p := e.Getenv(v); p != "" && filepath.IsAbs(p) {
			add("aider", "history file named by $"+v, p)
		}
	}
	add("gemini", "sessions, saved chats and checkpoints", filepath.Join(gemini, "tmp"), filepath.Join(gemini, "history"))
	add("continue", "sessions", filepath.Join(h, ".continue", "sessions"))
	return l
}

// ShellHistories lists the history files of bash, zsh and fish.
func ShellHistories(e Env) []Location {
	h := e.Home
	zdot := e.dir("ZDOTDIR", h)
	data := e.dir("XDG_DATA_HOME", filepath.Join(h, ".local", "share"))
	l := []Location{
		{"bash", "history", filepath.Join(h, ".bash_history")},
		{"zsh", "history", filepath.Join(zdot, ".zsh_history")},
		{"zsh", "history", filepath.Join(zdot, ".zhistory")},
		{"fish", "history", filepath.Join(data, "fish", "fish_history")},
	}
	if p := e.Getenv("HISTFILE"); p != "" && filepath.IsAbs(p) {
		l = append(l, Location{"shell", "history named by $HISTFILE", p})
	}
	return l
}

// Scan yields every file at the locations that exist, each file once,
// whatever its size or content: these are stores the agents write, and a
// SQLite database is binary. A location that does not exist is skipped
// silently (that agent is not installed).
func Scan(locations []Location) iter.Seq2[Input, error] {
	return func(yield func(Input, error) bool) {
		seen := map[string]bool{}
		all := Options{MaxBinary: -1}
		for _, loc := range locations {
			matches, err := filepath.Glob(loc.Pattern)
			if err != nil {
				if !yield(Input{Path: loc.Pattern}, err) {
					return
				}
				continue
			}
			slices.Sort(matches)
			for _, m := range matches {
				if seen[m] {
					continue
				}
				seen[m] = true
				ok := walk(m, all, false, func(in Input, err error) bool {
					if err == nil && seen[in.Path] && in.Path != m {
						return true
					}
					seen[in.Path] = true
					return yield(in, err)
				})
				if !ok {
					return
				}
			}
		}
	}
}
