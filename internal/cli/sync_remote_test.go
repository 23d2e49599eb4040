package cli

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// A push goes to remote.NAME.pushurl, not to the URL a fetch reads: a
// push URL on this machine is a local remote (its git-receive-pack runs
// here, hooks switched off), even when the fetch URL is ssh.
func TestLocalRemoteLooksAtPushURLs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is needed")
	}
	f, _ := newTestFactory(t, "", true, "", "", "")
	repo := t.TempDir()
	evil := filepath.Join(t.TempDir(), "evil.git")
	for _, args := range [][]string{
		{"init", "-q", repo},
		{"-C", repo, "remote", "add", "origin", "ssh://git@example.invalid/team.git"},
		{"-C", repo, "remote", "set-url", "--push", "origin", evil},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	local, err := f.localRemote(repo, "origin")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(local, []string{evil}) {
		t.Errorf("localRemote = %q, want [%q]", local, evil)
	}
}
