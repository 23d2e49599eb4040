// Package repoconf owns .llm-secrets.toml, the file by which a git
// repository names its shared store, and the trust a member gives it.
//
// The file is repository-controlled: whoever can push, or an agent in
// the working tree, writes it. So it is honoured only after the member
// ran `llms trust` in that repository, which pins the SHA-256 of the
// file's exact content in the member's data dir (like `direnv allow`); a
// changed file is ignored until trusted again. It can only name a
// directory inside the repository (and the branch `llms sync` uses): it
// has no key that runs a program, and unknown keys are refused.
package repoconf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/sys/unix"
)

// FileName is the file a repository names its store in, at its root.
const FileName = ".llm-secrets.toml"

// DefaultBranch is the branch `llms sync` keeps the store on.
const DefaultBranch = "llms-store"

// Config is a parsed .llm-secrets.toml.
type Config struct {
	// Path is the file's absolute path, Root the repository's top.
	Path, Root string
	// Store is the shared store's absolute directory.
	Store string
	// Branch holds the store's history (DefaultBranch when unset).
	Branch string
	// Hash is the SHA-256 of the file's content, which trust pins.
	Hash string
}

type fileFormat struct {
	Store  string `toml:"store"`
	Branch string `toml:"branch"`
}

// isBranchName: 1-100 of A-Z a-z 0-9 . _ / -, starting with a letter or
// digit, no "..".
func isBranchName(s string) bool {
	if len(s) == 0 || len(s) > 100 || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '/' && c != '-') {
			return false
		}
	}
	return true
}

// FindRoot is the nearest directory from dir upwards holding .git, or "".
func FindRoot(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Find reads the .llm-secrets.toml of the repository holding dir; ok is
// false when there is none.
func Find(dir string) (c Config, ok bool, err error) {
	root := FindRoot(dir)
	if root == "" {
		return Config{}, false, nil
	}
	path := filepath.Join(root, FileName)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, false, nil
	}
	if err != nil {
		return Config{}, false, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return Config{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > 64<<10 {
		return Config{}, false, fmt.Errorf("%s is larger than 64 KiB", path)
	}
	c, err = Parse(root, data)
	if err != nil {
		return Config{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return c, true, nil
}

// Parse checks a .llm-secrets.toml's content for the repository at root.
func Parse(root string, data []byte) (Config, error) {
	var ff fileFormat
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&ff)
	if err != nil {
		return Config{}, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Config{}, fmt.Errorf("unknown key %q (only store and branch)", und[0].String())
	}
	rel := filepath.Clean(ff.Store)
	if ff.Store == "" || filepath.IsAbs(ff.Store) || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || strings.HasPrefix(rel, ".git") {
		return Config{}, fmt.Errorf("store = %q: want a directory inside the repository, relative to its top", ff.Store)
	}
	if ff.Branch == "" {
		ff.Branch = DefaultBranch
	}
	if !isBranchName(ff.Branch) {
		return Config{}, fmt.Errorf("branch = %q: not a plain branch name", ff.Branch)
	}
	sum := sha256.Sum256(data)
	return Config{Path: filepath.Join(root, FileName), Root: root, Store: filepath.Join(root, rel),
		Branch: ff.Branch, Hash: hex.EncodeToString(sum[:])}, nil
}

// Format is the .llm-secrets.toml naming store (relative to the top).
func Format(store, branch string) []byte {
	text := "# The shared llms store of this repository. Each member runs `llms trust`\n" +
		"# once (and again after this file changes) before llms honours it.\n" +
		fmt.Sprintf("store = %q\n", store)
	if branch != "" && branch != DefaultBranch {
		text += fmt.Sprintf("branch = %q\n", branch)
	}
	return []byte(text)
}

func trustPath(dataDir, path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(dataDir, "trusted", hex.EncodeToString(sum[:16]))
}

// Trusted reports whether the member whose data dir is dataDir trusted c
// as it is now.
func Trusted(dataDir string, c Config) bool {
	data, err := os.ReadFile(trustPath(dataDir, c.Path))
	return err == nil && strings.TrimSpace(string(data)) == c.Hash
}

// Trust pins c's content in dataDir.
func Trust(dataDir string, c Config) error {
	p := trustPath(dataDir, c.Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(c.Hash+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
