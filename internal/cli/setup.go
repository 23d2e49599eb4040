package cli

import (
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/setup"
)

func newSetupCmd(f *Factory) *cobra.Command {
	opts := &setup.Options{Stdout: f.IO.Out, Stderr: f.IO.ErrOut, Getenv: f.Getenv, Getwd: f.getwd,
		ConfigDir: f.configDir, StoreDir: f.StoreDir, Executable: os.Executable}
	opts.Confirm = func(question, purpose string) (bool, error) { return askYes(f.IO, question, purpose) }
	opts.RepoTop = func(dir string) (string, error) {
		repo, err := openRepo(f.git, dir)
		if err != nil {
			return "", err
		}
		return repo.Top, nil
	}
	cmd := &cobra.Command{
		Use:   "setup " + strings.Join(setup.Agents, "|") + " [--project] [--remove] [--yes]",
		Short: "Wire an agent to llms: MCP server, deny rules, instructions",
		Long: `Write what an agent needs to use secrets through llms instead of asking for
them, in the agent's own files:

  - the MCP server entry that starts "llms mcp", with the token named by file
    (the same entry "llms mcp config" prints);
  - the agent's own rules against reading .env files and the llms store,
    where the agent has such rules (Claude Code's permissions.deny, Cursor's
    .cursorignore, Gemini CLI's .geminiignore, aider's .aiderignore);
  - a short instructions snippet (CLAUDE.md, AGENTS.md, GEMINI.md, a Cursor
    rule, aider's conventions) saying to run commands with "llms exec" or the
    run_with_secrets and request_secret tools, never to ask for a value.

Without --project the user's files are written (~/.claude, ~/.codex, …); with
--project, the files of the repository here (or of this directory). Setup
shows the changes as a diff and asks (--yes answers for you; without a
terminal and without --yes it refuses). It changes only what it adds, in the
layout of the file around it, and running it again changes nothing. An llms
server entry that setup did not add is the user's and is left as it is.

What setup added is recorded in $XDG_STATE_HOME/llm-secrets/setup.json
(~/.local/state), not in the agents' files, which the agents rewrite.
--remove gives a file its bytes back when it is still as setup left it (and
deletes a file setup created); once the agent rewrote it, --remove takes out
setup's entries by structure and touches nothing else. What an agent cannot
do (aider has no MCP client, Codex no rule against reading a file) is said,
not faked. Only the human sets up.

docs/SETUP.md lists every file written, per agent.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(setup.Agents, args[0]) {
				return usagef("expected one agent: %s", strings.Join(setup.Agents, ", "))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return setup.Run(opts)
		},
	}
	opts.Caller = f.callerWithoutToken
	cmd.Flags().BoolVar(&opts.Project, "project", false, "write the repository's files instead of the user's")
	cmd.Flags().BoolVar(&opts.Remove, "remove", false, "take out what setup added")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "write without asking")
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "the token file the MCP entry names (default <config>/llm-secrets/mcp.token)")
	return cmd
}
