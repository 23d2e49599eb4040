package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/agentmode"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/human"
	"github.com/llm-secrets/llms/internal/leakscan"
	"github.com/llm-secrets/llms/internal/sandbox"
)

type scanOptions struct {
	IO *IOStreams
	access
	Getenv func(string) string
	Getwd  func() (string, error)
	Now    func() time.Time
	// RunGit is how the repository in a directory is read (gitrun).
	RunGit func(dir string) (*gitrun.Git, error)

	Paths        []string
	Agents       bool
	ShellHistory bool
	Git          bool
	AllHistory   bool
	Staged       bool
	InstallHook  bool
	Binaries     bool
	JSON         bool
}

func newScanCmd(f *Factory) *cobra.Command {
	opts := &scanOptions{IO: f.IO, Getenv: f.Getenv, Getwd: f.getwd, Now: f.now, RunGit: f.git}
	cmd := &cobra.Command{
		Use:   "scan [PATH…] [--agents] [--shell-history] [--git [--all-history | --staged]] [--json]",
		Short: "Look for stored secrets in transcripts, histories, files and git",
		Long: `Look for every stored value, and every encoding of it that exec's redaction
knows (base64, hex, percent and JSON escapes, wrapped and dumped forms), in:

  PATH…             files, and every file under directories (binaries over
                    1 MiB are skipped unless --binaries)
  --agents          the transcripts and histories the coding agents keep
                    (Claude Code, Codex, Cursor, aider, Gemini CLI, Continue)
  --shell-history   bash, zsh and fish history
  --git             the working tree of the repository here; with
                    --all-history also every blob reachable from any ref;
                    with --staged only what is staged (a pre-commit hook)

Each finding is one line: path:line:column: the secret's name, the encoding
found, and when the secret was last changed: if it changed before the leak,
rotate it. The value, and the text around it, are never shown. --json prints
one JSON object per finding.

Exit status: 0 nothing found, 1 something found, 2 an error (a file that
could not be read, bad flags), 3 refused. Only the human scans: a detected
agent, or anyone holding a token, is refused. The scan and each finding are
recorded in the audit log (names and places, never values).

--install-hook writes a git pre-commit hook that runs "llms scan --git
--staged", so that a commit holding a secret is refused.`,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Paths = args
			return runScan(opts)
		},
	}
	// No token flags: a token in the environment is seen, and refused.
	opts.access = access{Caller: func() (*broker.Caller, error) { return f.callerWithToken(cmd, &tokenFlags{}) }, Broker: f.Broker}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Agents, "agents", false, "scan the coding agents' transcripts and histories")
	fl.BoolVar(&opts.ShellHistory, "shell-history", false, "scan bash, zsh and fish history")
	fl.BoolVar(&opts.Git, "git", false, "scan the git working tree here")
	fl.BoolVar(&opts.AllHistory, "all-history", false, "with --git: also every blob reachable from any ref")
	fl.BoolVar(&opts.Staged, "staged", false, "with --git: only the staged changes, instead of the working tree")
	fl.BoolVar(&opts.InstallHook, "install-hook", false, "write a pre-commit hook that runs llms scan --git --staged")
	fl.BoolVar(&opts.Binaries, "binaries", false, "scan binary files of any size")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per finding")
	return cmd
}

func runScan(opts *scanOptions) error {
	if opts.InstallHook {
		if opts.Agents || opts.ShellHistory || opts.Git || opts.AllHistory || opts.Staged || len(opts.Paths) > 0 {
			return usagef("--install-hook takes no other flag or path")
		}
		return installHook(opts)
	}
	if (opts.AllHistory || opts.Staged) && !opts.Git {
		return usagef("--all-history and --staged go with --git")
	}
	if !opts.Agents && !opts.ShellHistory && !opts.Git && len(opts.Paths) == 0 {
		return usagef("nothing to scan: name files or directories, or use --agents, --shell-history or --git")
	}
	inputs, scope, err := opts.inputs()
	if err != nil {
		return exitWith{exitUsage, err}
	}
	b, c, err := opts.open()
	if err != nil {
		return scanFailed(err)
	}
	out := scanOutput{opts: opts, home: opts.home()}
	sum, err := b.Scan(c, broker.ScanRequest{
		Inputs:   inputs,
		Scope:    scope,
		Found:    out.found,
		Failed:   out.failed,
		Skipped:  out.skipped,
		Progress: out.progress,
	})
	out.clearProgress()
	if err != nil {
		return scanFailed(err)
	}
	for _, name := range sum.Short {
		fprintf(opts.IO.ErrOut, "llms: warning: %s is shorter than 4 bytes and was not looked for\n", name)
	}
	fprintf(opts.IO.ErrOut, "llms: scanned %s in %s for %s: %s\n",
		count(sum.Inputs, "stream"), byteSize(sum.Bytes), count(sum.Secrets, "secret"), count(sum.Findings, "finding"))
	switch {
	case sum.Findings > 0:
		return childExit{Code: 1} // found: the findings said it all
	case sum.Failed > 0:
		return exitWith{exitUsage, fmt.Errorf("%s could not be read", count(sum.Failed, "input"))}
	}
	return nil
}

// scanFailed gives an error scan's exit status: 3 when refused, else 2
// (1 means "found").
func scanFailed(err error) error {
	if errors.Is(err, broker.ErrDenied) {
		return err
	}
	return exitWith{exitUsage, err}
}

// inputs assembles what to scan, and says what it is for the audit line.
func (opts *scanOptions) inputs() (iter.Seq2[leakscan.Input, error], string, error) {
	var seqs []iter.Seq2[leakscan.Input, error]
	var scope []string
	maxBinary := int64(leakscan.DefaultMaxBinary)
	if opts.Binaries {
		maxBinary = -1
	}
	walk := leakscan.Options{MaxBinary: maxBinary}
	if len(opts.Paths) > 0 {
		seqs = append(seqs, leakscan.Paths(opts.Paths, walk))
		scope = append(scope, "paths "+strings.Join(opts.Paths, " "))
	}
	cwd, err := opts.Getwd()
	if err != nil {
		return nil, "", err
	}
	var repo *leakscan.Repo
	if opts.Git || opts.Agents {
		repo, err = openRepo(opts.RunGit, cwd)
		if err != nil && opts.Git {
			return nil, "", err
		}
	}
	env := leakscan.Env{Home: opts.home(), Getenv: opts.Getenv, Projects: []string{cwd}}
	if repo != nil && repo.Top != cwd {
		env.Projects = append(env.Projects, repo.Top)
	}
	if env.Home == "" && (opts.Agents || opts.ShellHistory) {
		return nil, "", errors.New("HOME is not set: the agents' and shells' files cannot be found")
	}
	if opts.Agents {
		seqs = append(seqs, leakscan.Scan(leakscan.Agents(env)))
		scope = append(scope, "agents")
	}
	if opts.ShellHistory {
		seqs = append(seqs, leakscan.Scan(leakscan.ShellHistories(env)))
		scope = append(scope, "shell history")
	}
	if opts.Git {
		if opts.Staged {
			seqs = append(seqs, repo.Staged(walk))
			scope = append(scope, "git index of "+repo.Top)
		} else {
			seqs = append(seqs, repo.WorkTree(walk))
			scope = append(scope, "git work tree "+repo.Top)
		}
		if opts.AllHistory {
			seqs = append(seqs, repo.History(walk))
			scope = append(scope, "git history")
		}
	}
	return leakscan.Concat(seqs...), strings.Join(scope, ", "), nil
}

// openRepo finds the repository that holds dir, read through the git
// runGit gives. That git lives as long as the command: llms ends with it.
func openRepo(runGit func(string) (*gitrun.Git, error), dir string) (*leakscan.Repo, error) {
	g, err := runGit(dir)
	if err != nil {
		return nil, err
	}
	return leakscan.OpenRepo(g, dir)
}

// git is how llms runs git in dir (gitrun): confined away from what agent
// mode hides, with the caller's $GIT_INDEX_FILE (a pre-commit hook's).
func (f *Factory) git(dir string) (*gitrun.Git, error) {
	store, err := f.StoreDir()
	if err != nil {
		return nil, err
	}
	o, err := agentmode.ProtectedPaths(f.accountHome, f.LookupEnv, store, f.llmsConfigDirs())
	if err != nil {
		return nil, err
	}
	hide, err := sandbox.HiddenPaths(o)
	if err != nil {
		return nil, err
	}
	idx, _ := f.LookupEnv("GIT_INDEX_FILE")
	return gitrun.New(gitrun.Options{Home: o.Homes[0], Hide: hide, Dir: dir, IndexFile: idx})
}

// home is $HOME, where the agents and shells keep their files.
func (opts *scanOptions) home() string {
	if h := opts.Getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Clean(h)
	}
	return ""
}

func installHook(opts *scanOptions) error {
	cwd, err := opts.Getwd()
	if err != nil {
		return err
	}
	repo, err := openRepo(opts.RunGit, cwd)
	if err != nil {
		return usageError{Err: err}
	}
	path, written, err := repo.InstallHook()
	if errors.Is(err, leakscan.ErrHookExists) {
		return usageError{Err: err}
	}
	if err != nil {
		return err
	}
	if written {
		fprintf(opts.IO.Out, "installed: %s\n", path)
	} else {
		fprintf(opts.IO.Out, "already installed: %s\n", path)
	}
	return nil
}

// scanOutput prints findings, failures and a progress line.
type scanOutput struct {
	opts     *scanOptions
	home     string
	drawn    bool      // a progress line is on the terminal
	lastDraw time.Time // when it was drawn
}

func (o *scanOutput) found(f broker.ScanFinding) error {
	o.clearProgress()
	if o.opts.JSON {
		line, err := json.Marshal(struct {
			Path     string    `json:"path"`
			Line     int       `json:"line"`
			Column   int       `json:"column"`
			Offset   int64     `json:"offset"`
			Secret   string    `json:"secret"`
			Encoding string    `json:"encoding"`
			Changed  time.Time `json:"changed"`
		}{f.Path, f.Line, f.Column, f.Offset, f.Secret, f.Encoding, f.Changed})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.opts.IO.Out, "%s\n", line)
		return err
	}
	fprintf(o.opts.IO.Out, "%s:%d:%d: %s (%s), last changed %s\n",
		o.shortPath(f.Path), f.Line, f.Column, f.Secret, f.Encoding, f.Changed.UTC().Format("2006-01-02 15:04 UTC"))
	return nil
}

func (o *scanOutput) failed(path string, err error) {
	o.clearProgress()
	fprintf(o.opts.IO.ErrOut, "llms: scan: %s\n", errorText(path, err))
}

func (o *scanOutput) skipped(path, why string) {
	o.clearProgress()
	fprintf(o.opts.IO.ErrOut, "llms: skipped %s: %s\n", o.shortPath(path), why)
}

// errorText names the path once: errors from os already carry it.
func errorText(path string, err error) string {
	if strings.Contains(err.Error(), path) {
		return err.Error()
	}
	return path + ": " + err.Error()
}

// shortPath writes a path under the home directory as ~/….
func (o *scanOutput) shortPath(p string) string { return human.TildePath(o.home, p) }

// progress draws, at most ten times a second, how far a long scan is, on
// standard error when it is a terminal.
func (o *scanOutput) progress(n int64, path string) {
	if !o.opts.IO.StderrTTY {
		return
	}
	now := o.opts.Now()
	if now.Sub(o.lastDraw) < 100*time.Millisecond {
		return
	}
	o.lastDraw = now
	name := o.shortPath(path)
	if len(name) > 50 {
		name = "…" + name[len(name)-49:]
	}
	fprintf(o.opts.IO.ErrOut, "\r\x1b[Kscanning: %s  %s", byteSize(n), name)
	o.drawn = true
}

func (o *scanOutput) clearProgress() {
	if o.drawn {
		fmt.Fprint(o.opts.IO.ErrOut, "\r\x1b[K")
		o.drawn = false
	}
}

// count writes "1 finding", "2 findings".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
