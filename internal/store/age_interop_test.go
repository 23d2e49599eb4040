package store

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/llm-secrets/llms/internal/agevectors"
)

// TestAgeCLIDecryptsOurFiles: a value stored by llms is recovered with
// `age -d -i identity.txt secrets/NAME.age` — users are never locked in.
func TestAgeCLIDecryptsOurFiles(t *testing.T) {
	ageBin := agevectors.CLI(t)
	s := newStore(t)
	value := []byte("interop-canary-\x01\xff multi\nline")
	if _, err := s.Write("K", value); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ageBin, "-d", "-i", filepath.Join(s.Dir(), "identity.txt"), s.secretPath("K")).Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	if !bytes.Equal(out, value) {
		t.Fatal("age -d recovered a different value")
	}
}

// TestWeReadAgeCLIFiles: a file made by `age -R recipients.txt` is read by
// the store, so secrets can be added with the reference tool and only the
// public key.
func TestWeReadAgeCLIFiles(t *testing.T) {
	ageBin := agevectors.CLI(t)
	s := newStore(t)
	value := "made-by-age-cli-canary"
	cmd := exec.Command(ageBin, "-R", filepath.Join(s.Dir(), "recipients.txt"), "-o", s.secretPath("FROM_AGE"))
	cmd.Stdin = strings.NewReader(value)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age -R: %v: %s", err, out)
	}
	got, err := s.Read("FROM_AGE")
	if err != nil || string(got) != value {
		t.Fatalf("Read = %q, %v", got, err)
	}
}

// TestCCTVVectors runs the age project's community test vectors through the
// store's read path: every file age must reject, the store rejects; every
// file age accepts, the store reads to the expected payload (unless it is
// larger than a value may be, which the store refuses).
func TestCCTVVectors(t *testing.T) {
	ran := 0
	for _, v := range agevectors.All(t) {
		if v.Armored || v.X25519Identity == "" {
			continue // armored, passphrase or hybrid: not a store file
		}
		ran++
		t.Run(v.Name, func(t *testing.T) {
			s := newStore(t)
			id, err := age.ParseX25519Identity(v.X25519Identity)
			if err != nil {
				t.Fatal(err)
			}
			must(t, os.WriteFile(filepath.Join(s.Dir(), "identity.txt"), []byte(v.X25519Identity+"\n"), 0o600))
			must(t, os.WriteFile(filepath.Join(s.Dir(), "recipients.txt"), []byte(id.Recipient().String()+"\n"), 0o600))
			must(t, os.WriteFile(s.secretPath("V"), v.File, 0o600))
			s2, err := Open(s.Dir())
			if err != nil {
				t.Fatal(err)
			}
			got, err := s2.Read("V")
			// A cut vector is over a MiB: too large for a value either way.
			wantOK := v.Expect == "success" && len(v.File) <= maxFileLen
			if wantOK != (err == nil) {
				t.Fatalf("expect %q (file %d bytes): Read error = %v", v.Expect, len(v.File), err)
			}
			if sum := sha256.Sum256(got); wantOK && !bytes.Equal(sum[:], v.PayloadHash) {
				t.Fatal("payload hash mismatch")
			}
		})
	}
	if ran < 50 {
		t.Fatalf("only %d CCTV vectors applied; the vector set changed shape", ran)
	}
}
