package gitctx

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// checkOwner refuses a repository another user owns, as git does since
// CVE-2022-24765: otherwise anyone who can create /tmp/.git (or any
// directory above the working directory) would choose the repo, branch and
// user that policy rules are matched against. Git's escape hatch,
// safe.directory, is honoured from the global config only, like git, which
// ignores it in a repository's own config.
func (r repo) checkOwner(global []configEntry, getenv getenvFunc) error {
	// Git checks the working tree, the git directory and the .git file; the
	// shared directory of a worktree is checked too, since its config is
	// read.
	paths := []string{r.topLevel, r.gitDir, r.common}
	if r.gitFile != "" {
		paths = append(paths, r.gitFile)
	}
	for _, p := range paths {
		owned, err := ownedByCurrentUser(p, getenv)
		if err != nil {
			return err
		}
		if !owned && !safeDirectory(global, r.topLevel, getenv) {
			return fmt.Errorf("gitctx: %s is owned by another user; add it to git's safe.directory to trust it", p)
		}
	}
	return nil
}

// ownedByCurrentUser is git's is_path_owned_by_current_uid: the effective
// uid owns path, and root also accepts what $SUDO_UID owns.
func ownedByCurrentUser(path string, getenv getenvFunc) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return false, fmt.Errorf("gitctx: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, fmt.Errorf("gitctx: %s: cannot read owner", path)
	}
	euid := uint64(os.Geteuid())
	if euid == 0 {
		if st.Uid == 0 {
			return true, nil
		}
		if s, ok := getenv("SUDO_UID"); ok {
			if id, err := strconv.ParseUint(s, 10, 32); err == nil {
				euid = id
			}
		}
	}
	return uint64(st.Uid) == euid, nil
}

// safeDirectory reports whether the multi-valued safe.directory names
// topLevel or is "*"; an empty value resets the list, as in git.
func safeDirectory(global []configEntry, topLevel string, getenv getenvFunc) bool {
	safe := false
	for _, e := range global {
		if e.name != "safe.directory" {
			continue
		}
		v := e.value
		if rest, ok := strings.CutPrefix(v, "~/"); ok {
			home, _ := getenv("HOME")
			if home == "" {
				continue // git cannot expand it either
			}
			v = strings.TrimSuffix(home, "/") + "/" + rest
		}
		switch {
		case v == "":
			safe = false
		case v == "*" || v == topLevel:
			safe = true
		}
	}
	return safe
}
