package gitctx

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gitEnv is an isolated environment shared by git and lookup: its own HOME
// and XDG_CONFIG_HOME, no system config, nothing inherited from the
// developer's git setup.
type gitEnv struct {
	vars map[string]string
}

func newGitEnv(t testing.TB) *gitEnv {
	t.Helper()
	requireGit(t)
	root := t.TempDir()
	e := &gitEnv{vars: map[string]string{
		"HOME":                filepath.Join(root, "home"),
		"XDG_CONFIG_HOME":     filepath.Join(root, "xdg"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"LC_ALL":              "C",
		"PATH":                os.Getenv("PATH"),
	}}
	for _, d := range []string{e.vars["HOME"], filepath.Join(e.vars["XDG_CONFIG_HOME"], "git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.writeFile(t, filepath.Join(e.vars["HOME"], ".gitconfig"),
		"[user]\n\tname = Test\n\temail = home@example.com\n[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n")
	return e
}

func (e *gitEnv) getenv(k string) (string, bool) {
	v, ok := e.vars[k]
	return v, ok
}

func (e *gitEnv) list() []string {
	var env []string
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	return env
}

func (e *gitEnv) writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// git runs git in dir and returns its trimmed stdout.
func (e *gitEnv) git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := e.tryGit(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *gitEnv) tryGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = e.list()
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr), err
	}
	return strings.TrimSpace(string(out)), err
}

func (e *gitEnv) lookup(t testing.TB, dir string) Info {
	t.Helper()
	info, err := lookup(dir, e.getenv)
	if err != nil {
		t.Fatalf("lookup(%s): %v", dir, err)
	}
	return info
}

// newRepo makes a repository with one commit on main.
func (e *gitEnv) newRepo(t testing.TB, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	e.git(t, "", append([]string{"init", "-q"}, append(args, dir)...)...)
	e.git(t, dir, "commit", "-q", "--allow-empty", "-m", "first")
	return dir
}

// assertMatchesGit compares every field of lookup(dir) with git's answer.
func (e *gitEnv) assertMatchesGit(t testing.TB, dir string) Info {
	t.Helper()
	got := e.lookup(t, dir)
	want := Info{TopLevel: e.git(t, dir, "rev-parse", "--show-toplevel")}
	if b := e.git(t, dir, "rev-parse", "--abbrev-ref", "HEAD"); b != "HEAD" {
		want.Branch = b
	}
	want.User, _ = e.tryGit(dir, "config", "user.email")
	if url, err := e.tryGit(dir, "remote", "get-url", "origin"); err == nil {
		want.Repo = NormalizeRepo(url)
	}
	if got != want {
		t.Fatalf("lookup(%s)\n got %+v\nwant %+v (from git)", dir, got, want)
	}
	return got
}

func TestLookupBranches(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	e.git(t, dir, "remote", "add", "origin", "git@github.com:Acme/API.git")
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, branch := range []string{"main", "feature/x", "release/1.0", "Mixed-Case_1"} {
		if branch != "main" {
			e.git(t, dir, "checkout", "-q", "-b", branch)
		}
		for _, d := range []string{dir, sub} {
			got := e.assertMatchesGit(t, d)
			if got.Branch != branch || got.Repo != "github.com/Acme/API" || got.User != "home@example.com" {
				t.Fatalf("lookup(%s) = %+v on branch %s", d, got, branch)
			}
		}
	}
}

func TestLookupDetachedHEAD(t *testing.T) {
	e := newGitEnv(t)
	for _, format := range []string{"sha1", "sha256"} {
		dir := e.newRepo(t, "--object-format="+format)
		e.git(t, dir, "checkout", "-q", "--detach")
		if got := e.assertMatchesGit(t, dir); got.Branch != "" {
			t.Fatalf("%s: detached HEAD gave branch %q", format, got.Branch)
		}
	}
}

func TestLookupUnbornBranch(t *testing.T) {
	e := newGitEnv(t)
	dir := filepath.Join(t.TempDir(), "repo")
	e.git(t, "", "init", "-q", "-b", "trunk", dir)
	want := e.git(t, dir, "symbolic-ref", "--short", "HEAD")
	if got := e.lookup(t, dir); got.Branch != want || got.Branch != "trunk" {
		t.Fatalf("unborn branch: got %q, git says %q", got.Branch, want)
	}
}

func TestLookupConfigPrecedence(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	xdg := filepath.Join(e.vars["XDG_CONFIG_HOME"], "git", "config")
	home := filepath.Join(e.vars["HOME"], ".gitconfig")
	e.writeFile(t, xdg, "[user]\n\temail = xdg@example.com\n")

	// ~/.gitconfig is read after the XDG file and wins.
	if got := e.assertMatchesGit(t, dir); got.User != "home@example.com" {
		t.Fatalf("user %q, want ~/.gitconfig's", got.User)
	}
	e.writeFile(t, home, "[init]\n\tdefaultBranch = main\n")
	if got := e.assertMatchesGit(t, dir); got.User != "xdg@example.com" {
		t.Fatalf("user %q, want the XDG file's", got.User)
	}
	// Without XDG_CONFIG_HOME, ~/.config/git/config is the XDG file.
	delete(e.vars, "XDG_CONFIG_HOME")
	if err := os.MkdirAll(filepath.Join(e.vars["HOME"], ".config", "git"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeFile(t, filepath.Join(e.vars["HOME"], ".config", "git", "config"), "[user]\n\temail = dotconfig@example.com\n")
	if got := e.assertMatchesGit(t, dir); got.User != "dotconfig@example.com" {
		t.Fatalf("user %q, want ~/.config/git/config's", got.User)
	}
	// The repository's config beats the global one.
	e.git(t, dir, "config", "user.email", "repo@example.com")
	if got := e.assertMatchesGit(t, dir); got.User != "repo@example.com" {
		t.Fatalf("user %q, want the repository's", got.User)
	}
	e.git(t, dir, "config", "--unset", "user.email")

	// GIT_CONFIG_GLOBAL replaces both global files; empty means none.
	only := filepath.Join(t.TempDir(), "only")
	e.writeFile(t, only, "[user]\n\temail = only@example.com\n")
	e.vars["GIT_CONFIG_GLOBAL"] = only
	if got := e.assertMatchesGit(t, dir); got.User != "only@example.com" {
		t.Fatalf("user %q, want $GIT_CONFIG_GLOBAL's", got.User)
	}
	e.vars["GIT_CONFIG_GLOBAL"] = ""
	if got := e.lookup(t, dir); got.User != "" {
		t.Fatalf("user %q with GIT_CONFIG_GLOBAL empty", got.User)
	}
}

func TestLookupRemoteURL(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	if got := e.assertMatchesGit(t, dir); got.Repo != "" {
		t.Fatalf("no origin gave repo %q", got.Repo)
	}
	e.git(t, dir, "remote", "add", "origin", "https://user:s3cr3t@GitHub.com/Acme/API.git")
	if got := e.assertMatchesGit(t, dir); got.Repo != "github.com/Acme/API" {
		t.Fatalf("repo %q", got.Repo)
	}
	// Git fetches from the first url of a remote.
	e.git(t, dir, "config", "--add", "remote.origin.url", "https://example.com/other/repo")
	if got := e.assertMatchesGit(t, dir); got.Repo != "github.com/Acme/API" {
		t.Fatalf("repo %q, want the first url", got.Repo)
	}
	// insteadOf: the longest matching prefix is rewritten.
	e.git(t, dir, "config", "--unset-all", "remote.origin.url")
	e.git(t, dir, "config", "remote.origin.url", "gh:acme/api")
	e.git(t, dir, "config", "url.https://github.com/.insteadOf", "gh:")
	e.git(t, dir, "config", "url.https://gitlab.com/.insteadOf", "gh:acme/")
	if got := e.assertMatchesGit(t, dir); got.Repo != "gitlab.com/api" {
		t.Fatalf("repo %q, want the longest insteadOf", got.Repo)
	}
	// A local path has no host, so no repo identity.
	e.git(t, dir, "config", "remote.origin.url", "/srv/git/api.git")
	if got := e.assertMatchesGit(t, dir); got.Repo != "" {
		t.Fatalf("local remote gave repo %q", got.Repo)
	}
}

func TestLookupWorktree(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	e.git(t, dir, "remote", "add", "origin", "git@github.com:acme/api.git")
	wt := filepath.Join(t.TempDir(), "wt")
	e.git(t, dir, "worktree", "add", "-q", "-b", "wt-branch", wt)
	if got := e.assertMatchesGit(t, wt); got.Branch != "wt-branch" || got.TopLevel != wt || got.Repo != "github.com/acme/api" {
		t.Fatalf("worktree: %+v", got)
	}
	// config.worktree counts only with extensions.worktreeConfig on.
	e.writeFile(t, filepath.Join(dir, ".git", "worktrees", "wt", "config.worktree"), "[user]\n\temail = wt@example.com\n")
	if got := e.assertMatchesGit(t, wt); got.User != "home@example.com" {
		t.Fatalf("config.worktree read without the extension: %q", got.User)
	}
	e.git(t, dir, "config", "extensions.worktreeConfig", "true")
	if got := e.assertMatchesGit(t, wt); got.User != "wt@example.com" {
		t.Fatalf("config.worktree ignored: %q", got.User)
	}
	if got := e.assertMatchesGit(t, dir); got.Branch != "main" || got.User != "home@example.com" {
		t.Fatalf("main worktree: %+v", got)
	}
}

func TestLookupSubmodule(t *testing.T) {
	e := newGitEnv(t)
	lib := e.newRepo(t)
	dir := e.newRepo(t)
	e.git(t, dir, "submodule", "add", "-q", lib, "lib")
	sub := filepath.Join(dir, "lib")
	e.git(t, sub, "remote", "set-url", "origin", "https://example.com/acme/lib.git")
	got := e.assertMatchesGit(t, sub)
	if got.TopLevel != sub || got.Repo != "example.com/acme/lib" {
		t.Fatalf("submodule: %+v", got)
	}
}

func TestLookupNotRepo(t *testing.T) {
	e := newGitEnv(t)
	dir := t.TempDir()
	if _, err := e.tryGit(dir, "rev-parse", "--git-dir"); err == nil {
		t.Skip("the temporary directory is inside a git repository")
	}
	info, err := lookup(dir, e.getenv)
	if !errors.Is(err, ErrNotRepo) || info != (Info{}) {
		t.Fatalf("lookup outside a repository = %+v, %v", info, err)
	}
	if _, err := Lookup(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrNotRepo) {
		t.Fatalf("missing directory: %v", err)
	}
}

// A .git directory that is not a repository is passed over, as git does.
func TestLookupSkipsFakeGitDir(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	inner := filepath.Join(dir, "inner")
	if err := os.MkdirAll(filepath.Join(inner, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := e.assertMatchesGit(t, inner); got.TopLevel != dir {
		t.Fatalf("top level %q, want %q", got.TopLevel, dir)
	}
}

func TestLookupThroughSymlink(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if got := e.assertMatchesGit(t, link); got.TopLevel != dir {
		t.Fatalf("top level %q, want the physical %q", got.TopLevel, dir)
	}
}

func TestLookupRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t testing.TB, e *gitEnv, dir string)
	}{
		{"gitfile pointing nowhere", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(mkInner(t, dir), ".git"), "gitdir: /nonexistent\n")
		}},
		{"gitfile without prefix", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(mkInner(t, dir), ".git"), filepath.Join(dir, ".git")+"\n")
		}},
		{"HEAD garbage", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "HEAD"), "garbage\n")
		}},
		{"HEAD bad ref", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/a..b\n")
		}},
		{"config syntax", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "config"), "[remote \"origin\"]\n\turl = \"https://u:s3cr3t@h/x\n")
		}},
		{"global config syntax", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(e.vars["HOME"], ".gitconfig"), "[user\n")
		}},
		{"valueless email", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "config"), "[user]\n\temail\n")
		}},
		{"reftable", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "config"), "[core]\n\trepositoryformatversion = 1\n[extensions]\n\trefStorage = reftable\n")
		}},
		{"oversized config", func(t testing.TB, e *gitEnv, dir string) {
			e.writeFile(t, filepath.Join(dir, ".git", "config"), "[a]\n"+strings.Repeat("#", maxConfigSize))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newGitEnv(t)
			dir := e.newRepo(t)
			tc.setup(t, e, dir)
			start := dir
			if fi, err := os.Stat(filepath.Join(dir, "inner")); err == nil && fi.IsDir() {
				start = filepath.Join(dir, "inner")
			}
			info, err := lookup(start, e.getenv)
			if err == nil || errors.Is(err, ErrNotRepo) || info != (Info{}) {
				t.Fatalf("lookup = %+v, %v; want an error", info, err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error leaks config text: %v", err)
			}
		})
	}
}

// mkInner makes dir/inner, where lookup starts when it exists.
func mkInner(t testing.TB, dir string) string {
	inner := filepath.Join(dir, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	return inner
}

func TestReadHead(t *testing.T) {
	for _, tc := range []struct {
		head, branch string
		ok           bool
	}{
		{"ref: refs/heads/main\n", "main", true},
		{"ref: refs/heads/release/1.0\n", "release/1.0", true},
		{"ref: refs/remotes/origin/main\n", "", true},
		{strings.Repeat("a", 40) + "\n", "", true},
		{strings.Repeat("0", 64) + "\n", "", true},
		{"ref: refs/heads/main", "", false},
		{"ref:refs/heads/main\n", "", false},
		{"ref: refs/heads/main\r\n", "", false},
		{"ref: refs/heads/\n", "", false},
		{"ref: heads/main\n", "", false},
		{"ref: refs/heads/a b\n", "", false},
		{"ref: refs/heads/*\n", "", false},
		{"ref: refs/heads/x.lock\n", "", false},
		{"ref: refs/heads/.hidden\n", "", false},
		{"ref: refs/heads/a//b\n", "", false},
		{"ref: refs/heads/a@{1}\n", "", false},
		{strings.Repeat("A", 40) + "\n", "", false},
		{strings.Repeat("a", 41) + "\n", "", false},
		{"\n", "", false},
	} {
		path := filepath.Join(t.TempDir(), "HEAD")
		if err := os.WriteFile(path, []byte(tc.head), 0o644); err != nil {
			t.Fatal(err)
		}
		branch, err := readHead(path)
		if branch != tc.branch || (err == nil) != tc.ok {
			t.Errorf("readHead(%q) = %q, %v", tc.head, branch, err)
		}
	}
}

// As root, the test can hand the repository to another uid and check that
// lookup refuses it where git does.
func TestLookupForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	e := newGitEnv(t)
	dir := e.newRepo(t)
	if err := os.Chown(dir, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tryGit(dir, "rev-parse", "--show-toplevel"); err == nil {
		t.Fatal("git accepts a repository owned by another user")
	}
	if info, err := lookup(dir, e.getenv); err == nil || info != (Info{}) {
		t.Fatalf("lookup of a foreign repository = %+v, %v", info, err)
	}
	// safe.directory in the repository's own config does not count.
	e.writeFile(t, filepath.Join(dir, ".git", "config"), "[safe]\n\tdirectory = *\n")
	if _, err := lookup(dir, e.getenv); err == nil {
		t.Fatal("repository config marked itself safe")
	}

	e.git(t, "", "config", "--global", "safe.directory", dir)
	e.assertMatchesGit(t, dir)
	e.git(t, "", "config", "--global", "--add", "safe.directory", "")
	if _, err := lookup(dir, e.getenv); err == nil {
		t.Fatal("an empty safe.directory did not reset the list")
	}
	e.git(t, "", "config", "--global", "--unset-all", "safe.directory")

	e.vars["SUDO_UID"] = "12345"
	e.assertMatchesGit(t, dir)
}

// Lookup reads the real environment; this pins that wiring.
func TestLookupUsesProcessEnvironment(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	global := filepath.Join(t.TempDir(), "global")
	e.writeFile(t, global, "[user]\n\temail = env@example.com\n")
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	got, err := Lookup(dir)
	if err != nil || got.User != "env@example.com" || got.Branch != "main" || got.TopLevel != dir {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
}

// TestLookupRefusesAFIFO: a FIFO planted where a config file is read (the
// repository's, or the global one the environment names) must not hang
// llms, which reads the repository for every request: it is an error.
func TestLookupRefusesAFIFO(t *testing.T) {
	for _, where := range []string{"repo config", "global config"} {
		t.Run(where, func(t *testing.T) {
			e := newGitEnv(t)
			dir := e.newRepo(t)
			p := filepath.Join(dir, ".git", "config")
			if where == "global config" {
				p = filepath.Join(e.vars["HOME"], ".gitconfig")
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
			done := make(chan error, 1)
			go func() { _, err := lookup(dir, e.getenv); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("lookup with a FIFO at %s = %v; want not a regular file", p, err)
				}
			case <-time.After(5 * time.Second):
				// Unblock the reader so the test process can end.
				if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				t.Fatalf("lookup blocked on a FIFO at %s", p)
			}
		})
	}
}

// GIT_CONFIG_GLOBAL=/dev/null, a common way to run git without the user's
// config, is an empty config, as git reads it.
func TestLookupGlobalConfigDevNull(t *testing.T) {
	e := newGitEnv(t)
	dir := e.newRepo(t)
	e.vars["GIT_CONFIG_GLOBAL"] = os.DevNull
	if info := e.lookup(t, dir); info.User != "" || info.Branch != "main" {
		t.Fatalf("lookup = %+v", info)
	}
}
