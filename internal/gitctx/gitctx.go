package gitctx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/smallfile"
)

// Info describes the repository a directory belongs to. An empty field means
// "unknown": callers must treat it as a value that matches nothing.
type Info struct {
	// TopLevel is the absolute, symlink-free working-tree root, the
	// directory `git rev-parse --show-toplevel` prints.
	TopLevel string
	// Repo is remote "origin"'s URL in NormalizeRepo form, or "" when there
	// is no origin or its URL has no host.
	Repo string
	// Branch is the branch HEAD points at, without "refs/heads/", also on a
	// branch with no commits yet. It is "" when HEAD is detached or points
	// outside refs/heads/.
	Branch string
	// User is the effective user.email, or "" when none is set.
	User string
}

// ErrNotRepo is returned by Lookup when no directory from dir up to the
// root holds a git repository.
var ErrNotRepo = errors.New("gitctx: not in a git repository")

// Lookup reports the repository containing dir by reading .git, HEAD and
// config files; it never runs git. Outside a repository it returns Info{}
// and ErrNotRepo. Any other error means the repository exists but could not
// be read safely, and Info is empty.
func Lookup(dir string) (Info, error) {
	return lookup(dir, os.LookupEnv)
}

type getenvFunc func(string) (string, bool)

func lookup(dir string, getenv getenvFunc) (Info, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Info{}, fmt.Errorf("gitctx: %w", err)
	}
	// Git walks up from the physical working directory, so ".." after a
	// symlink means the real parent.
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return Info{}, fmt.Errorf("gitctx: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		r, found, err := discover(d)
		if err != nil {
			return Info{}, err
		}
		if found {
			return r.info(getenv)
		}
		if filepath.Dir(d) == d {
			return Info{}, ErrNotRepo
		}
	}
}

// repo is a discovered repository: where its files are.
type repo struct {
	topLevel string
	gitFile  string // the ".git" file for worktrees and submodules, else ""
	gitDir   string // per-worktree directory: HEAD, config.worktree
	common   string // shared directory: config, objects, refs
}

// discover reports whether d/.git is a repository, as git's
// setup_git_directory_gently does: a .git directory that does not look like
// one is passed over, while a .git file that does not point at one is an
// error.
func discover(d string) (repo, bool, error) {
	dotGit := filepath.Join(d, ".git")
	fi, err := os.Stat(dotGit)
	if errors.Is(err, fs.ErrNotExist) {
		return repo{}, false, nil
	}
	if err != nil {
		return repo{}, false, fmt.Errorf("gitctx: %w", err)
	}
	r := repo{topLevel: d, gitDir: dotGit}
	switch {
	case fi.IsDir():
	case fi.Mode().IsRegular():
		target, err := readPathFile(dotGit, "gitdir: ")
		if err != nil {
			return repo{}, false, err
		}
		r.gitFile, r.gitDir = dotGit, resolve(d, target)
	default:
		return repo{}, false, nil
	}
	r.common = r.gitDir
	commondir := filepath.Join(r.gitDir, "commondir")
	if _, err := os.Lstat(commondir); err == nil {
		target, err := readPathFile(commondir, "")
		if err != nil {
			return repo{}, false, err
		}
		r.common = resolve(r.gitDir, target)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return repo{}, false, fmt.Errorf("gitctx: %w", err)
	}
	if !isDir(filepath.Join(r.common, "objects")) || !isDir(filepath.Join(r.common, "refs")) ||
		!isFile(filepath.Join(r.gitDir, "HEAD")) {
		if r.gitFile != "" {
			return repo{}, false, fmt.Errorf("gitctx: %s: does not point at a git directory", dotGit)
		}
		return repo{}, false, nil
	}
	return r, true, nil
}

func (r repo) info(getenv getenvFunc) (Info, error) {
	global, err := globalConfig(getenv)
	if err != nil {
		return Info{}, err
	}
	if err := r.checkOwner(global, getenv); err != nil {
		return Info{}, err
	}
	local, err := readConfig(filepath.Join(r.common, "config"))
	if err != nil {
		return Info{}, err
	}
	cfg := append(global, local...)
	// Per-worktree config counts only when the repository opts in.
	if e, ok := last(cfg, "extensions.worktreeconfig"); ok {
		on, err := parseBool(e)
		if err != nil {
			return Info{}, err
		}
		if on {
			wt, err := readConfig(filepath.Join(r.gitDir, "config.worktree"))
			if err != nil {
				return Info{}, err
			}
			cfg = append(cfg, wt...)
		}
	}
	// With reftable the HEAD file is a placeholder ("refs/heads/.invalid");
	// reading it would report a branch that does not exist.
	if e, ok := last(cfg, "extensions.refstorage"); ok && !(e.hasValue && strings.EqualFold(e.value, "files")) {
		return Info{}, fmt.Errorf("gitctx: %s: unsupported ref storage", r.common)
	}
	branch, err := readHead(filepath.Join(r.gitDir, "HEAD"))
	if err != nil {
		return Info{}, err
	}
	info := Info{TopLevel: r.topLevel, Branch: branch}
	if e, ok := last(cfg, "user.email"); ok {
		if !e.hasValue {
			return Info{}, errors.New("gitctx: user.email has no value")
		}
		info.User = e.value
	}
	// Git fetches from a remote's first url, not its last.
	if e, ok := first(cfg, "remote.origin.url"); ok {
		if !e.hasValue {
			return Info{}, errors.New("gitctx: remote.origin.url has no value")
		}
		info.Repo = NormalizeRepo(rewriteURL(cfg, e.value))
	}
	return info, nil
}

// rewriteURL applies url.<base>.insteadOf: the longest matching prefix is
// replaced by its base, as git does before using a remote's URL.
func rewriteURL(cfg []configEntry, url string) string {
	best, bestLen := "", -1
	for _, e := range cfg {
		base, ok := strings.CutPrefix(e.name, "url.")
		if !ok || !e.hasValue {
			continue
		}
		base, ok = strings.CutSuffix(base, ".insteadof")
		if ok && len(e.value) > bestLen && strings.HasPrefix(url, e.value) {
			best, bestLen = base+url[len(e.value):], len(e.value)
		}
	}
	if bestLen < 0 {
		return url
	}
	return best
}

func first(cfg []configEntry, name string) (configEntry, bool) {
	for _, e := range cfg {
		if e.name == name {
			return e, true
		}
	}
	return configEntry{}, false
}

func last(cfg []configEntry, name string) (configEntry, bool) {
	for i := len(cfg) - 1; i >= 0; i-- {
		if cfg[i].name == name {
			return cfg[i], true
		}
	}
	return configEntry{}, false
}

// globalConfig reads the user's config the way git does: $GIT_CONFIG_GLOBAL
// alone when it is set (empty means none), otherwise
// $XDG_CONFIG_HOME/git/config (default ~/.config/git/config) and then
// ~/.gitconfig, the later file winning.
func globalConfig(getenv getenvFunc) ([]configEntry, error) {
	var paths []string
	if p, ok := getenv("GIT_CONFIG_GLOBAL"); ok {
		if p != "" {
			paths = append(paths, p)
		}
	} else {
		home, _ := getenv("HOME")
		if xdg, _ := getenv("XDG_CONFIG_HOME"); xdg != "" {
			paths = append(paths, filepath.Join(xdg, "git", "config"))
		} else if home != "" {
			paths = append(paths, filepath.Join(home, ".config", "git", "config"))
		}
		if home != "" {
			paths = append(paths, filepath.Join(home, ".gitconfig"))
		}
	}
	var cfg []configEntry
	for _, p := range paths {
		entries, err := readConfig(p)
		if err != nil {
			return nil, err
		}
		cfg = append(cfg, entries...)
	}
	return cfg, nil
}

// readConfig parses one config file; a missing file is an empty one.
func readConfig(path string) ([]configEntry, error) {
	data, err := readSmall(path, maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data)
}

// Size limits keep a hostile repository from making Lookup slow or large;
// real files are orders of magnitude smaller.
const (
	maxConfigSize = 1 << 20
	maxSmallFile  = 1 << 16 // HEAD, .git, commondir
)

// readSmall reads a regular file of at most limit bytes
// (internal/smallfile: a FIFO planted where a config or HEAD file is read
// cannot hang llms), or /dev/null, which git reads as empty
// (GIT_CONFIG_GLOBAL=/dev/null).
func readSmall(path string, limit int64) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
			return nil, nil
		}
	}
	data, err := smallfile.Read(path, limit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("gitctx: %w", err)
	}
	return data, nil
}

// readPathFile reads a file holding prefix, a path and an optional line
// ending: a .git file ("gitdir: ") or commondir (no prefix).
func readPathFile(path, prefix string) (string, error) {
	data, err := readSmall(path, maxSmallFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("gitctx: %w", err)
		}
		return "", err
	}
	s, ok := strings.CutPrefix(trimEOL(string(data)), prefix)
	if !ok || s == "" || strings.ContainsAny(s, "\x00\r\n") {
		return "", fmt.Errorf("gitctx: %s: malformed", path)
	}
	return s, nil
}

func trimEOL(s string) string {
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s, _ = strings.CutSuffix(t, "\r")
	}
	return s
}

func resolve(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// readHead returns the branch HEAD names. Git writes HEAD in exactly two
// forms, "ref: <refname>\n" and "<hex object id>\n"; anything else is an
// error rather than a guess.
func readHead(path string) (string, error) {
	data, err := readSmall(path, maxSmallFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("gitctx: %w", err)
		}
		return "", err
	}
	s, ok := strings.CutSuffix(string(data), "\n")
	if !ok {
		return "", fmt.Errorf("gitctx: %s: malformed", path)
	}
	if ref, ok := strings.CutPrefix(s, "ref: "); ok {
		if !validRefName(ref) {
			return "", fmt.Errorf("gitctx: %s: malformed", path)
		}
		branch, ok := strings.CutPrefix(ref, "refs/heads/")
		if !ok {
			return "", nil
		}
		return branch, nil
	}
	if (len(s) == 40 || len(s) == 64) && strings.Trim(s, "0123456789abcdef") == "" {
		return "", nil
	}
	return "", fmt.Errorf("gitctx: %s: malformed", path)
}

// validRefName applies git check-ref-format's rules to a full ref name, so
// that a branch handed to policy matching is one git itself could create.
func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.HasSuffix(ref, "/") ||
		strings.HasSuffix(ref, ".") || strings.Contains(ref, "..") ||
		strings.Contains(ref, "@{") {
		return false
	}
	for _, c := range []byte(ref) {
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for _, part := range strings.Split(ref, "/") {
		if part == "" || part[0] == '.' || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
