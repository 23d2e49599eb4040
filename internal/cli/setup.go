package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/human"
)

type setupOptions struct {
	IO         *IOStreams
	Caller     func() (*broker.Caller, error)
	Getenv     func(string) string
	Getwd      func() (string, error)
	ConfigDir  func() string
	StoreDir   func() (string, error)
	Executable func() (string, error)
	RunGit     func(dir string) (*gitrun.Git, error)

	Agent     string
	Project   bool
	Remove    bool
	Yes       bool
	TokenFile string
}

// setupAgents are the agents llms setup knows.
var setupAgents = []string{"aider", "claude", "codex", "cursor", "gemini"}

func newSetupCmd(f *Factory) *cobra.Command {
	opts := &setupOptions{IO: f.IO, Getenv: f.Getenv, Getwd: f.getwd, ConfigDir: f.configDir,
		StoreDir: f.StoreDir, Executable: os.Executable, RunGit: f.git}
	cmd := &cobra.Command{
		Use:   "setup " + strings.Join(setupAgents, "|") + " [--project] [--remove] [--yes]",
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
			if len(args) != 1 || !slices.Contains(setupAgents, args[0]) {
				return usagef("expected one agent: %s", strings.Join(setupAgents, ", "))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return runSetup(opts)
		},
	}
	opts.Caller = f.callerWithoutToken
	cmd.Flags().BoolVar(&opts.Project, "project", false, "write the repository's files instead of the user's")
	cmd.Flags().BoolVar(&opts.Remove, "remove", false, "take out what setup added")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "write without asking")
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "the token file the MCP entry names (default <config>/llm-secrets/mcp.token)")
	return cmd
}

func runSetup(opts *setupOptions) error {
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	if err := c.HumanOnly("sets up an agent"); err != nil {
		return err
	}
	env, err := opts.setupEnv()
	if err != nil {
		return err
	}
	state, err := loadSetupState(env.statePath)
	if err != nil {
		return err
	}
	p := &setupPlan{remove: opts.Remove, state: state}
	if err := planFor(opts.Agent, opts.Project, env, p); err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	for _, n := range p.notes {
		fprintf(opts.IO.ErrOut, "llms: note: %s\n", env.shortIn(n))
	}
	changes := p.changes()
	if records := p.records(); len(records) > 0 {
		// Records of entries no longer there, or no longer setup's.
		for path, rec := range records {
			state.set(path, rec)
		}
		if err := state.save(env.statePath); err != nil {
			return err
		}
	}
	if len(changes) == 0 {
		if opts.Remove {
			fprintf(opts.IO.Out, "nothing to remove for %s\n", opts.Agent)
		} else {
			fprintf(opts.IO.Out, "%s is set up: nothing to change\n", opts.Agent)
		}
		return nil
	}
	for _, ch := range changes {
		writeDiff(opts.IO.Out, env.short(ch.path), ch.old, ch.new, ch.exists, ch.delete)
	}
	if !opts.Yes {
		ok, err := askYes(opts.IO, "Write these changes?", "to set up an agent")
		if err != nil || !ok {
			return err
		}
	}
	for _, ch := range changes {
		err := ch.apply()
		if err == nil {
			// Each file's record is saved as soon as the file is written.
			state.set(ch.path, ch.rec)
			err = state.save(env.statePath)
		}
		if err != nil {
			return fmt.Errorf("%s: %w (the files listed before it were written)", ch.path, err)
		}
		verb := "wrote"
		if ch.delete {
			verb = "removed"
		}
		fprintf(opts.IO.Out, "%s: %s\n", verb, env.short(ch.path))
	}
	if _, err := os.Stat(env.tokenFile); err != nil && !opts.Remove && p.mcp {
		fprintf(opts.IO.ErrOut, "llms: the MCP entry reads its token from %s; save a delegated token there:\n  %s\n",
			env.tokenFile, mcpTokenCommand(opts.TokenFile, env.tokenFile))
	}
	return nil
}

// askYes asks on the terminal; without one it refuses, saying how to
// proceed.
func askYes(io *IOStreams, question, purpose string) (bool, error) {
	if !io.StdinTTY {
		return false, usagef("refusing %s without confirmation: standard input is not a terminal; pass --yes", purpose)
	}
	fprintf(io.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fprintf(io.ErrOut, "nothing changed\n")
		return false, nil
	}
	return true, nil
}

// setupEnv is where an agent's files are: the home directory, the project
// (the repository's top, or the working directory), and what the entries
// name.
type setupEnv struct {
	home, project, codexHome string
	storeDir                 string
	tokenFile, command       string
	// statePath is where setup records what it added.
	statePath string
}

func (opts *setupOptions) setupEnv() (setupEnv, error) {
	var e setupEnv
	e.home = opts.Getenv("HOME")
	if !filepath.IsAbs(e.home) {
		return e, errors.New("HOME is not set: the agents' files cannot be found")
	}
	e.home = filepath.Clean(e.home)
	cwd, err := opts.Getwd()
	if err != nil {
		return e, err
	}
	e.project = cwd
	if repo, err := openRepo(opts.RunGit, cwd); err == nil {
		e.project = repo.Top
	}
	e.codexHome = filepath.Join(e.home, ".codex")
	if v := opts.Getenv("CODEX_HOME"); filepath.IsAbs(v) {
		e.codexHome = v
	}
	if e.storeDir, err = opts.StoreDir(); err != nil {
		return e, err
	}
	e.statePath = setupStatePath(opts.Getenv, e.home)
	e.tokenFile, e.command, err = mcpEntryPaths(opts.TokenFile, "", opts.ConfigDir, opts.Executable)
	return e, err
}

// short writes a path under the home directory as ~/….
func (e setupEnv) short(p string) string { return human.TildePath(e.home, p) }

// shortIn writes the home directory as ~ in a note that starts with a path.
func (e setupEnv) shortIn(note string) string {
	if rest, ok := strings.CutPrefix(note, e.home+string(filepath.Separator)); ok {
		return "~/" + rest
	}
	return note
}

// A fileChange is one file's new content (or its removal), and setup's
// record of it afterwards (nil: none).
type fileChange struct {
	path     string
	old, new []byte
	exists   bool
	delete   bool
	mode     fs.FileMode
	rec      *setupRecord
}

func (ch fileChange) apply() error {
	if ch.delete {
		return os.Remove(ch.path)
	}
	if err := os.MkdirAll(filepath.Dir(ch.path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(ch.path, ch.new, ch.mode)
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so that a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".llms-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// writeDiff shows a change: the bytes that differ, between the unchanged
// head and tail of the file, old ones with "-", new ones with "+". A line
// the change begins or ends inside shows only its changed part, after or
// before "…": the rest of a file (which can hold other servers' tokens)
// never reaches the terminal, whatever its layout.
func writeDiff(w io.Writer, name string, old, new []byte, existed, deleted bool) {
	p, s := commonEnds(old, new)
	from, to := name, name
	if !existed {
		from = "/dev/null (new file)"
	}
	if deleted {
		to = "/dev/null (file removed)"
	}
	fprintf(w, "--- %s\n+++ %s\n@@ line %d @@\n", from, to, bytes.Count(old[:p], []byte("\n"))+1)
	head := p > 0 && old[p-1] != '\n'
	tail := s > 0 && old[len(old)-s] != '\n'
	for _, side := range []struct {
		sign string
		text []byte
	}{{"-", old[p : len(old)-s]}, {"+", new[p : len(new)-s]}} {
		lines := splitLines(string(side.text))
		for i, l := range lines {
			if i == 0 && head {
				l = "…" + l
			}
			if i == len(lines)-1 && tail && !strings.HasSuffix(string(side.text), "\n") {
				l += "…"
			}
			fprintf(w, "%s%s\n", side.sign, l)
		}
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
