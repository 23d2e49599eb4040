package gitrun

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// repo makes a repository with one commit, by the test's own git, and
// returns its directory.
func repo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "one"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// plant appends config lines to the repository's .git/config.
func plant(t *testing.T, dir, lines string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, ".git", "config"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}

// marker is a program that, if run, creates the file it returns.
func marker(t *testing.T) (prog, mark string) {
	t.Helper()
	dir := t.TempDir()
	prog, mark = filepath.Join(dir, "prog"), filepath.Join(dir, "mark")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n: > "+mark+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, mark
}

func newGit(t *testing.T, o Options) *Git {
	t.Helper()
	if o.Home == "" {
		o.Home = t.TempDir()
	}
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// The command line switches off what the repository names: its config
// says core.fsmonitor is a program, git is told false.
func TestCommandLineOutranksTheRepository(t *testing.T) {
	dir := repo(t)
	prog, mark := marker(t)
	plant(t, dir, "[core]\n\tfsmonitor = "+prog+"\n\thooksPath = "+filepath.Dir(prog)+"\n[protocol \"ext\"]\n\tallow = always\n")
	g := newGit(t, Options{Dir: dir})
	for key, want := range map[string]string{"core.fsmonitor": "false", "core.hooksPath": "/dev/null", "protocol.ext.allow": "never"} {
		out, err := g.Output(dir, nil, "config", "--get", key)
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s = %q, %v; want %q", key, out, err, want)
		}
	}
	if _, err := g.Output(dir, nil, "ls-files", "-z", "--cached", "--others"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the repository's fsmonitor ran")
	}
	// HooksDir reads the repository's hooks path, and runs nothing.
	if hooks, err := g.HooksDir(dir); err != nil || hooks != filepath.Dir(prog) {
		t.Errorf("HooksDir = %q, %v; want %q", hooks, err, filepath.Dir(prog))
	}
}

// The caller's git variables do not reach git: neither config given on
// the environment nor another git directory.
func TestFixedEnvironment(t *testing.T) {
	dir := repo(t)
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "user.name")
	t.Setenv("GIT_CONFIG_VALUE_0", "from-the-environment")
	t.Setenv("GIT_DIR", t.TempDir())
	g := newGit(t, Options{Dir: dir})
	if out, err := g.Output(dir, nil, "config", "--get", "user.name"); err == nil {
		t.Errorf("user.name = %q from the caller's environment", out)
	}
	top, err := g.Output(dir, nil, "rev-parse", "--show-toplevel")
	if err != nil || strings.TrimSpace(string(top)) != dir {
		t.Errorf("top = %q, %v", top, err)
	}
}

// A relative $GIT_INDEX_FILE (a pre-commit hook's) is the caller's.
func TestIndexFile(t *testing.T) {
	dir := repo(t)
	g := newGit(t, Options{Dir: dir, IndexFile: ".git/other-index"})
	out, err := g.Output(dir, nil, "rev-parse", "--git-path", "index")
	if err != nil || strings.TrimSpace(string(out)) != filepath.Join(dir, ".git", "other-index") {
		t.Errorf("index = %q, %v", out, err)
	}
}

func requireLandlock(t *testing.T) {
	t.Helper()
	if sandbox.ABI() == 0 {
		t.Skip("no Landlock on this kernel")
	}
}

// A key nobody switched off still runs nothing: git may execute only
// itself. An alias that runs a shell command is the stand-in for any
// such key; without the confinement it runs.
func TestConfinedGitRunsNoOtherProgram(t *testing.T) {
	requireLandlock(t)
	dir := repo(t)
	_, mark := marker(t)
	plant(t, dir, "[alias]\n\tplanted = !: > "+mark+"\n")
	g := newGit(t, Options{Dir: dir})
	if _, err := g.Output(dir, nil, "planted"); err == nil {
		t.Error("the alias's shell ran (exit 0)")
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the alias's shell ran")
	}

	sandbox.SetABIForTest(0)
	bare := newGit(t, Options{Dir: dir})
	sandbox.SetABIForTest(-1)
	if _, err := bare.Output(dir, nil, "planted"); err != nil {
		t.Fatalf("unconfined: %v", err)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatal("unconfined, the alias did not run: the test shows nothing")
	}
}

// The confined git writes nothing, and reads no hidden path — unless the
// repository itself is inside it.
func TestConfinedGitReadsNoHiddenPathAndWritesNothing(t *testing.T) {
	requireLandlock(t)
	dir := repo(t)
	hidden := t.TempDir()
	secret := filepath.Join(hidden, "identity.txt")
	if err := os.WriteFile(secret, []byte("AGE-SECRET-KEY-canary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := newGit(t, Options{Dir: dir, Hide: []string{hidden}})
	if _, err := g.Output(dir, nil, "hash-object", "--no-filters", secret); err == nil || !strings.Contains(err.Error(), "ermission denied") {
		t.Errorf("hash-object of a hidden file: %v", err)
	}
	if _, err := g.Output(dir, nil, "update-ref", "refs/heads/other", "HEAD"); err == nil {
		t.Error("the confined git created a ref")
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "refs", "heads", "other")); err == nil {
		t.Error("a ref was written")
	}
	// The repository inside a hidden path: the user asked for it.
	inside := filepath.Join(hidden, "repo")
	if err := os.Rename(dir, inside); err != nil {
		t.Fatal(err)
	}
	g = newGit(t, Options{Dir: inside, Hide: []string{hidden}})
	if _, err := g.Output(inside, nil, "rev-parse", "--show-toplevel"); err != nil {
		t.Errorf("a repository inside a hidden path: %v", err)
	}
}

func TestGitFromTheSystemPath(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "git")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	g := newGit(t, Options{})
	if g.path == fake || !strings.HasPrefix(g.path, "/") {
		t.Errorf("git = %s, want one from %s", g.path, systemPath)
	}
}

func TestWriterRunsOnlyItsCommands(t *testing.T) {
	home := t.TempDir()
	w, err := NewWriter(Options{Home: home, Dir: home}, "", filepath.Join(home, ".git"))
	if errors.Is(err, ErrNoGit) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, cmd := range []string{"checkout", "commit", "config", "add", "gc", "rebase", "merge", "reset"} {
		if _, err := w.Output(home, nil, cmd); !errors.Is(err, ErrRefusedCommand) {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, err := NewWriter(Options{Home: home}, "", "relative/.git"); err == nil {
		t.Error("a relative git directory was accepted")
	}
	if _, err := NewWriter(Options{Home: home}, "agent.sock", filepath.Join(home, ".git")); err == nil {
		t.Error("a relative SSH_AUTH_SOCK was accepted")
	}
}

// A fetch runs core.alternateRefsCommand (through sh, which the Writer
// may execute) when the repository has alternates: the repository's
// value is not run.
func TestWriterFetchRunsNoAlternateRefsCommand(t *testing.T) {
	dst, src, alt := repo(t), repo(t), repo(t)
	if err := os.WriteFile(filepath.Join(dst, ".git", "objects", "info", "alternates"),
		[]byte(filepath.Join(alt, ".git", "objects")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dst, ".git", "mark") // a place the Writer may write
	plant(t, dst, "[core]\n\talternateRefsCommand = \": > "+mark+"; true\"\n")
	w, err := NewWriter(Options{Home: t.TempDir(), Dir: dst}, "", filepath.Join(dst, ".git"))
	if errors.Is(err, ErrNoGit) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Output(dst, nil, "fetch", "-q", "--end-of-options", src, "+refs/heads/main:refs/remotes/src/main"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("the repository's core.alternateRefsCommand ran")
	}
}
