package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

// MakeStateDirs makes the agent's missing state directories and the
// shared caches, never a file, never through what is there as something
// else, and no tool directory of a tool that has none.
func TestMakeStateDirs(t *testing.T) {
	home := t.TempDir()
	elsewhere := t.TempDir()
	// Planted: ~/.local is a link elsewhere, ~/.cursor a file.
	if err := os.Symlink(elsewhere, filepath.Join(home, ".local")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".cursor"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"claude-code", "cursor"} {
		if err := MakeStateDirs(home, id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	for _, dir := range []string{".claude", ".cache", ".cache/claude-cli-nodejs", ".npm", ".config/cursor"} {
		if fi, err := os.Lstat(filepath.Join(home, dir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("~/%s: %v, %v", dir, fi, err)
		}
	}
	for _, absent := range []string{".claude.json", "go", ".cargo"} {
		if _, err := os.Lstat(filepath.Join(home, absent)); err == nil {
			t.Errorf("~/%s was made", absent)
		}
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("a directory was made through the link: %v", entries)
	}
	if fi, _ := os.Lstat(filepath.Join(home, ".cursor")); !fi.Mode().IsRegular() {
		t.Error("the file ~/.cursor was replaced")
	}
}
