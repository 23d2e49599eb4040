package leakscan

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/smallfile"
)

// collect reads every input: its name, its contents, and errors by path.
func collect(t *testing.T, seq iter.Seq2[Input, error]) (names []string, contents map[string]string, errs map[string]error) {
	t.Helper()
	contents, errs = map[string]string{}, map[string]error{}
	for in, err := range seq {
		if err != nil {
			errs[in.Path] = err
			continue
		}
		if in.Skipped != "" {
			errs[in.Path] = errors.New("skipped: " + in.Skipped)
			continue
		}
		rc, err := in.Open()
		if err != nil {
			t.Fatalf("open %s: %v", in.Path, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", in.Path, err)
		}
		names = append(names, in.Path)
		contents[in.Path] = string(data)
	}
	return names, contents, errs
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPathsWalk(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.txt"), "b")
	write(t, filepath.Join(dir, "a", "x.jsonl"), "x")
	write(t, filepath.Join(dir, ".git", "config"), "not walked: --git reads objects")
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.txt"), "outside")
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	// A FIFO would block a reader forever: it is not a regular file.
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("text\n"), 300)
	bin := append([]byte{0x7f, 'E', 'L', 'F', 0}, big...)
	write(t, filepath.Join(dir, "small.bin"), string(bin[:100]))
	write(t, filepath.Join(dir, "big.bin"), string(bin))
	write(t, filepath.Join(dir, "big.txt"), string(big))

	names, contents, errs := collect(t, Paths([]string{dir, filepath.Join(dir, "filelink"), filepath.Join(dir, "missing")}, Options{MaxBinary: 1000}))
	var skipped []string
	for p, err := range errs {
		if why, ok := strings.CutPrefix(err.Error(), "skipped: "); ok {
			skipped = append(skipped, filepath.Base(p)+": "+why)
		}
	}
	rel := make([]string, len(names))
	for i, n := range names {
		rel[i], _ = filepath.Rel(dir, n)
	}
	want := []string{"a/x.jsonl", "b.txt", "big.txt", "small.bin", "filelink"}
	if !slices.Equal(rel, want) {
		t.Errorf("walked %q, want %q", rel, want)
	}
	if contents[filepath.Join(dir, "filelink")] != "outside" {
		t.Error("a symbolic link named on the command line is followed")
	}
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "big.bin: binary, 1505 bytes") {
		t.Errorf("skipped %q, want big.bin as a binary over the limit", skipped)
	}
	if err := errs[filepath.Join(dir, "missing")]; !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing path gives %v, want not-exist", err)
	}

	// Without a limit, binaries of any size are read.
	names, _, _ = collect(t, Paths([]string{dir}, Options{MaxBinary: -1}))
	if !slices.Contains(names, filepath.Join(dir, "big.bin")) {
		t.Error("MaxBinary -1 still skips a binary")
	}
}

// A regular file replaced by a FIFO between the walk and the open is
// refused, without blocking.
func TestOpenRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := smallfile.OpenNoFollow(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("opening a FIFO: %v", err)
	}
}

// A file found by walking a directory, or listed by git, is opened as it
// was found: a symbolic link swapped in since (to a file outside the
// tree, or a device) is refused, and not followed. A path named on the
// command line may be a link.
func TestWalkedFileSwappedForALink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	write(t, outside, "outside the tree\n")
	write(t, filepath.Join(dir, "f"), "in the tree\n")
	for in, err := range Paths([]string{dir}, Options{MaxBinary: DefaultMaxBinary}) {
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(in.Path)
		if err := os.Symlink(outside, in.Path); err != nil {
			t.Fatal(err)
		}
		if rc, err := in.Open(); err == nil {
			rc.Close()
			t.Fatal("a walked file swapped for a link was followed")
		}
	}
	named := filepath.Join(t.TempDir(), "named")
	if err := os.Symlink(outside, named); err != nil {
		t.Fatal(err)
	}
	_, contents, errs := collect(t, Paths([]string{named}, Options{MaxBinary: DefaultMaxBinary}))
	if contents[named] != "outside the tree\n" || len(errs) != 0 {
		t.Errorf("a link named on the command line: %q %v", contents, errs)
	}
}

func TestLocations(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"CODEX_HOME": filepath.Join(home, "codexhome"), "HISTFILE": "relative/ignored"}
	e := Env{Home: home, Getenv: func(k string) string { return env[k] }, Projects: []string{filepath.Join(home, "app")}}
	write(t, filepath.Join(home, ".claude", "projects", "-app", "s.jsonl"), "claude")
	write(t, filepath.Join(home, ".claude", "projects", "-app", "s", "tool-results", "t.txt"), "spilled")
	write(t, filepath.Join(home, "codexhome", "sessions", "2026", "11", "30", "rollout-1.jsonl"), "codex")
	write(t, filepath.Join(home, ".codex", "sessions", "rollout-0.jsonl"), "not read: CODEX_HOME moved codex")
	write(t, filepath.Join(home, "codexhome", "state_5.sqlite"), "SQLite format 3\x00")
	write(t, filepath.Join(home, ".config", "Cursor", "User", "workspaceStorage", "ab12", "state.vscdb"), "cursor\x00")
	write(t, filepath.Join(home, "app", ".aider.chat.history.md"), "aider")
	write(t, filepath.Join(home, ".gemini", "tmp", "p", "chats", "session-1.json"), "gemini")
	write(t, filepath.Join(home, ".continue", "sessions", "1.json"), "continue")
	write(t, filepath.Join(home, ".local", "share", "fish", "fish_history"), "fish")
	write(t, filepath.Join(home, ".bash_history"), "bash")

	names, _, errs := collect(t, Scan(Agents(e)))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	rel := make([]string, len(names))
	for i, n := range names {
		rel[i], _ = filepath.Rel(home, n)
	}
	want := []string{
		".claude/projects/-app/s/tool-results/t.txt", // WalkDir's order: "s" < "s.jsonl"
		".claude/projects/-app/s.jsonl",
		"codexhome/sessions/2026/11/30/rollout-1.jsonl",
		"codexhome/state_5.sqlite",
		".config/Cursor/User/workspaceStorage/ab12/state.vscdb",
		"app/.aider.chat.history.md",
		".gemini/tmp/p/chats/session-1.json",
		".continue/sessions/1.json",
	}
	if !slices.Equal(rel, want) {
		t.Errorf("agents: read\n%q\nwant\n%q", rel, want)
	}
	names, _, _ = collect(t, Scan(ShellHistories(e)))
	if len(names) != 2 {
		t.Errorf("shells: read %q, want bash and fish", names)
	}
}

// gitRepo makes a repository in a temporary directory, or skips the test
// when git is missing (outside CI).
func gitRepo(t *testing.T) (string, func(args ...string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is required in CI")
		}
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q", "-b", "main")
	return dir, run
}

// openRepo opens dir's repository through a gitrun.Git whose home is
// empty.
func openRepo(t *testing.T, dir string) *Repo {
	t.Helper()
	g, err := gitrun.New(gitrun.Options{Home: t.TempDir(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	r, err := OpenRepo(g, dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGit(t *testing.T) {
	dir, run := gitRepo(t)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	write(t, filepath.Join(dir, "old.env"), "K=first\n")
	write(t, filepath.Join(dir, ".gitignore"), "ignored.txt\n")
	run("add", ".")
	run("commit", "-q", "-m", "one")
	run("rm", "-q", "old.env")
	run("commit", "-q", "-m", "two")
	write(t, filepath.Join(dir, "ignored.txt"), "ignored")
	write(t, filepath.Join(dir, "new.txt"), "untracked\n")
	write(t, filepath.Join(dir, "staged.txt"), "staged version\n")
	run("add", "staged.txt")
	write(t, filepath.Join(dir, "staged.txt"), "work tree version\n")

	r := openRepo(t, filepath.Join(dir))
	o := Options{MaxBinary: DefaultMaxBinary}
	names, _, _ := collect(t, r.WorkTree(o))
	for i := range names {
		names[i], _ = filepath.Rel(r.Top, names[i])
	}
	slices.Sort(names)
	if want := []string{".gitignore", "new.txt", "staged.txt"}; !slices.Equal(names, want) {
		t.Errorf("work tree: %q, want %q", names, want)
	}

	names, contents, _ := collect(t, r.Staged(o))
	if !slices.Equal(names, []string{":staged.txt"}) || contents[":staged.txt"] != "staged version\n" {
		t.Errorf("staged: %q %q", names, contents)
	}

	var located []string
	found := false
	for in, err := range r.History(o) {
		if err != nil {
			t.Fatal(err)
		}
		rc, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if string(data) == "K=first\n" {
			found = true
			located = append(located, in.Locate())
		}
	}
	if !found {
		t.Fatal("the blob of a file deleted from the tree is not in the history scan")
	}
	first, err := exec.Command("git", "-C", dir, "rev-list", "--max-parents=0", "HEAD").Output()
	if err != nil || len(first) < 12 {
		t.Fatalf("git rev-list: %q, %v", first, err)
	}
	if want := string(first[:12]) + ":old.env"; !slices.Equal(located, []string{want}) {
		t.Errorf("located %q, want %q (the commit that added it)", located, want)
	}

	// A consumer that reads nothing does not desynchronise the stream.
	n := 0
	for _, err := range r.History(o) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 { // .gitignore and old.env; the staged blob is not reachable from a ref
		t.Errorf("history without reading: %d blobs, want 2", n)
	}
}

func TestInstallHook(t *testing.T) {
	dir, _ := gitRepo(t)
	r := openRepo(t, dir)
	path, written, err := r.InstallHook()
	if err != nil || !written {
		t.Fatalf("first install: %v %v", written, err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != Hook {
		t.Fatalf("hook content differs (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("hook is not executable (%v)", err)
	}
	if _, written, err = r.InstallHook(); err != nil || written {
		t.Fatalf("second install: %v %v", written, err)
	}
	mine := "#!/bin/sh\nmake lint\n"
	if err := os.WriteFile(path, []byte(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err = r.InstallHook(); !errors.Is(err, ErrHookExists) {
		t.Fatalf("over another hook: %v", err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != mine {
		t.Fatalf("another hook was changed (%v)", err)
	}
}

// A path that was a symbolic link in HEAD and is staged as a file is a
// type change: its new content is what the commit would hold, and is
// scanned.
func TestStagedTypeChange(t *testing.T) {
	dir, run := gitRepo(t)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	if err := os.Symlink("elsewhere", filepath.Join(dir, "conf")); err != nil {
		t.Fatal(err)
	}
	run("add", "conf")
	run("commit", "-q", "-m", "link")
	os.Remove(filepath.Join(dir, "conf"))
	write(t, filepath.Join(dir, "conf"), "pw=staged-over-a-link\n")
	run("add", "conf")
	r := openRepo(t, dir)
	names, contents, _ := collect(t, r.Staged(Options{MaxBinary: DefaultMaxBinary}))
	if !slices.Equal(names, []string{":conf"}) || contents[":conf"] != "pw=staged-over-a-link\n" {
		t.Errorf("staged: %q %q, want the file that replaced the link", names, contents)
	}
}

// The first commit is diffed against the empty tree of the repository's
// own hash: a SHA-256 repository's staged files are scanned too.
func TestStagedFirstCommitSHA256(t *testing.T) {
	dir, run := gitRepo(t)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	os.RemoveAll(filepath.Join(dir, ".git"))
	run("init", "-q", "--object-format=sha256", "-b", "main")
	write(t, filepath.Join(dir, "conf"), "pw=first-commit\n")
	run("add", "conf")
	r := openRepo(t, dir)
	names, contents, errs := collect(t, r.Staged(Options{MaxBinary: DefaultMaxBinary}))
	if len(errs) != 0 || !slices.Equal(names, []string{":conf"}) || contents[":conf"] != "pw=first-commit\n" {
		t.Errorf("staged: %q %q %v", names, contents, errs)
	}
}
