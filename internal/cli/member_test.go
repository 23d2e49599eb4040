package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// member remove --rotate-prompt asks for each secret the removed member
// could read, at the terminal; an empty answer skips it. No value is
// printed.
func TestMemberRemoveRotatePrompt(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is needed")
	}
	const canary = "rotated-canary-a71c"
	f, tio := newTestFactory(t, "", true, canary, canary, "")
	repo := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	team := filepath.Join(repo, "team")
	env := filepath.Join(t.TempDir(), "v.env")
	if err := os.WriteFile(env, []byte("A=old-a-value-0001\nB=old-b-value-0002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bob, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "--shared", team, "--name", "alice"},
		{"--store", team, "import", env},
		{"--store", team, "member", "add", "bob", bob.Recipient().String()},
	} {
		if code := Main(args, f); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, tio.errOut.String())
		}
	}
	tio.out.Reset()
	if code := Main([]string{"--store", team, "member", "remove", "bob", "--rotate-prompt"}, f); code != 0 {
		t.Fatalf("remove: exit %d: %s", code, tio.errOut.String())
	}
	out := tio.out.String()
	for _, want := range []string{"bob could read these 2 secrets", "  A ", "  B ", "updated: A", "1 of 2 secrets have a new value"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(tio.prompts) != 3 || !strings.Contains(tio.prompts[0], "New value for A") || !strings.Contains(tio.prompts[2], "New value for B") {
		t.Fatalf("prompts = %q", tio.prompts)
	}
	if strings.Contains(out+tio.errOut.String(), canary) {
		t.Fatal("a value was printed")
	}
	// Not a terminal: refused before anything changes.
	f2, tio2 := newTestFactory(t, "", false)
	if code := Main([]string{"--store", team, "member", "remove", "alice", "--rotate-prompt"}, f2); code != exitUsage {
		t.Fatalf("--rotate-prompt without a terminal: exit %d: %s", code, tio2.errOut.String())
	}
}
