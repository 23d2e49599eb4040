package gitctx

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLookup measures what `llms exec` pays at start: a lookup from
// three directories below the top of a repository with a remote, a global
// and a repository config.
func BenchmarkLookup(b *testing.B) {
	e := newGitEnv(b)
	dir := e.newRepo(b)
	e.git(b, dir, "remote", "add", "origin", "git@github.com:acme/api.git")
	sub := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := lookup(sub, e.getenv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeRepo(b *testing.B) {
	for b.Loop() {
		NormalizeRepo("https://x-access-token:tok@GitHub.com/Acme/API.git/")
	}
}
