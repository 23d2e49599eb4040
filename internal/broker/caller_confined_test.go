package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadConfinedReadsTheRepositoryOnAConfinedThread: with ReadConfined
// set, the repository is read on a thread it confined, and a confinement
// that fails refuses the read rather than reading with the broker's rights.
func TestReadConfinedReadsTheRepositoryOnAConfinedThread(t *testing.T) {
	dir := repoOnBranch(t, "topic")

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

// TestLookupRepoAheadReadsOnce: a lookup started ahead is the one the gate
// uses: the repository is read, and its reader confined, once, and the
// gate's call waits for it rather than reading with the broker's rights.
func TestLookupRepoAheadReadsOnce(t *testing.T) {
	dir := repoOnBranch(t, "ahead")

	var calls atomic.Int32
	release := make(chan struct{})
	c := &Caller{Cwd: dir, ReadConfined: func() error { calls.Add(1); <-release; return nil }}
	c.LookupRepoAhead()
	got := make(chan error, 1)
	go func() {
		gi, err := c.gitInfo()
		if err == nil && gi.Branch != "ahead" {
			err = fmt.Errorf("branch %q", gi.Branch)
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("gitInfo returned (%v) before the confined reader ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-got; err != nil {
		t.Fatalf("gitInfo after LookupRepoAhead: %v; want branch ahead", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the reader was confined %d times; want 1", n)
	}
}

// repoOnBranch makes a repository whose HEAD is on branch.
func repoOnBranch(t *testing.T, branch string) string {
	t.Helper()
	dir := t.TempDir()
	git := filepath.Join(dir, ".git")
	for _, d := range []string{"objects", "refs"} {
		if err := os.MkdirAll(filepath.Join(git, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(git, "HEAD"), []byte("ref: refs/heads/"+branch+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
