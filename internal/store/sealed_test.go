package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openAgain(t *testing.T, s *Store) *Store {
	t.Helper()
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

func readSealed(t *testing.T, s *Store, name string) string {
	t.Helper()
	data, err := s.ReadSealed(name)
	if err != nil {
		t.Fatalf("ReadSealed(%s): %v", name, err)
	}
	return string(data)
}

// A long-lived Store (the agent-mode broker) sees every rewrite another
// process makes, although it does not decrypt an unchanged file twice.
func TestReadSealedSeesRewrites(t *testing.T) {
	broker := newStore(t)
	if err := broker.WriteSealed("revoked", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if got := readSealed(t, broker, "revoked"); got != "first" {
		t.Fatalf("got %q", got)
	}
	if got := readSealed(t, broker, "revoked"); got != "first" {
		t.Fatalf("second read: %q", got)
	}
	human := openAgain(t, broker)
	if err := human.WriteSealed("revoked", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got := readSealed(t, broker, "revoked"); got != "second" {
		t.Fatalf("after another process's write: %q, want \"second\"", got)
	}
	if err := human.DeleteSealed("revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := broker.ReadSealed("revoked"); err == nil {
		t.Fatal("a deleted sealed file still reads")
	}
}

// After another process rotates the identity, a file put back as it was
// before the rotation (a replayed root-keys file) no longer opens in a
// long-lived Store: neither from what it decrypted before nor with the
// identity it had loaded.
func TestReadSealedAfterRotationRefusesReplay(t *testing.T) {
	broker := newStore(t)
	if err := broker.WriteSealed("rootkeys", []byte("keys of before")); err != nil {
		t.Fatal(err)
	}
	if got := readSealed(t, broker, "rootkeys"); got != "keys of before" {
		t.Fatalf("got %q", got)
	}
	path := filepath.Join(broker.Dir(), "rootkeys.age")
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := openAgain(t, broker).Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := broker.ReadSealed("rootkeys"); err == nil {
		t.Fatalf("the replayed file opened after the rotation: %q", data)
	}
}

// The lease list of a long session outgrows any one value (about 150
// tokens' leases did, and every later mint failed as "corrupted"): a
// sealed file reads back whole up to its own bound, and one that would
// not is refused before it is written.
func TestSealedFileLargerThanAValue(t *testing.T) {
	s := newStore(t)
	big := make([]byte, 4*MaxValueLen)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if err := s.WriteSealed("leases", big); err != nil {
		t.Fatal(err)
	}
	if got := readSealed(t, openAgain(t, s), "leases"); got != string(big) {
		t.Fatalf("read back %d bytes, wrote %d", len(got), len(big))
	}
	if err := s.WriteSealed("leases", make([]byte, maxSealedLen)); err == nil {
		t.Fatal("a sealed file too large to read back was written")
	}
	if got := readSealed(t, s, "leases"); got != string(big) {
		t.Fatal("a refused write changed the file")
	}
	// A secret's file stays bounded by a value's size, and a longer one is
	// refused by name, not decrypted cut short.
	path := filepath.Join(s.Dir(), "secrets", "HUGE.age")
	if err := os.WriteFile(path, make([]byte, maxFileLen+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read("HUGE"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversized secret file: %v", err)
	}
}
