package agentmode

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A launcher killed outright leaves its launch directory: the next launch
// removes it — this user's, older than a minute, its broker's socket not
// listened on — and nothing else.
func TestSweepLaunchDirs(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, age time.Duration) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(d, "tmp"), 0o700); err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(d, "tmp", "agent-file"), []byte("x"), 0o600))
		old := time.Now().Add(-age)
		must(t, os.Chtimes(d, old, old))
		return d
	}
	stale := mk(launchDirPrefix+"1", time.Hour)
	young := mk(launchDirPrefix+"2", time.Second)
	live := mk(launchDirPrefix+"3", time.Hour)
	other := mk("not-a-launch-dir", time.Hour)
	l, err := net.Listen("unix", filepath.Join(live, "broker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := time.Now().Add(-time.Hour)
	must(t, os.Chtimes(live, old, old))
	// A socket file no one listens on any more, as a killed broker leaves.
	dead, err := net.Listen("unix", filepath.Join(stale, "broker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	dead.(*net.UnixListener).SetUnlinkOnClose(false)
	dead.Close()
	must(t, os.Chtimes(stale, old, old))

	sweepLaunchDirs(base, time.Now())
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale launch directory is still there")
	}
	for _, d := range []string{young, live, other} {
		if _, err := os.Stat(filepath.Join(d, "tmp", "agent-file")); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(d), err)
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
