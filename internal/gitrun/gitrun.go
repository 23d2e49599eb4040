// Package gitrun owns the one way llms runs git: on a repository that
// whoever writes the working tree controls (an agent, in agent mode), so
// that nothing the repository says is run.
//
// A repository's .git/config, and every file it includes, can name
// programs git runs as a matter of course — core.fsmonitor on every look
// at the working tree, hooks, pagers, diff and merge drivers, textconv and
// clean/smudge filters, transports for a lazy fetch, gpg for a signed
// commit. Git has no switch that ignores a repository's config, so every
// git command llms runs is built here, and here only:
//
//   - command-line settings, which outrank every config file, switch off
//     each key that runs a program on the commands llms uses (the list is
//     safeConfig), --no-pager, --no-replace-objects and --no-optional-locks
//     come first, and diff commands get --no-ext-diff and --no-textconv;
//   - a fixed environment: no variable of the caller's but GIT_INDEX_FILE
//     (what git hands a pre-commit hook), PATH the system's, HOME the
//     account's, the system config ignored, prompts off;
//   - git itself from a fixed system path, never $PATH;
//   - git confined with Landlock when the kernel has it: it may read
//     everything but the hidden paths (sandbox.HiddenPaths: the llms store,
//     key files, credentials), write nothing, and execute only its own
//     binary and the dynamic loader that binary needs, so that a key
//     nobody listed still cannot start a shell or another program.
//
// It refuses write operations by construction: nothing here runs a git
// command that changes the repository, and the confined git could not —
// except the Writer (sync.go), which `llms sync` alone uses, runs a fixed
// list of commands that write objects and refs, and is confined to the
// git directory.
package gitrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// Options say whose git llms runs, and what it may not read.
type Options struct {
	// Home is the account's home directory (from the user database): the
	// global config is read from there, as git does.
	Home string
	// Hide are paths git may not read (sandbox.HiddenPaths). A hidden path
	// that holds the working directory is not hidden: the user asked for
	// that repository.
	Hide []string
	// Dir is the working directory of the command llms runs for.
	Dir string
	// IndexFile is the caller's $GIT_INDEX_FILE, if set: git sets it for
	// a pre-commit hook (the temporary index of `git commit -a`), which
	// is what the hook must scan. Relative to Dir.
	IndexFile string
}

// Git runs git safely; see the package documentation.
type Git struct {
	path     string
	env      []string
	confined *sandbox.Prepared // nil on a kernel without Landlock
	write    bool              // a Writer's (sync.go)
}

// systemPath is where git is looked for, and the PATH it runs with.
const systemPath = "/usr/local/bin:/usr/bin:/bin"

// safeConfig switches off, from the command line (which outranks every
// config file and every file they include), each key that makes git run a
// program, on the commands llms runs or on commands those could start:
//
//   - core.fsmonitor runs its hook on every look at the working tree
//     (ls-files, diff-index); core.hooksPath points hooks at nothing
//     (post-index-change runs whenever a command writes the index);
//   - core.pager and the pager.* keys are made moot by --no-pager;
//     diff.external and textconv by --no-ext-diff and --no-textconv on
//     the diff commands; log.showSignature would run gpg.program;
//   - protocol.allow=never, and each protocol by name (a repository's
//     protocol.<name>.allow outranks protocol.allow), refuses every
//     transport, so that a lazy fetch of a missing object in a partial
//     clone connects nowhere: the ext:: transport runs a command, ssh runs
//     core.sshCommand, http asks credential.helper. credential.helper is
//     emptied too;
//   - gc.auto and maintenance.auto keep git from starting gc or
//     maintenance in the background, and core.untrackedCache and
//     submodule.recurse from writing or descending.
//
// Clean and smudge filters run only where git converts between the tree
// and the object store (add, checkout, hash-object of a file):
// hash-object here hashes standard input with --no-filters. Keys run only
// by commands llms never starts (editors, merge tools, core.sshCommand,
// core.alternateRefsCommand, which only fetch and receive-pack run: the
// Writer sets it) are left alone; the confinement stops them should one
// be reached.
var safeConfig = []string{
	"core.fsmonitor=false",
	"core.hooksPath=/dev/null",
	"core.pager=cat",
	"core.untrackedCache=false",
	"log.showSignature=false",
	"submodule.recurse=false",
	"gc.auto=0",
	"maintenance.auto=false",
	"credential.helper=",
	"protocol.allow=never",
	"protocol.file.allow=never",
	"protocol.git.allow=never",
	"protocol.ssh.allow=never",
	"protocol.http.allow=never",
	"protocol.https.allow=never",
	"protocol.ftp.allow=never",
	"protocol.ftps.allow=never",
	"protocol.ext.allow=never",
	"protocol.fd.allow=never",
	"color.ui=false",
}

// diffCommands compare content, where external diff drivers and textconv
// would run.
var diffCommands = []string{"diff", "diff-index", "diff-files", "diff-tree", "log", "show"}

// ErrNoGit: no git in the system path.
var ErrNoGit = errors.New("git is not installed in " + strings.ReplaceAll(systemPath, ":", ", "))

// New finds git and prepares its confinement.
func New(o Options) (*Git, error) { return openGit(o, true) }

func openGit(o Options, confine bool) (*Git, error) {
	path := ""
	for _, dir := range filepath.SplitList(systemPath) {
		p := filepath.Join(dir, "git")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			path = p
			break
		}
	}
	if path == "" {
		return nil, ErrNoGit
	}
	if !filepath.IsAbs(o.Home) {
		return nil, fmt.Errorf("git: the home directory %q is not absolute", o.Home)
	}
	env := []string{
		"PATH=" + systemPath,
		"HOME=" + o.Home,
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_NO_LAZY_FETCH=1",
		"GIT_PAGER=cat",
		"PAGER=cat",
	}
	if o.IndexFile != "" {
		idx := o.IndexFile
		if !filepath.IsAbs(idx) {
			if !filepath.IsAbs(o.Dir) {
				return nil, errors.New("git: $GIT_INDEX_FILE is relative, and the working directory unknown")
			}
			idx = filepath.Join(o.Dir, idx)
		}
		env = append(env, "GIT_INDEX_FILE="+idx)
	}
	g := &Git{path: path, env: env}
	if confine && sandbox.ABI() > 0 {
		p, err := confinement(path, o)
		if err != nil {
			return nil, fmt.Errorf("git: confining it: %w", err)
		}
		g.confined = p
	}
	return g, nil
}

// confinement is git's Landlock rule set: read everything but the hidden
// paths, write nothing, execute git and its ELF interpreter (the kernel
// opens the interpreter for execution too) and nothing else.
func confinement(path string, o Options) (*sandbox.Prepared, error) {
	exe := []string{path}
	interp, err := interpreter(path)
	if err != nil {
		return nil, err
	}
	if interp != "" {
		exe = append(exe, interp)
	}
	var hide []string
	for _, h := range o.Hide {
		if o.Dir != "" && (o.Dir == h || strings.HasPrefix(o.Dir, strings.TrimSuffix(h, "/")+"/")) {
			continue
		}
		hide = append(hide, h)
	}
	rules, err := sandbox.Build(sandbox.Spec{
		Data:    []string{"/"},
		Read:    exe,
		Deny:    []string{"/dev"},
		Devices: []string{"/dev/null", "/dev/urandom"},
		Hide:    hide,
	})
	if err != nil {
		return nil, err
	}
	return sandbox.Prepare(rules)
}

// Close releases the confinement's rule set.
func (g *Git) Close() error {
	if g.confined == nil {
		return nil
	}
	return g.confined.Close()
}

// command builds `git <safe options> args…` run in dir. Without
// hooksPath, core.hooksPath is left as the repository says (HooksDir).
func (g *Git) command(dir string, args []string, hooksPath bool) (*exec.Cmd, error) {
	if len(args) == 0 {
		return nil, errors.New("git: no command")
	}
	full := []string{"git", "--no-pager", "--no-replace-objects", "--no-optional-locks"}
	settings := safeConfig
	if g.write {
		if !slices.Contains(writerCommands, args[0]) {
			return nil, fmt.Errorf("%w: %s", ErrRefusedCommand, args[0])
		}
		settings = writerSettings()
	}
	for _, kv := range settings {
		if !hooksPath && strings.HasPrefix(kv, "core.hooksPath=") {
			continue
		}
		full = append(full, "-c", kv)
	}
	full = append(full, args[0])
	if slices.Contains(diffCommands, args[0]) {
		full = append(full, "--no-ext-diff", "--no-textconv")
	}
	full = append(full, args[1:]...)
	return &exec.Cmd{Path: g.path, Args: full, Env: g.env, Dir: dir}, nil
}

// start starts cmd, confined: from a thread of its own that is confined
// first (the child inherits its Landlock domain, no_new_privs, seccomp
// filter and empty capabilities) and then discarded — the Go runtime
// never starts a thread from a locked one, so nothing else of llms runs
// confined.
func (g *Git) start(cmd *exec.Cmd) error {
	if g.confined == nil {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := g.confined.Restrict(); err != nil {
			errc <- fmt.Errorf("git: confining it: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// Output runs git args… in dir with stdin (nil: none) and returns its
// standard output; the error carries git's message.
func (g *Git) Output(dir string, stdin io.Reader, args ...string) ([]byte, error) {
	return g.output(dir, stdin, true, args)
}

// HooksDir is where git runs the repository's hooks from: core.hooksPath
// when set, else the hooks directory of its git directory. It is the one
// command run with the repository's core.hooksPath, which it reads; `git
// rev-parse` runs no hook.
func (g *Git) HooksDir(dir string) (string, error) {
	out, err := g.output(dir, nil, false, []string{"rev-parse", "--git-path", "hooks"})
	if err != nil {
		return "", err
	}
	hooks := strings.TrimSuffix(string(out), "\n")
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(dir, hooks)
	}
	return hooks, nil
}

func (g *Git) output(dir string, stdin io.Reader, hooksPath bool, args []string) ([]byte, error) {
	cmd, err := g.command(dir, args, hooksPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := g.start(cmd); err != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return stdout.Bytes(), nil
}

// A Pipe is a running git command whose standard input and output the
// caller drives (`git cat-file --batch`).
type Pipe struct {
	Stdin  io.WriteCloser
	Stdout io.ReadCloser
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// Start starts git args… in dir with pipes to its standard input and
// output.
func (g *Git) Start(dir string, args ...string) (*Pipe, error) {
	cmd, err := g.command(dir, args, true)
	if err != nil {
		return nil, err
	}
	p := &Pipe{cmd: cmd}
	cmd.Stderr = &p.stderr
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if p.Stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := g.start(cmd); err != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return p, nil
}

// Stderr is what git said on standard error so far (complete once Wait
// returned).
func (p *Pipe) Stderr() string { return strings.TrimSpace(p.stderr.String()) }

// Wait waits for git to exit.
func (p *Pipe) Wait() error { return p.cmd.Wait() }
