package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// member is one member's data dir opened on a shared store.
func member(t *testing.T, shared string) SharedOptions {
	t.Helper()
	personal := filepath.Join(t.TempDir(), "data")
	if _, err := Init(personal); err != nil {
		t.Fatal(err)
	}
	o := SharedOptions{Personal: personal, Shared: shared}
	return o
}

func TestSharedStoreMembers(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "repo", "store")
	ao := member(t, shared)
	alice, err := InitShared(ao, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bo := member(t, shared)
	bp, _ := Open(bo.Personal)
	bobRecip, _ := bp.Recipient()

	if _, err := alice.Write("DB", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	// Bob is not a member: he opens the store but reads nothing.
	bob, err := OpenShared(bo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Read("DB"); err == nil {
		t.Fatal("a non-member read a secret")
	}
	if err := alice.AddMember(Member{Name: "bob", Recipient: bobRecip}); err != nil {
		t.Fatal(err)
	}
	if v, err := bob.Read("DB"); err != nil || string(v) != "v1" {
		t.Fatalf("bob after add: %q %v", v, err)
	}
	// Bob has accepted nothing yet: he may not write.
	if _, err := bob.Write("DB", []byte("v2")); !errors.Is(err, ErrUnaccepted) {
		t.Fatalf("write before accept: %v", err)
	}
	if diff, err := bob.AcceptMembers(false); err != nil || len(diff) != 2 {
		t.Fatalf("accept: %v %v", diff, err)
	}
	if _, err := bob.Write("DB", []byte("v2")); err != nil {
		t.Fatal(err)
	}

	// A recipient planted in recipients.txt is refused on every write.
	planted := FormatMembers(append(alice.shared.members, Member{Name: "eve", Recipient: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"}))
	if err := os.WriteFile(filepath.Join(shared, "recipients.txt"), planted, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{
		func() error { _, err := alice.Write("X", []byte("x")); return err },
		func() error { _, err := alice.WriteBatch([]NamedValue{{"Y", []byte("y")}}); return err },
		func() error { return alice.AddMember(Member{Name: "carol", Recipient: bobRecip}) },
	} {
		if err := w(); !errors.Is(err, ErrUnaccepted) || !strings.Contains(err.Error(), "+ eve") {
			t.Fatalf("write with a planted member: %v", err)
		}
	}
	if alice.Has("X") || alice.Has("Y") {
		t.Fatal("a refused write wrote")
	}
	if err := os.WriteFile(filepath.Join(shared, "recipients.txt"), FormatMembers(alice.shared.members[:2]), 0o600); err != nil {
		t.Fatal(err)
	}

	exposed, err := alice.RemoveMember("bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(exposed) != 1 || exposed[0].Name != "DB" || exposed[0].Updated.IsZero() {
		t.Fatalf("exposed: %+v", exposed)
	}
	if _, err := bob.Read("DB"); err == nil {
		t.Fatal("a removed member still reads")
	}
	if _, err := alice.RemoveMember("alice"); err == nil || !strings.Contains(err.Error(), "is you") {
		t.Fatalf("removing oneself: %v", err)
	}
}

func TestSharedStoreRefusesForeignFiles(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "store")
	o := member(t, shared)
	if _, err := InitShared(o, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := InitShared(o, "alice"); !errors.Is(err, ErrExists) {
		t.Fatalf("second init: %v", err)
	}
	id, _ := os.ReadFile(filepath.Join(o.Personal, "identity.txt"))
	if err := os.WriteFile(filepath.Join(shared, "identity.txt"), id, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenShared(o); err == nil || !strings.Contains(err.Error(), "identity.txt") {
		t.Fatalf("open with an identity in the shared store: %v", err)
	}
}

func TestParseMembers(t *testing.T) {
	const x = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
	for _, tc := range []struct{ in, err string }{
		{"# a\n" + x + "\n", ""},
		{x + "\n", "without a"},
		{"# a\n" + x + "\n# a\n" + x + "\n", "named twice"},
		{"# a\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN\n", "ssh recipients are not supported"},
		{"# a\nage1pq1abc\n", "post-quantum"},
		{"", "no member"},
	} {
		_, err := ParseMembers([]byte(tc.in))
		if fmt.Sprint(err) == "<nil>" != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
		}
	}
	a := []Member{{"a", "1"}, {"b", "2"}}
	b := []Member{{"a", "1"}, {"b", "3"}, {"c", "4"}}
	if got := fmt.Sprint(UnionMembers(a, b)); got != "[{a 1} {b 2} {b-2 3} {c 4}]" {
		t.Errorf("union: %s", got)
	}
}

// resolve --theirs takes the remote's file re-encrypted to the accepted
// members: a member removed here cannot open it, though the remote's file
// was written to them.
func TestTakeSecretReencryptsToTheAcceptedMembers(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "store")
	ao := member(t, shared)
	alice, err := InitShared(ao, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	own, _ := alice.Recipient()
	ownR, _ := age.ParseX25519Recipient(own)
	theirs, err := encryptTo([]age.Recipient{ownR, bob.Recipient()}, []byte("remote-value-0001"))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.TakeSecret("K", theirs); err != nil {
		t.Fatal(err)
	}
	if v, err := alice.Read("K"); err != nil || string(v) != "remote-value-0001" {
		t.Fatalf("read: %q %v", v, err)
	}
	ct, _ := os.ReadFile(filepath.Join(shared, "secrets", "K.age"))
	if _, err := decrypt(ct, "K", []age.Identity{bob}); err == nil {
		t.Fatal("the taken file still opens for a non-member")
	}
	same, err := alice.SameValue("K", ct, theirs)
	if err != nil || !same {
		t.Fatalf("same value: %v %v", same, err)
	}
	other, _ := encryptTo([]age.Recipient{ownR}, []byte("another-value-0002"))
	if same, _ := alice.SameValue("K", ct, other); same {
		t.Fatal("two values compared equal")
	}
	if err := alice.TakeSecret("K", nil); err != nil || alice.Has("K") {
		t.Fatalf("take nil: %v, still there: %v", err, alice.Has("K"))
	}
}
