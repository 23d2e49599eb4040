package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Agent is what agent mode knows about one coding agent: where it keeps
// its own state (writable inside the sandbox, relative to the home
// directory) and which variables carry its own API key (kept in its
// environment while other credential variables are removed).
type Agent struct {
	ID      string
	State   []string
	KeyVars []string
}

// Agents is the per-agent table, by agent id. docs/AGENT-MODE.md shows it.
var Agents = []Agent{
	{ID: "claude-code",
		// ~/.claude.json is saved through a lock directory and a temp file
		// beside it, which cannot be allowed without the whole home; Claude
		// Code then writes the file in place, which works when it exists.
		State:   []string{".claude", ".claude.json", ".claude.json.backup", ".claude.lock", ".local/share/claude", ".local/state/claude", ".cache/claude-cli-nodejs"},
		KeyVars: []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"}},
	{ID: "codex",
		State:   []string{".codex"},
		KeyVars: []string{"OPENAI_API_KEY", "CODEX_API_KEY"}},
	{ID: "cursor",
		State:   []string{".cursor", ".config/cursor"},
		KeyVars: []string{"CURSOR_API_KEY"}},
	{ID: "aider",
		State:   []string{".aider", ".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json"},
		KeyVars: []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY"}},
	{ID: "gemini",
		State:   []string{".gemini"},
		KeyVars: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}},
	{ID: "github-copilot",
		State:   []string{".copilot", ".config/github-copilot"},
		KeyVars: []string{"COPILOT_GITHUB_TOKEN"}},
	{ID: "opencode",
		State:   []string{".local/share/opencode", ".local/state/opencode", ".config/opencode", ".cache/opencode"},
		KeyVars: []string{"OPENCODE_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"}},
}

// LookupAgent finds an agent's row by id.
func LookupAgent(id string) (Agent, bool) {
	for _, a := range Agents {
		if a.ID == id {
			return a, true
		}
	}
	return Agent{}, false
}

// SharedState are tool caches every agent's commands use (package
// managers, build caches), writable for any agent, relative to home.
var SharedState = []string{".cache", ".npm", ".cargo/registry", ".cargo/git", "go/pkg/mod"}

// DefaultStorePath is where llms keeps its store by default, relative to
// the home directory: hidden in every home, whichever store a launch uses,
// and never un-hidden by --allow-read.
const DefaultStorePath = ".local/share/llm-secrets"

// CredentialPaths are hidden by default, relative to the home directory:
// keys, cloud and registry credentials, and shell and REPL histories
// (which hold pasted secrets). --hide adds to the list, --allow-read
// removes an entry from it.
var CredentialPaths = []string{
	".ssh", ".gnupg", ".password-store",
	".aws", ".azure", ".config/gcloud", ".kube", ".oci",
	".docker/config.json", ".netrc", ".git-credentials", ".config/git/credentials",
	".config/gh", ".config/hub", ".npmrc", ".yarnrc.yml", ".pypirc",
	".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials",
	".pgpass", ".my.cnf", ".vault-token", ".terraform.d/credentials.tfrc.json",
	".bash_history", ".zsh_history", ".histfile", ".sh_history",
	".local/share/fish/fish_history", ".python_history", ".node_repl_history",
	".psql_history", ".mysql_history", ".sqlite_history", ".lesshst",
	// llm-secrets v3 kept its store and plaintext root key here.
	".llm-secrets",
}

// stateFiles are the entries of the agents' State that are files: the
// others, and SharedState, are directories.
var stateFiles = map[string]bool{
	".claude.json": true, ".claude.json.backup": true, ".claude.lock": true,
	".aider.conf.yml": true, ".aider.model.settings.yml": true, ".aider.model.metadata.json": true,
}

// MakeStateDirs creates in home, before the agent is confined, the state
// directories of agent id and the shared tool caches that are missing:
// Landlock grants a path only if it exists when the rules are made, and
// the home itself is never granted, so a directory the agent or a tool
// makes on first use (Claude Code's ~/.claude, the ~/.cache of go build)
// would stay out of reach for the whole session. A shared cache inside a
// tool's own directory (~/.cargo/registry, ~/go/pkg/mod) is made only
// where that directory is there: no ~/go for someone without Go. Only
// missing directories are made (0700), one path element at a time; an
// element that is there as something else (a file, a link) ends the walk
// and is left as it is, for the rules to judge.
func MakeStateDirs(home, id string) error {
	a, _ := LookupAgent(id)
	var dirs []string
	for _, rel := range SharedState {
		first, _, nested := strings.Cut(rel, "/")
		if fi, err := os.Lstat(filepath.Join(home, first)); !nested || err == nil && fi.IsDir() {
			dirs = append(dirs, rel)
		}
	}
	for _, rel := range append(dirs, a.State...) {
		if stateFiles[rel] {
			continue
		}
		p := home
		for _, part := range strings.Split(rel, "/") {
			p = filepath.Join(p, part)
			fi, err := os.Lstat(p)
			if err == nil && fi.IsDir() {
				continue
			}
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("agent sandbox: %w", err)
			}
			if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("agent sandbox: making the agent's state directory: %w", err)
			}
		}
	}
	return nil
}
