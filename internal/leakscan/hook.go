package leakscan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Hook is the pre-commit hook InstallHook writes.
const Hook = `#!/bin/sh
# Written by "llms scan --install-hook": refuse a commit whose staged
# changes hold a stored secret or an encoding of one.
exec llms scan --git --staged
`

// ErrHookExists: another pre-commit hook is in place.
var ErrHookExists = errors.New("a different pre-commit hook is already installed")

// InstallHook writes Hook as the repository's pre-commit hook (where
// core.hooksPath puts hooks, if set). It reports false when the same hook
// is already there, and refuses to replace a different one.
func (r *Repo) InstallHook() (path string, written bool, err error) {
	dir, err := r.git.HooksDir(r.Top)
	if err != nil {
		return "", false, err
	}
	path = filepath.Join(dir, "pre-commit")
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, []byte(Hook)):
		return path, false, nil
	case err == nil:
		return path, false, fmt.Errorf("%s: %w; add the line \"llms scan --git --staged\" to it yourself", path, ErrHookExists)
	case !errors.Is(err, fs.ErrNotExist):
		return path, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return path, false, err
	}
	// O_EXCL: a hook that appeared since the check above is not replaced.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return path, false, err
	}
	if _, err := f.WriteString(Hook); err != nil {
		f.Close()
		os.Remove(path)
		return path, false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return path, false, err
	}
	return path, true, nil
}
