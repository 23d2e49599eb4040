package agefile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/llm-secrets/llms/internal/agevectors"
)

// fataler is what the helpers need of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

func newX25519(t fataler) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func recipientsOf(ids ...*age.X25519Identity) []age.Recipient {
	var rs []age.Recipient
	for _, id := range ids {
		rs = append(rs, id.Recipient())
	}
	return rs
}

func encrypt(t fataler, plaintext []byte, to ...age.Recipient) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := age.Encrypt(&b, to...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decrypt returns the plaintext age reads from file with id, or its error.
func decrypt(file []byte, id age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(file), id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func payloadOf(t fataler, file []byte) []byte {
	t.Helper()
	_, off, err := ParseHeader(file)
	if err != nil {
		t.Fatal(err)
	}
	return file[off:]
}

// canary is a unique plaintext, so a test can say it appears nowhere.
func canary(t fataler, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return []byte("canary-" + hex.EncodeToString(b))
}

func wantNoMatch(t *testing.T, file []byte, id age.Identity) {
	t.Helper()
	var noMatch *age.NoIdentityMatchError
	if _, err := decrypt(file, id); !errors.As(err, &noMatch) {
		t.Fatalf("a removed identity: decrypt error %v, want no match", err)
	}
}

// TestRewrapRemovesAndAdds: after a re-wrap, exactly the new set reads the
// value (age in Go checks our header MAC), the payload bytes are the same,
// and a removed member's identity opens nothing.
func TestRewrapRemovesAndAdds(t *testing.T) {
	alice, bob, carol, dave := newX25519(t), newX25519(t), newX25519(t), newX25519(t)
	value := canary(t, 512)
	file := encrypt(t, value, recipientsOf(alice, bob, carol)...)

	out, err := Rewrap(file, []age.Identity{bob}, recipientsOf(alice, carol, dave))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []*age.X25519Identity{alice, carol, dave} {
		got, err := decrypt(out, id)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("a member after the re-wrap: %v", err)
		}
	}
	wantNoMatch(t, out, bob)
	if !bytes.Equal(payloadOf(t, out), payloadOf(t, file)) {
		t.Fatal("the payload bytes changed")
	}
	h, _, _ := ParseHeader(out)
	if len(h.Stanzas) != 3 {
		t.Fatalf("%d stanzas, want one per recipient", len(h.Stanzas))
	}
}

// TestAddRecipients: the old stanzas stay, one is added, everyone reads.
func TestAddRecipients(t *testing.T) {
	alice, bob, carol := newX25519(t), newX25519(t), newX25519(t)
	value := canary(t, 100)
	file := encrypt(t, value, recipientsOf(alice, bob)...)
	out, err := AddRecipients(file, []age.Identity{alice}, recipientsOf(carol))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []*age.X25519Identity{alice, bob, carol} {
		if got, err := decrypt(out, id); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("decrypt after add: %v", err)
		}
	}
	old, off, _ := ParseHeader(file)
	h, _, _ := ParseHeader(out)
	if len(h.Stanzas) != 3 {
		t.Fatalf("%d stanzas, want 3", len(h.Stanzas))
	}
	oldHdr, _ := appendWithoutMAC(nil, old.Stanzas)
	if !bytes.HasPrefix(out, oldHdr[:len(oldHdr)-len(footerPrefix)]) {
		t.Fatal("the old stanzas were not kept as they were")
	}
	if !bytes.Equal(payloadOf(t, out), file[off:]) {
		t.Fatal("the payload bytes changed")
	}
}

// TestAgeCLIReadsRewrapped: the reference age CLI decrypts a re-wrapped
// file with a new member's identity, and refuses the removed member's.
func TestAgeCLIReadsRewrapped(t *testing.T) {
	ageBin := agevectors.CLI(t)
	alice, bob, carol := newX25519(t), newX25519(t), newX25519(t)
	value := canary(t, 1024)
	file := encrypt(t, value, recipientsOf(alice, bob)...)
	out, err := Rewrap(file, []age.Identity{alice}, recipientsOf(alice, carol))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "v.age")
	os.WriteFile(path, out, 0o600)
	for name, id := range map[string]*age.X25519Identity{"alice": alice, "bob": bob, "carol": carol} {
		idFile := filepath.Join(dir, name+".txt")
		os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
		got, err := exec.Command(ageBin, "-d", "-i", idFile, path).Output()
		if name == "bob" {
			if err == nil {
				t.Fatal("age -d opened the file with a removed member's identity")
			}
			continue
		}
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("age -d -i %s: %v", name, err)
		}
	}
}

// TestSSHEd25519Members: ssh-ed25519 recipients are re-wrapped to as age
// accepts them, mixed with X25519 (age allows the mix), and read by age
// in Go and by the age CLI with the OpenSSH private key.
func TestSSHEd25519Members(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sshRcpt, err := agessh.NewEd25519Recipient(sshPub)
	if err != nil {
		t.Fatal(err)
	}
	sshID, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	alice := newX25519(t)
	value := canary(t, 64)
	file := encrypt(t, value, alice.Recipient())
	out, err := Rewrap(file, []age.Identity{alice}, []age.Recipient{alice.Recipient(), sshRcpt})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decrypt(out, sshID); err != nil || !bytes.Equal(got, value) {
		t.Fatalf("agessh identity: %v", err)
	}
	// And back again: the ssh member's identity opens it for a re-wrap.
	if _, err := Rewrap(out, []age.Identity{sshID}, []age.Recipient{sshRcpt}); err != nil {
		t.Fatal(err)
	}

	ageBin := agevectors.CLI(t)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, path := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "v.age")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	os.WriteFile(path, out, 0o600)
	got, err := exec.Command(ageBin, "-d", "-i", keyFile, path).Output()
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("age -d -i id_ed25519: %v", err)
	}
}

// TestRecipientSetsAsAge: a set is refused by CheckRecipients, Rewrap and
// AddRecipients exactly when age.Encrypt refuses it (post-quantum with
// classic), and scrypt is refused even alone, where age would take it.
func TestRecipientSetsAsAge(t *testing.T) {
	x := newX25519(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	sshRcpt, _ := agessh.NewEd25519Recipient(sshPub)
	scrypt, err := age.NewScryptRecipient("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	scrypt.SetWorkFactor(10)

	sets := map[string][]age.Recipient{
		"x25519":         {x.Recipient()},
		"x25519+ssh":     {x.Recipient(), sshRcpt},
		"pq":             {pq.Recipient()},
		"pq+pq":          {pq.Recipient(), pq.Recipient()},
		"x25519+pq":      {x.Recipient(), pq.Recipient()},
		"pq+x25519":      {pq.Recipient(), x.Recipient()},
		"ssh+pq":         {sshRcpt, pq.Recipient()},
		"x25519+scrypt":  {x.Recipient(), scrypt},
		"scrypt (alone)": {scrypt},
	}
	file := encrypt(t, []byte("v"), x.Recipient())
	for name, set := range sets {
		t.Run(name, func(t *testing.T) {
			_, ageErr := age.Encrypt(io.Discard, set...)
			wantOK := ageErr == nil && name != "scrypt (alone)"
			err := CheckRecipients(set)
			if (err == nil) != wantOK {
				t.Fatalf("CheckRecipients error %v; age.Encrypt error %v", err, ageErr)
			}
			if err != nil && !errors.Is(err, ErrRecipients) {
				t.Fatalf("not ErrRecipients: %v", err)
			}
			out, err := Rewrap(file, []age.Identity{x}, set)
			if (err == nil) != wantOK || (err != nil) != (out == nil) {
				t.Fatalf("Rewrap error %v", err)
			}
			if err == nil {
				for _, id := range []age.Identity{x, pq} {
					if _, derr := decrypt(out, id); derr == nil {
						return
					}
				}
				t.Fatal("no member reads the re-wrapped file")
			}
		})
	}

	// Adding to a classic file goes by the same rule.
	if _, err := AddRecipients(file, []age.Identity{x}, []age.Recipient{pq.Recipient()}); !errors.Is(err, ErrRecipients) {
		t.Fatalf("post-quantum added to a classic file: %v", err)
	}
	pqFile := encrypt(t, []byte("v"), pq.Recipient())
	if _, err := AddRecipients(pqFile, []age.Identity{pq}, recipientsOf(x)); !errors.Is(err, ErrRecipients) {
		t.Fatalf("classic added to a post-quantum file: %v", err)
	}
	out, err := AddRecipients(pqFile, []age.Identity{pq}, []age.Recipient{pq.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decrypt(out, pq); err != nil {
		t.Fatal(err)
	}
}

// TestBadFilesRefused: a bad MAC, a changed stanza, a non-canonical line,
// a changed payload byte and every truncation get an error naming what is
// wrong, no output, and no trace of the value or the identity.
func TestBadFilesRefused(t *testing.T) {
	alice, bob := newX25519(t), newX25519(t)
	value := canary(t, 300)
	file := encrypt(t, value, recipientsOf(alice, bob)...)
	_, off, _ := ParseHeader(file)
	to := recipientsOf(bob)

	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(file)) }
	macAt := off - 10 // inside the MAC's base64, clear of its last character's zero bits
	cases := map[string]struct {
		file []byte
		want error
	}{
		"MAC changed": {mutate(func(b []byte) []byte { b[macAt] = nextB64(b[macAt]); return b }), ErrBadMAC},
		"stanza argument changed": {mutate(func(b []byte) []byte {
			i := bytes.Index(b, []byte("-> X25519 ")) + len("-> X25519 ")
			b[i] = nextB64(b[i])
			return b
		}), nil},
		"body wrapped at 60 columns": {bytes.Replace(file, []byte("\n---"), []byte("\n\n---"), 1), ErrMalformed},
		"CRLF line":                  {bytes.Replace(file, []byte("v1\n"), []byte("v1\r\n"), 1), ErrMalformed},
		"two spaces":                 {bytes.Replace(file, []byte("-> X25519 "), []byte("->  X25519 "), 1), ErrMalformed},
		"payload byte changed":       {mutate(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), ErrPayload},
		"trailing garbage":           {append(bytes.Clone(file), 0), ErrPayload},
		"armored": {func() []byte {
			return []byte("-----BEGIN AGE ENCRYPTED FILE-----\n" + base64.StdEncoding.EncodeToString(file) + "\n-----END AGE ENCRYPTED FILE-----\n")
		}(), ErrMalformed},
	}
	// Every cut in the header and around the nonce; in the payload, the
	// last bytes and a sample (each costs an unwrap).
	for n := range len(file) {
		if n > off+20 && n < len(file)-20 && n%29 != 0 {
			continue
		}
		cases["cut at "+strconv.Itoa(n)] = struct {
			file []byte
			want error
		}{file[:n], nil}
	}
	secrets := []string{string(value), hex.EncodeToString(value), base64.StdEncoding.EncodeToString(value), alice.String(), bob.String()}
	for name, c := range cases {
		for _, op := range []func() ([]byte, error){
			func() ([]byte, error) { return Rewrap(c.file, []age.Identity{alice}, to) },
			func() ([]byte, error) { return AddRecipients(c.file, []age.Identity{alice}, to) },
		} {
			out, err := op()
			if err == nil || out != nil {
				t.Fatalf("%s: accepted (error %v, %d bytes out)", name, err, len(out))
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("%s: error %v, want %v", name, err, c.want)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("%s: the error carries a secret: %v", name, err)
				}
			}
		}
	}
	if _, err := Rewrap(file, nil, to); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("no identities: %v", err)
	}
	if _, err := Rewrap(file, []age.Identity{newX25519(t)}, to); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("a stranger's identity: %v", err)
	}
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// nextB64 is another base64 character than c.
func nextB64(c byte) byte {
	i := strings.IndexByte(base64Alphabet, c)
	return base64Alphabet[(i+1)%len(base64Alphabet)]
}
