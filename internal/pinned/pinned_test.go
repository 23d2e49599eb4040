package pinned

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// system is a program every test machine has in a system directory.
func system(t *testing.T) string {
	t.Helper()
	p, err := Find("printenv", "")
	if err != nil {
		t.Skipf("no printenv in the system directories: %v", err)
	}
	return p
}

func TestDirs(t *testing.T) {
	dirs := Dirs()
	if len(dirs) == 0 {
		t.Fatal("no system directory is trusted")
	}
	for _, d := range dirs {
		if !slices.Contains(systemDirs, d) {
			t.Errorf("Dirs holds %q", d)
		}
	}
	if Path() != strings.Join(dirs, ":") {
		t.Errorf("Path() = %q", Path())
	}
}

// A name is looked up in the system directories only: the caller's PATH
// and working directory play no part.
func TestFindByNameIgnoresPATHAndCwd(t *testing.T) {
	want := system(t)
	dir := t.TempDir()
	fake := filepath.Join(dir, "printenv")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho fake\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":.")
	t.Chdir(dir)
	got, err := Find("printenv", dir)
	if err != nil || got != want {
		t.Fatalf("Find(printenv) = %q, %v; want %q", got, err, want)
	}
	if !slices.Contains(Dirs(), filepath.Dir(got)) {
		if real, _ := filepath.EvalSymlinks(filepath.Dir(got)); !slices.ContainsFunc(Dirs(), func(d string) bool {
			r, _ := filepath.EvalSymlinks(d) // a system directory may be missing here
			return r == real
		}) {
			t.Errorf("Find(printenv) = %q, outside the system directories %v", got, Dirs())
		}
	}
	if _, err := Find("llms-no-such-program", dir); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(missing) = %v, want ErrNotFound", err)
	}
	if got, err := Find("./printenv", dir); err != nil || got != filepath.Join(mustEval(t, dir), "printenv") {
		t.Errorf("Find(./printenv) = %q, %v", got, err)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The directory's links are resolved, the last element is kept.
func TestFindKeepsTheLastElement(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
	must(t, os.Symlink("real", filepath.Join(dir, "via")))
	must(t, os.Symlink("/usr/bin/env", filepath.Join(dir, "real", "tool")))
	got, err := Find("via/tool", dir)
	if want := filepath.Join(mustEval(t, dir), "real", "tool"); err != nil || got != want {
		t.Errorf("Find = %q, %v; want %q", got, err, want)
	}
}

func TestOpenSystemProgram(t *testing.T) {
	p, err := Open(system(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Dir() == nil {
		t.Error("an ELF program has no directory to start from")
	}
	if !filepath.IsAbs(p.Real) {
		t.Errorf("Real = %q", p.Real)
	}
}

// Every way the agent could have written the program is refused, with one
// sentence that says why.
func TestOpenRefuses(t *testing.T) {
	prog := system(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "printenv")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho agent\n"), 0o755))
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(prog, link))
	for _, c := range []struct {
		name, path string
		writable   []string
		why        string
	}{
		{"a file in a temp dir", script, nil, "a pinned program must be a file"},
		{"a link in a temp dir to a system program", link, nil, "a pinned program must be a file"},
		{"a system program in a writable tree", prog, []string{filepath.Dir(mustEval(t, prog))}, "the agent may write"},
		{"/ as a writable tree", prog, []string{"/"}, "the agent may write"},
	} {
		p, err := Open(c.path, c.writable)
		if err == nil {
			p.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), c.why) || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: %v, want ErrUntrusted saying %q", c.name, err, c.why)
		}
	}
	if _, err := Open("/usr/bin/llms-no-such-program", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v, want ErrNotFound", err)
	}
	if _, err := Open("/usr", nil); !errors.Is(err, ErrUntrusted) {
		t.Errorf("a directory: %v", err)
	}
}

// A tree the sandbox lets the agent write is compared by device and inode:
// naming it through a link (a bind mount alike) changes nothing.
func TestOpenWritableThroughLink(t *testing.T) {
	prog := system(t)
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(filepath.Dir(mustEval(t, prog)), alias); err != nil {
		t.Fatal(err)
	}
	if p, err := Open(prog, []string{alias}); err == nil {
		p.Close()
		t.Fatal("a program in a writable tree named through a link was opened")
	}
}

// A script is started from its path, and its interpreter is checked too.
func TestOpenScript(t *testing.T) {
	script, interp := "", ""
	for _, d := range Dirs() {
		entries, _ := os.ReadDir(d) // a system directory may be missing here
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			head := make([]byte, 128)
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			n, _ := f.Read(head)
			f.Close()
			line, _, _ := bytes.Cut(head[:n], []byte("\n"))
			fields := strings.Fields(strings.TrimPrefix(string(line), "#!"))
			if !bytes.HasPrefix(line, []byte("#!")) || len(fields) == 0 {
				continue
			}
			ir, err1 := filepath.EvalSymlinks(fields[0])
			pr, err2 := filepath.EvalSymlinks(p)
			if err1 == nil && err2 == nil && filepath.Dir(ir) != filepath.Dir(pr) {
				script, interp = p, ir
				break
			}
		}
		if script != "" {
			break
		}
	}
	if script == "" {
		t.Skip("no script in the system directories with its interpreter elsewhere")
	}
	p, err := Open(script, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", script, err)
	}
	if p.Dir() != nil {
		t.Errorf("a script is started from a directory descriptor: its interpreter would not see its path")
	}
	p.Close()
	_, err = Open(script, []string{filepath.Dir(interp)})
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "interpreter") {
		t.Errorf("a script whose interpreter the agent may write: %v", err)
	}
}

func TestResolve(t *testing.T) {
	prog := system(t)
	if got, err := Resolve("printenv"); err != nil || got != prog {
		t.Errorf("Resolve(printenv) = %q, %v; want %q", got, err, prog)
	}
	if _, err := Resolve("bin/printenv"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve(relative path) = %v", err)
	}
	script := filepath.Join(t.TempDir(), "deploy.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	if _, err := Resolve(script); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Resolve(a temp file) = %v", err)
	}
}

func TestLauncher(t *testing.T) {
	for _, p := range []string{"sh", "/bin/bash", "python3", "python3.12", "/usr/bin/perl5.36", "node", "git", "make", "curl", "env", "xargs", "find", "psql", "Rscript"} {
		if !Launcher(p) {
			t.Errorf("Launcher(%q) = false", p)
		}
	}
	for _, p := range []string{"printenv", "/usr/bin/date", "tput", "pg_dump", "shasum"} {
		if Launcher(p) {
			t.Errorf("Launcher(%q) = true", p)
		}
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
