package setup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/durable"
	"github.com/llm-secrets/llms/internal/human"
)

// Options is one run of setup: where it reads and writes, who asks, and
// the command's flags.
type Options struct {
	Stdout, Stderr io.Writer
	// Confirm asks the human whether to go on (unless Yes).
	Confirm func(question, purpose string) (bool, error)
	Caller  func() (*broker.Caller, error)
	Getenv  func(string) string
	Getwd   func() (string, error)
	// ConfigDir is the user's configuration directory; StoreDir the store;
	// Executable this binary, which the MCP entry starts.
	ConfigDir  func() string
	StoreDir   func() (string, error)
	Executable func() (string, error)
	// RepoTop is the top of the repository that holds dir: the project
	// --project writes.
	RepoTop func(dir string) (string, error)

	Agent     string
	Project   bool
	Remove    bool
	Yes       bool
	TokenFile string
}

// Agents are the agents llms setup knows.
var Agents = []string{"aider", "claude", "codex", "cursor", "gemini"}

// Run writes (or with Remove takes out) what opts.Agent needs to use
// secrets through llms, after showing the diff and asking.
func Run(opts *Options) error {
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
		human.Fprintf(opts.Stderr, "llms: note: %s\n", env.shortIn(n))
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
			human.Fprintf(opts.Stdout, "nothing to remove for %s\n", opts.Agent)
		} else {
			human.Fprintf(opts.Stdout, "%s is set up: nothing to change\n", opts.Agent)
		}
		return nil
	}
	for _, ch := range changes {
		writeDiff(opts.Stdout, env.short(ch.path), ch.old, ch.new, ch.exists, ch.delete)
	}
	if !opts.Yes {
		ok, err := opts.Confirm("Write these changes?", "to set up an agent")
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
		human.Fprintf(opts.Stdout, "%s: %s\n", verb, env.short(ch.path))
	}
	if _, err := os.Stat(env.tokenFile); err != nil && !opts.Remove && p.mcp {
		human.Fprintf(opts.Stderr, "llms: the MCP entry reads its token from %s; save a delegated token there:\n  %s\n",
			env.tokenFile, TokenCommand(opts.TokenFile, env.tokenFile))
	}
	return nil
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

func (opts *Options) setupEnv() (setupEnv, error) {
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
	if top, err := opts.RepoTop(cwd); err == nil {
		e.project = top
	}
	e.codexHome = filepath.Join(e.home, ".codex")
	if v := opts.Getenv("CODEX_HOME"); filepath.IsAbs(v) {
		e.codexHome = v
	}
	if e.storeDir, err = opts.StoreDir(); err != nil {
		return e, err
	}
	e.statePath = setupStatePath(opts.Getenv, e.home)
	e.tokenFile, e.command, err = EntryPaths(opts.TokenFile, "", opts.ConfigDir, opts.Executable)
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
	return durable.ReplaceFile(ch.path, ch.new, ch.mode)
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
	human.Fprintf(w, "--- %s\n+++ %s\n@@ line %d @@\n", from, to, bytes.Count(old[:p], []byte("\n"))+1)
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
			human.Fprintf(w, "%s%s\n", side.sign, l)
		}
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
