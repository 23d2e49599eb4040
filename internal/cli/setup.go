package cli

import (
	"bufio"
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
	"github.com/llm-secrets/llms/internal/leakscan"
)

type setupOptions struct {
	IO         *IOStreams
	Caller     func() (*broker.Caller, error)
	Getenv     func(string) string
	Getwd      func() (string, error)
	ConfigDir  func() string
	StoreDir   func() (string, error)
	Executable func() (string, error)

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
		StoreDir: f.StoreDir, Executable: os.Executable}
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
terminal and without --yes it refuses). It changes only what it adds, keeps
the rest of each file and the order of its keys, and running it again
changes nothing. --remove takes out what setup added, and deletes a file that
setup created. What an agent cannot do (aider has no MCP client, Codex no
rule against reading a file) is said, not faked. Only the human sets up.

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
	p := &setupPlan{remove: opts.Remove}
	if err := planFor(opts.Agent, opts.Project, env, p); err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	for _, n := range p.notes {
		fprintf(opts.IO.ErrOut, "llms: note: %s\n", n)
	}
	changes := p.changes()
	if len(changes) == 0 {
		if opts.Remove {
			fprintf(opts.IO.Out, "nothing to remove for %s\n", opts.Agent)
		} else {
			fprintf(opts.IO.Out, "%s is set up: nothing to change\n", opts.Agent)
		}
		return nil
	}
	for _, ch := range changes {
		writeDiff(opts.IO.Out, env.short(ch.path), ch.shown, ch.new, ch.exists, ch.delete)
		if ch.relaid {
			fprintf(opts.IO.Out, "(the rest of %s is kept, rewritten with two-space indentation)\n", env.short(ch.path))
		}
	}
	if !opts.Yes {
		ok, err := askYes(opts.IO, "Write these changes?", "to set up an agent")
		if err != nil || !ok {
			return err
		}
	}
	for _, ch := range changes {
		if err := ch.apply(); err != nil {
			return fmt.Errorf("%s: %w (the files listed before it were written)", ch.path, err)
		}
		verb := "wrote"
		if ch.delete {
			verb = "removed"
		}
		fprintf(opts.IO.Out, "%s: %s\n", verb, env.short(ch.path))
	}
	if !opts.Remove && p.mcp {
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
	if repo, err := leakscan.OpenRepo(cwd); err == nil {
		e.project = repo.Top
	}
	e.codexHome = filepath.Join(e.home, ".codex")
	if v := opts.Getenv("CODEX_HOME"); filepath.IsAbs(v) {
		e.codexHome = v
	}
	if e.storeDir, err = opts.StoreDir(); err != nil {
		return e, err
	}
	e.tokenFile, e.command, err = mcpEntryPaths(opts.TokenFile, "", opts.ConfigDir, opts.Executable)
	return e, err
}

// short writes a path under the home directory as ~/….
func (e setupEnv) short(p string) string { return tildePath(e.home, p) }

// A fileChange is one file's new content (or its removal).
type fileChange struct {
	path     string
	old, new []byte
	// shown is old as the diff compares it: a JSON file in the layout
	// setup writes, so that the diff holds only what setup changes and
	// never reprints the rest of the file (which can hold other servers'
	// tokens) because its layout differs. relaid says it did.
	shown  []byte
	relaid bool
	exists bool
	delete bool
	mode   fs.FileMode
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

// writeDiff shows a change: the lines between the unchanged head and tail
// of the file, old ones with "-", new ones with "+".
func writeDiff(w io.Writer, name string, old, new []byte, existed, deleted bool) {
	a, b := splitLines(string(old)), splitLines(string(new))
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	from, to := name, name
	if !existed {
		from = "/dev/null (new file)"
	}
	if deleted {
		to = "/dev/null (file removed)"
	}
	fprintf(w, "--- %s\n+++ %s\n@@ line %d @@\n", from, to, head+1)
	for _, l := range a[head : len(a)-tail] {
		fprintf(w, "-%s\n", l)
	}
	for _, l := range b[head : len(b)-tail] {
		fprintf(w, "+%s\n", l)
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
