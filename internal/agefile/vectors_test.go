package agefile

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
)

// vector is one file of the age test vectors (c2sp.org/CCTV/age).
type vector struct {
	name        string
	expect      string
	payloadHash []byte
	fileKey     []byte
	ids         []age.Identity
	armored     bool
	file        []byte
	cut         bool // only the start of a larger file
}

var vectors struct {
	sync.Mutex
	all []vector
}

// loadVectors reads (once: some are megabytes compressed) the age test
// vectors.
func loadVectors(t testing.TB) []vector {
	vectors.Lock()
	defer vectors.Unlock()
	if vectors.all != nil {
		return vectors.all
	}
	entries, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	for _, e := range entries {
		data, err := fs.ReadFile(agetest.Vectors, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, parseVector(t, e.Name(), data))
	}
	if len(vs) < 140 {
		t.Fatalf("only %d age test vectors: the set changed shape", len(vs))
	}
	vectors.all = vs
	return vs
}

func parseVector(t testing.TB, name string, data []byte) vector {
	v := vector{name: name}
	r := bufio.NewReader(bytes.NewReader(data))
	compressed := false
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
			v.expect = value
		case "payload":
			v.payloadHash, _ = hex.DecodeString(value)
		case "file key":
			v.fileKey, _ = hex.DecodeString(value)
		case "identity":
			var id age.Identity
			id, err := age.ParseX25519Identity(value)
			if err != nil {
				id, err = age.ParseHybridIdentity(value)
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v.ids = append(v.ids, id)
		case "passphrase":
			id, err := age.NewScryptIdentity(value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v.ids = append(v.ids, id)
		case "armored":
			v.armored = true
		case "compressed":
			compressed = true
		}
	}
	body, _ := io.ReadAll(r)
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		// Only the first MiB: the multi-megabyte STREAM vectors test
		// age's own STREAM, to which authenticate hands the payload, and
		// inflating them under -race takes seconds. Their headers are
		// still checked; Rewrap skips them.
		if body, err = io.ReadAll(io.LimitReader(zr, 1<<20+1)); err != nil {
			t.Fatal(err)
		}
		v.cut = len(body) > 1<<20
	}
	v.file = body
	return v
}

// TestVectorsParseAsAge: every vector's header is accepted by ParseHeader
// exactly when age's own parser accepts it, at the same length, and what
// is accepted writes back to the same bytes, MAC included.
func TestVectorsParseAsAge(t *testing.T) {
	accepted, refused := 0, 0
	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			h, off, err := ParseHeader(v.file)
			ageHdr, ageErr := age.ExtractHeader(bytes.NewReader(v.file))
			if (err == nil) != (ageErr == nil) {
				t.Fatalf("ParseHeader error %v, age's parser error %v", err, ageErr)
			}
			if err != nil {
				refused++
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("a refusal not marked ErrMalformed: %v", err)
				}
				if !v.armored && v.expect != "header failure" {
					t.Fatalf("expect %q, but the header was refused: %v", v.expect, err)
				}
				return
			}
			accepted++
			if !bytes.Equal(v.file[:off], ageHdr) {
				t.Fatal("the header ParseHeader found is not the one age found")
			}
			b, err := appendWithoutMAC(nil, h.Stanzas)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(append(b, ' '), b64.EncodeToString(h.MAC)...), '\n')
			if !bytes.Equal(b, v.file[:off]) {
				t.Fatal("the header does not write back to the same bytes")
			}
			if v.fileKey == nil {
				return
			}
			mac, err := headerMAC(v.fileKey, b[:bytes.LastIndex(b, []byte(" "))])
			if err != nil {
				t.Fatal(err)
			}
			switch v.expect {
			case "HMAC failure":
				if bytes.Equal(mac, h.MAC) {
					t.Fatal("our MAC matches a header age's vectors say has a bad one")
				}
			case "success", "payload failure":
				if !bytes.Equal(mac, h.MAC) {
					t.Fatal("our MAC differs from the header's")
				}
			}
		})
	}
	if accepted < 50 || refused < 30 {
		t.Fatalf("accepted %d, refused %d: the vector set changed shape", accepted, refused)
	}
}

// TestVectorsRewrap: Rewrap of each vector to a fresh recipient fails
// exactly when age fails to decrypt it, with the matching error, and
// returns nothing then; when it succeeds the new recipient, and only it,
// reads the expected payload, and the payload bytes are the same.
func TestVectorsRewrap(t *testing.T) {
	to, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range loadVectors(t) {
		if v.cut {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			// With no hint (age's order), and with a Rewrapper's hint left
			// at each of the first stanzas by an earlier file.
			for hint := -1; hint < 3; hint++ {
				r := NewRewrapper(v.ids)
				if r.hint == nil && hint >= 0 {
					break
				}
				if r.hint != nil {
					r.hint.last.Store(int64(hint))
				}
				checkVectorRewrap(t, v, r, to)
			}
		})
	}
}

func checkVectorRewrap(t *testing.T, v vector, r *Rewrapper, to *age.X25519Identity) {
	t.Helper()
	out, err := r.Rewrap(v.file, []age.Recipient{to.Recipient()})
	if err != nil && out != nil {
		t.Fatal("an error with output")
	}
	var want error
	switch {
	case v.armored:
		want = ErrMalformed // armor is not an age v1 binary file
	case v.expect == "header failure":
		want = ErrMalformed
	case v.expect == "no match":
		want = ErrNoIdentity
	case v.expect == "HMAC failure":
		want = ErrBadMAC
	case v.expect == "payload failure":
		want = ErrPayload
	case v.expect == "success":
	default:
		t.Fatalf("unknown expectation %q", v.expect)
	}
	if want != nil {
		if !errors.Is(err, want) {
			t.Fatalf("expect %q: Rewrap error %v, want %v", v.expect, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("expect success: %v", err)
	}
	dr, err := age.Decrypt(bytes.NewReader(out), to)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(dr)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(got); !bytes.Equal(sum[:], v.payloadHash) {
		t.Fatal("payload hash mismatch after rewrap")
	}
	_, oldOff, _ := ParseHeader(v.file)
	_, newOff, _ := ParseHeader(out)
	if !bytes.Equal(out[newOff:], v.file[oldOff:]) {
		t.Fatal("the payload bytes changed")
	}
	var noMatch *age.NoIdentityMatchError
	if _, err := age.Decrypt(bytes.NewReader(out), v.ids...); !errors.As(err, &noMatch) {
		t.Fatalf("the vector's own identities still open the rewrapped file: %v", err)
	}
}
