package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Init(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInitCreatesModesAndRefusesOverwrite(t *testing.T) {
	s := newStore(t)
	for rel, want := range map[string]os.FileMode{".": 0o700, "secrets": 0o700, "identity.txt": 0o600, "recipients.txt": 0o600} {
		fi, err := os.Stat(filepath.Join(s.Dir(), rel))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %04o, want %04o", rel, got, want)
		}
	}
	id, err := os.ReadFile(filepath.Join(s.Dir(), "identity.txt"))
	must(t, err)
	if _, err := Init(s.Dir()); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init: %v, want ErrExists", err)
	}
	id2, err := os.ReadFile(filepath.Join(s.Dir(), "identity.txt"))
	must(t, err)
	if !bytes.Equal(id, id2) {
		t.Fatal("second Init changed the identity")
	}
}

func TestRoundTrip(t *testing.T) {
	s := newStore(t)
	value := []byte("canary-roundtrip-7f3a9c")
	created, err := s.Write("K", value)
	if err != nil || !created {
		t.Fatalf("Write = %v, %v", created, err)
	}
	created, err = s.Write("K", []byte("second-value"))
	if err != nil || created {
		t.Fatalf("rewrite = %v, %v; want updated", created, err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Read("K")
	if err != nil || string(got) != "second-value" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	raw, err := os.ReadFile(filepath.Join(s.Dir(), "secrets", "K.age"))
	must(t, err)
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, []byte("second-value")) {
		t.Fatal("secret file is not an age file or holds plaintext")
	}
	if err := s2.Delete("K"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Read("K"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read after Delete: %v", err)
	}
	if err := s2.Delete("K"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestListSkipsForeignFiles(t *testing.T) {
	s := newStore(t)
	for _, n := range []string{"b", "a", "c.d"} {
		if _, err := s.Write(n, []byte("value-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	sec := filepath.Join(s.Dir(), "secrets")
	must(t, os.WriteFile(filepath.Join(sec, tempName), []byte("junk"), 0o600))
	must(t, os.WriteFile(filepath.Join(sec, "notes.txt"), []byte("junk"), 0o600))
	must(t, os.Mkdir(filepath.Join(sec, "dir.age"), 0o700))
	es, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "a,b,c.d" {
		t.Fatalf("List = %v", names)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s := newStore(t)
	if _, err := s.Write("../escape", []byte("v")); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Write(../escape) = %v", err)
	}
	if _, err := s.Write("K", []byte("a\x00b")); err == nil {
		t.Fatal("NUL accepted")
	}
	if _, err := s.Write("K", make([]byte, MaxValueLen+1)); err == nil {
		t.Fatal("oversized value accepted")
	}
	if es, err := s.List(); err != nil || len(es) != 0 {
		t.Fatalf("store changed: %v (%v)", es, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Dir()), "escape.age")); err == nil {
		t.Fatal("path escape wrote a file")
	}
}

func TestOpenRepairsModes(t *testing.T) {
	s := newStore(t)
	if _, err := s.Write("K", []byte("value-1234")); err != nil {
		t.Fatal(err)
	}
	must(t, os.Chmod(s.Dir(), 0o755))
	must(t, os.Chmod(filepath.Join(s.Dir(), "identity.txt"), 0o644))
	must(t, os.Chmod(filepath.Join(s.Dir(), "secrets", "K.age"), 0o644))
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Warnings()) != 2 {
		t.Fatalf("warnings = %q, want 2", s2.Warnings())
	}
	if _, err := s2.Read("K"); err != nil {
		t.Fatal(err)
	}
	if len(s2.Warnings()) != 3 {
		t.Fatalf("warnings after Read = %q, want 3", s2.Warnings())
	}
	for _, rel := range []string{".", "identity.txt", "secrets/K.age"} {
		fi, err := os.Stat(filepath.Join(s.Dir(), rel))
		must(t, err)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s still %04o", rel, fi.Mode().Perm())
		}
	}
}

func TestOpenRefusesSymlinkAndMissing(t *testing.T) {
	s := newStore(t)
	if _, err := Open(filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, ErrNoStore) {
		t.Fatalf("Open(empty) = %v", err)
	}
	id := filepath.Join(s.Dir(), "identity.txt")
	moved := filepath.Join(t.TempDir(), "id")
	must(t, os.Rename(id, moved))
	must(t, os.Symlink(moved, id))
	if _, err := Open(s.Dir()); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Open with symlinked identity = %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		env  map[string]string
		want string
		err  bool
	}{
		{map[string]string{"LLM_SECRETS_DIR": "/s", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/s", false},
		{map[string]string{"LLM_SECRETS_DIR": "rel"}, "", true},
		{map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/llm-secrets", false},
		{map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/h"}, "/h/.local/share/llm-secrets", false},
		{map[string]string{"HOME": "/h"}, "/h/.local/share/llm-secrets", false},
	}
	for _, c := range cases {
		got, err := DefaultDir(env(c.env))
		if (err != nil) != c.err || got != c.want {
			t.Errorf("DefaultDir(%v) = %q, %v", c.env, got, err)
		}
	}
}

func TestRotateReencryptsEverything(t *testing.T) {
	s := newStore(t)
	s.Write("A", []byte("rotate-value-a"))
	s.Write("B", []byte("rotate-value-b"))
	if err := s.WriteSealed("rootkeys", []byte("sealed-data")); err != nil {
		t.Fatal(err)
	}
	oldID, err := os.ReadFile(filepath.Join(s.Dir(), "identity.txt"))
	must(t, err)
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	newID, err := os.ReadFile(filepath.Join(s.Dir(), "identity.txt"))
	must(t, err)
	if bytes.Equal(oldID, newID) || strings.Count(string(newID), "AGE-SECRET-KEY-1") != 1 {
		t.Fatal("identity not replaced by exactly one new identity")
	}
	// The old identity opens nothing any more.
	s2, err := Open(s.Dir())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(s.Dir(), "identity.txt"), oldID, 0o600))
	old, err := Open(s.Dir())
	must(t, err)
	for _, n := range []string{"A", "B"} {
		if _, err := old.Read(n); err == nil {
			t.Fatalf("old identity still decrypts %s", n)
		}
	}
	must(t, os.WriteFile(filepath.Join(s.Dir(), "identity.txt"), newID, 0o600))
	if v, err := s2.Read("A"); err != nil || string(v) != "rotate-value-a" {
		t.Fatalf("Read A after rotate = %q, %v", v, err)
	}
	if v, err := s2.ReadSealed("rootkeys"); err != nil || string(v) != "sealed-data" {
		t.Fatalf("ReadSealed after rotate = %q, %v", v, err)
	}
	if r, err := s2.Rotating(); err != nil || r {
		t.Fatalf("rotation reported incomplete (%v)", err)
	}
}

func TestRotateResumesAfterInterruption(t *testing.T) {
	s := newStore(t)
	s.Write("A", []byte("resume-value-a"))
	s.Write("B", []byte("resume-value-b"))
	// Simulate a crash after step 3 re-encrypted A but not B: two
	// identities, new recipients, A under the new key.
	if err := s.loadIdentity(); err != nil {
		t.Fatal(err)
	}
	old := s.identities[0]
	next, err := age.GenerateX25519Identity()
	must(t, err)
	s.identities = []age.Identity{next, old}
	if err := s.writeIdentities(); err != nil {
		t.Fatal(err)
	}
	s.recipients = []age.Recipient{next.Recipient()}
	if err := s.reencrypt(s.secretPath("A"), next); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir())
	must(t, err)
	if r, err := s2.Rotating(); err != nil || !r {
		t.Fatalf("interrupted rotation not reported (%v)", err)
	}
	for _, n := range []string{"A", "B"} {
		if _, err := s2.Read(n); err != nil {
			t.Fatalf("mid-rotation Read %s: %v", n, err)
		}
	}
	if err := s2.Rotate(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(s.Dir())
	must(t, err)
	if s3.loadIdentity(); s3.identities[0].(*age.X25519Identity).String() != next.String() {
		t.Fatal("resume did not keep the new identity chosen before the crash")
	}
	for _, n := range []string{"A", "B"} {
		if _, err := s3.Read(n); err != nil {
			t.Fatalf("after resume Read %s: %v", n, err)
		}
	}
}

// TestWriteAfterAnotherProcessRotated: a Store opened before another
// process rotated the identity must not encrypt to the old recipients.
func TestWriteAfterAnotherProcessRotated(t *testing.T) {
	s := newStore(t)
	s.Write("A", []byte("value-a-123"))
	early, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.Read("A"); err != nil { // identity loaded before the rotation
		t.Fatal(err)
	}
	other, err := Open(s.Dir())
	must(t, err)
	if err := other.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := early.Write("X", []byte("written-after-rotation")); err != nil {
		t.Fatal(err)
	}
	if err := early.UpdateSealed("leases", func([]byte) ([]byte, error) { return []byte("[]"), nil }); err != nil {
		t.Fatal(err)
	}
	fresh, err := Open(s.Dir())
	must(t, err)
	if v, err := fresh.Read("X"); err != nil || string(v) != "written-after-rotation" {
		t.Fatalf("value written after another process rotated: %q, %v", v, err)
	}
	if _, err := fresh.ReadSealed("leases"); err != nil {
		t.Fatalf("sealed file written after another process rotated: %v", err)
	}
	// And a Store that loaded the old identity still reads re-encrypted files.
	if v, err := early.Read("A"); err != nil || string(v) != "value-a-123" {
		t.Fatalf("stale Store reading after rotation: %q, %v", v, err)
	}
}
