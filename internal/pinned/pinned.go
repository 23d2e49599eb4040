package pinned

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Errors, for errors.Is: a program that is not there, and one that is but
// may not be pinned.
var (
	ErrNotFound  = errors.New("program not found")
	ErrUntrusted = errors.New("not a program only root can change")
)

// systemDirs are the directories a pin by name is looked up in, in order.
var systemDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// Dirs returns the system directories that exist and that only root can
// change (Open's rule, applied to them and to every directory above), in
// lookup order.
func Dirs() []string {
	var out []string
	c := newChecker(nil)
	for _, d := range systemDirs {
		if real, err := c.walk(d); err == nil {
			var st unix.Stat_t
			if unix.Stat(real, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				out = append(out, d)
			}
		}
	}
	return out
}

// Path is the PATH a pinned program gets: Dirs.
func Path() string { return strings.Join(Dirs(), ":") }

// Find locates the program a pinned request names: a name without '/' in
// Dirs only, never in the caller's PATH or working directory; a path as
// given, relative to dir. The result is absolute and clean, with the links
// of its directory resolved and its last element kept: that name is what a
// cmd caveat or policy rule matches, and what the program runs as (a
// multi-call program such as busybox or pg_wrapper reads it). It does not
// check the file: Open does.
func Find(name, dir string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty program name", ErrNotFound)
	}
	if !strings.Contains(name, "/") {
		for _, d := range Dirs() {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return locate(p)
			}
		}
		return "", fmt.Errorf("%w: %s is in none of the system directories (%s), the only place a pinned program is looked up", ErrNotFound, name, Path())
	}
	p := name
	if !filepath.IsAbs(p) {
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("%w: %s is a relative path and there is no working directory to take it from", ErrNotFound, name)
		}
		p = filepath.Join(dir, p)
	}
	p, err := locate(filepath.Clean(p))
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(p); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return p, nil
}

// locate resolves the links of p's directory.
func locate(p string) (string, error) {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return filepath.Join(dir, filepath.Base(p)), nil
}

// Resolve is what a cmd caveat records for an item given at mint: Find's
// path for a name or an absolute path, which must pass Open's check (the
// agent sandbox's writable trees aside: at mint they are not known).
func Resolve(item string) (string, error) {
	if strings.Contains(item, "/") && !filepath.IsAbs(item) {
		return "", fmt.Errorf("%w: %s is neither a name nor an absolute path", ErrNotFound, item)
	}
	p, err := Find(item, "")
	if err != nil {
		return "", err
	}
	prog, err := Open(p, nil)
	if err != nil {
		return "", err
	}
	prog.Close()
	return p, nil
}

// Program is a pinned program, checked and held open.
type Program struct {
	// Path is where it was found (Find's result), which caveats and
	// policy judged and which it is started as.
	Path string
	// Real is the file itself, every link resolved.
	Real string
	file *os.File
	// dir is Real's directory, held open (O_PATH) for a program that is
	// not a script.
	dir    *os.File
	script bool
}

// Dir is the directory the child is started from, as Real's last element
// in it (runner.Spec.PathDir): the checked directory, which only root can
// change, holding the checked file, and the program runs under its own
// name (starting from the file's own descriptor would show the descriptor
// number as its name). It is nil for a script, which is started from Path:
// its interpreter opens the path it is given after exec, so it must be a
// path that leads, through the links Open checked, to the file it checked.
func (p *Program) Dir() *os.File {
	if p == nil || p.script {
		return nil
	}
	return p.dir
}

// Close releases the file and its directory.
func (p *Program) Close() error {
	if p == nil || p.file == nil {
		return nil
	}
	if p.dir != nil {
		p.dir.Close()
	}
	return p.file.Close()
}

// maxInterpreters bounds a script whose interpreter is a script, as the
// kernel does.
const maxInterpreters = 4

// Open checks the program at path (a path from Find) and opens it. It
// refuses, with ErrUntrusted and one sentence, a file that is not regular,
// or that it, a directory on the way to it, the directory of a link
// followed on the way or a script's interpreter is
//   - owned by anyone but root,
//   - writable by its group or by others,
//   - one of writable or beneath one (the trees the agent may write,
//     compared by device and inode),
//   - on a FUSE file system.
func Open(path string, writable []string) (*Program, error) {
	prog, err := open(path, newChecker(writable), 0)
	if err != nil {
		return nil, refused(path, err)
	}
	return prog, nil
}

// open is Open with the reason unwrapped.
func open(path string, c *checker, depth int) (*Program, error) {
	real, err := c.walk(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(real, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrPermission) {
		// Executable but not readable: it cannot be a script we could run.
		f, err = os.OpenFile(real, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, err
	}
	prog := &Program{Path: path, Real: real, file: f}
	if err := prog.check(c, depth); err != nil {
		prog.Close()
		return nil, err
	}
	return prog, nil
}

// check judges the opened file itself (what runs, whatever its path
// does now) and, for a script, its interpreter.
func (p *Program) check(c *checker, depth int) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(p.file.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s is not a regular file", p.Real)
	}
	if err := c.check(p.Real, &st, func(s *unix.Statfs_t) error { return unix.Fstatfs(int(p.file.Fd()), s) }); err != nil {
		return err
	}
	head := make([]byte, 256)
	n, _ := unix.Pread(int(p.file.Fd()), head, 0)
	if n < 2 || !bytes.HasPrefix(head, []byte("#!")) {
		return p.openDir(c, &st)
	}
	p.script = true
	line, _, _ := bytes.Cut(head[2:n], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 || !filepath.IsAbs(fields[0]) {
		return fmt.Errorf("the interpreter of the script %s is not an absolute path", p.Real)
	}
	if depth >= maxInterpreters {
		return fmt.Errorf("the script %s has more than %d interpreters in a chain", p.Real, maxInterpreters)
	}
	interp, err := open(filepath.Clean(fields[0]), c, depth+1)
	if err != nil {
		return fmt.Errorf("the interpreter of the script %s: %w", p.Real, err)
	}
	return interp.Close()
}

// openDir opens Real's directory to start the program from, and checks
// that it is the directory the walk checked, holding the file opened.
func (p *Program) openDir(c *checker, file *unix.Stat_t) error {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return fmt.Errorf("/proc is not mounted, so %s cannot be started from the directory that was checked", p.Real)
	}
	dir := filepath.Dir(p.Real)
	d, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	p.dir = d
	var st unix.Stat_t
	if err := unix.Fstat(int(d.Fd()), &st); err != nil {
		return err
	}
	if err := c.check(dir, &st, func(s *unix.Statfs_t) error { return unix.Fstatfs(int(d.Fd()), s) }); err != nil {
		return err
	}
	if err := unix.Fstatat(int(d.Fd()), filepath.Base(p.Real), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Dev != file.Dev || st.Ino != file.Ino {
		return fmt.Errorf("%s changed while it was checked", p.Real)
	}
	return nil
}

// refused wraps why path may not be pinned: a file that is not there is
// ErrNotFound, anything else ErrUntrusted, and reads as the reason alone.
func refused(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%w: %s: %v", ErrNotFound, path, err)
	}
	return untrusted{err}
}

type untrusted struct{ err error }

func (e untrusted) Error() string        { return e.err.Error() }
func (e untrusted) Unwrap() error        { return e.err }
func (e untrusted) Is(target error) bool { return target == ErrUntrusted }

// devIno names a file whatever path leads to it.
type devIno struct{ dev, ino uint64 }

// checker holds the trees the agent may write, and what one check (of a
// program and its interpreters, or of the system directories) has already
// found: directories that passed, devices that are not FUSE.
type checker struct {
	writable map[devIno]string
	passed   map[string]bool
	notFUSE  map[uint64]bool
}

func newChecker(writable []string) *checker {
	c := &checker{writable: map[devIno]string{}, passed: map[string]bool{}, notFUSE: map[uint64]bool{}}
	for _, w := range writable {
		var st unix.Stat_t
		// A tree that does not exist had no rule; nothing of it can be
		// reached now.
		if unix.Stat(w, &st) == nil {
			c.writable[devIno{st.Dev, st.Ino}] = w
		}
	}
	return c
}

// fuseMagic is FUSE's f_type (linux/magic.h).
const fuseMagic = 0x65735546

// check refuses a file or directory that someone but root could change.
func (c *checker) check(p string, st *unix.Stat_t, statfs func(*unix.Statfs_t) error) error {
	switch {
	case st.Uid != 0:
		return fmt.Errorf("%s is owned by uid %d, and a pinned program must be a file only root can change", p, st.Uid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s is writable by users other than its owner (mode %04o), and a pinned program must be a file only root can change", p, st.Mode&0o7777)
	}
	if w, ok := c.writable[devIno{uint64(st.Dev), st.Ino}]; ok {
		return fmt.Errorf("the agent may write %s (%s), and a pinned program must be a file it cannot change", p, w)
	}
	if c.notFUSE[uint64(st.Dev)] {
		return nil
	}
	var sfs unix.Statfs_t
	if err := statfs(&sfs); err != nil {
		return err
	}
	if sfs.Type == fuseMagic {
		return fmt.Errorf("%s is on a FUSE file system, which its user serves, and a pinned program must be a file only root can change", p)
	}
	c.notFUSE[uint64(st.Dev)] = true
	return nil
}

// maxLinks bounds the links followed, as the kernel does.
const maxLinks = 40

// walk resolves p (absolute and clean) one element at a time from "/",
// checking every directory it enters. A link is followed from the
// directory it lies in, which was checked, so no link anyone but root
// could change is followed. It returns the path of the file, every link
// resolved; the file itself is the caller's to check once it is open.
func (c *checker) walk(p string) (string, error) {
	var st unix.Stat_t
	check := func(dir string) error {
		if c.passed[dir] {
			return nil
		}
		if err := c.check(dir, &st, func(s *unix.Statfs_t) error { return unix.Statfs(dir, s) }); err != nil {
			return err
		}
		c.passed[dir] = true
		return nil
	}
	if err := unix.Lstat("/", &st); err != nil {
		return "", err
	}
	if err := check("/"); err != nil {
		return "", err
	}
	cur := "/"
	todo := strings.Split(p, "/")
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, name)
		if err := unix.Lstat(next, &st); err != nil {
			return "", fmt.Errorf("%s: %w", next, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if links++; links > maxLinks {
				return "", fmt.Errorf("%s: %w", p, unix.ELOOP)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			todo = append(strings.Split(target, "/"), todo...)
		case unix.S_IFDIR:
			if err := check(next); err != nil {
				return "", err
			}
			cur = next
		default:
			if strings.Join(todo, "") != "" {
				return "", fmt.Errorf("%s: %w", next, unix.ENOTDIR)
			}
			cur = next
		}
	}
	return cur, nil
}

// IsSystem reports whether path (absolute) is what Find returns for its
// base name: the program a pin by that name means.
func IsSystem(path string) bool {
	loc, err := Find(path, "/")
	if err != nil {
		return false
	}
	sys, err := Find(filepath.Base(path), "")
	return err == nil && sys == loc
}
