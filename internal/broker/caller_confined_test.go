package broker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadConfinedReadsTheRepositoryOnAConfinedThread: with ReadConfined
// set, the repository is read on a thread it confined, and a confinement
// that fails refuses the read rather than reading with the broker's rights.
func TestReadConfinedReadsTheRepositoryOnAConfinedThread(t *testing.T) {
	dir := t.TempDir()
	git := filepath.Join(dir, ".git")
	for _, d := range []string{"objects", "refs"} {
		if err := os.MkdirAll(filepath.Join(git, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(git, "HEAD"), []byte("ref: refs/heads/topic\n"), 0o600)

	calls := 0
	c := &Caller{Cwd: dir, ReadConfined: func() error { calls++; return nil }}
	gi, err := c.gitInfo()
	if err != nil || gi.Branch != "topic" || calls != 1 {
		t.Fatalf("gitInfo = %+v, %v after %d confinements; want branch topic after 1", gi, err, calls)
	}

	c = &Caller{Cwd: dir, ReadConfined: func() error { return errors.New("no landlock") }}
	if gi, err := c.gitInfo(); err == nil || !strings.Contains(err.Error(), "confining the reader") || gi.Branch != "" {
		t.Fatalf("a failed confinement read %+v, %v; want an error and nothing read", gi, err)
	}
}
