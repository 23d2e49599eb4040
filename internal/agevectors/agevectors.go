// Package agevectors is test support for the packages that read and write
// age files: the age project's test vectors (c2sp.org/CCTV/age), parsed,
// and the reference age CLI. Only tests import it; it refuses nothing and
// owns no behaviour of llms.
package agevectors

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
)

// CLI returns the reference age binary. In CI (CI=true) its absence is a
// failure, not a skip: .ci/run installs Debian's age.
func CLI(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the age CLI is required in CI (apt-get install age)")
		}
		t.Skip("age CLI not installed (apt-get install age)")
	}
	return path
}

// A Vector is one file of the age test vectors.
type Vector struct {
	Name   string
	Expect string // success, no match, HMAC failure, header failure, payload failure, armor failure
	// PayloadHash is the SHA-256 of the plaintext (or of what decrypts
	// before a payload failure).
	PayloadHash []byte
	FileKey     []byte // when the vector gives it
	// Identities holds the X25519, hybrid and scrypt identities, in
	// order; X25519Identity the text of the single X25519 one, if that
	// is all there is.
	Identities     []age.Identity
	X25519Identity string
	Armored        bool
	File           []byte
	// Cut: File is only the first MiB of a larger file. The
	// multi-megabyte STREAM vectors test STREAM, and inflating them
	// under -race takes seconds.
	Cut bool
}

const maxInflated = 1 << 20

var loaded struct {
	sync.Mutex
	all []Vector
}

// All returns every vector, read once.
func All(t testing.TB) []Vector {
	t.Helper()
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.all != nil {
		return loaded.all
	}
	entries, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	var vs []Vector
	for _, e := range entries {
		data, err := fs.ReadFile(agetest.Vectors, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, parse(t, e.Name(), data))
	}
	if len(vs) < 140 {
		t.Fatalf("only %d age test vectors: the set changed shape", len(vs))
	}
	loaded.all = vs
	return vs
}

func parse(t testing.TB, name string, data []byte) Vector {
	v := Vector{Name: name}
	r := bufio.NewReader(bytes.NewReader(data))
	compressed, x25519s := false, 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: no body: %v", name, err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			break
		}
		key, value, _ := strings.Cut(line, ": ")
		switch key {
		case "expect":
			v.Expect = value
		case "payload":
			v.PayloadHash, _ = hex.DecodeString(value)
		case "file key":
			v.FileKey, _ = hex.DecodeString(value)
		case "identity":
			id, err := age.ParseX25519Identity(value)
			if err == nil {
				x25519s++
				v.X25519Identity = value
				v.Identities = append(v.Identities, id)
				continue
			}
			hybrid, err := age.ParseHybridIdentity(value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v.Identities = append(v.Identities, hybrid)
		case "passphrase":
			id, err := age.NewScryptIdentity(value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v.Identities = append(v.Identities, id)
		case "armored":
			v.Armored = true
		case "compressed":
			compressed = true
		}
	}
	if x25519s != 1 || len(v.Identities) != 1 {
		v.X25519Identity = ""
	}
	body, _ := io.ReadAll(r)
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(io.LimitReader(zr, maxInflated+1)); err != nil {
			t.Fatal(err)
		}
		v.Cut = len(body) > maxInflated
	}
	v.File = body
	return v
}
