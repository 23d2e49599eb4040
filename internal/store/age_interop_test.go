package store

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
)

// ageCLI returns the reference age binary. In CI (CI=true) its absence is a
// failure, not a skip: .ci/run installs Debian's age.
func ageCLI(t *testing.T) string {
	path, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the age CLI is required in CI (apt-get install age)")
		}
		t.Skip("age CLI not installed (apt-get install age)")
	}
	return path
}

// TestAgeCLIDecryptsOurFiles: a value stored by llms is recovered with
// `age -d -i identity.txt secrets/NAME.age` — users are never locked in.
func TestAgeCLIDecryptsOurFiles(t *testing.T) {
	ageBin := ageCLI(t)
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
	ageBin := ageCLI(t)
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
	entries, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, e := range entries {
		data, err := fs.ReadFile(agetest.Vectors, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		v, ok := parseCCTV(t, data)
		if !ok {
			continue // armored, passphrase or hybrid: not a store file
		}
		ran++
		t.Run(e.Name(), func(t *testing.T) {
			s := newStore(t)
			id, err := age.ParseX25519Identity(v.identity)
			if err != nil {
				t.Fatal(err)
			}
			must(t, os.WriteFile(filepath.Join(s.Dir(), "identity.txt"), []byte(v.identity+"\n"), 0o600))
			must(t, os.WriteFile(filepath.Join(s.Dir(), "recipients.txt"), []byte(id.Recipient().String()+"\n"), 0o600))
			must(t, os.WriteFile(s.secretPath("V"), v.file, 0o600))
			s2, err := Open(s.Dir())
			if err != nil {
				t.Fatal(err)
			}
			got, err := s2.Read("V")
			wantOK := v.expect == "success" && len(v.file) <= maxFileLen
			if wantOK != (err == nil) {
				t.Fatalf("expect %q (file %d bytes): Read error = %v", v.expect, len(v.file), err)
			}
			if wantOK && sha256.Sum256(got) != v.payloadHash {
				t.Fatal("payload hash mismatch")
			}
		})
	}
	if ran < 50 {
		t.Fatalf("only %d CCTV vectors applied; the vector set changed shape", ran)
	}
}

type cctvVector struct {
	expect      string
	payloadHash [32]byte
	identity    string
	file        []byte
}

func parseCCTV(t *testing.T, data []byte) (cctvVector, bool) {
	var v cctvVector
	r := bufio.NewReader(bytes.NewReader(data))
	compressed, identities := false, 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("vector without a body: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			break
		}
		key, value, _ := strings.Cut(line, ": ")
		switch key {
		case "expect":
			v.expect = value
		case "payload":
			h, err := hex.DecodeString(value)
			must(t, err)
			copy(v.payloadHash[:], h)
		case "identity":
			identities++
			v.identity = value
		case "passphrase", "armored":
			return v, false
		case "compressed":
			compressed = true
		}
	}
	body, err := io.ReadAll(r)
	must(t, err)
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	v.file = body
	return v, identities == 1 && strings.HasPrefix(v.identity, "AGE-SECRET-KEY-1")
}
