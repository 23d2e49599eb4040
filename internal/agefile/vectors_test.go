package agefile

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"filippo.io/age"

	"github.com/llm-secrets/llms/internal/agevectors"
)

// TestVectorsParseAsAge: every vector's header is accepted by ParseHeader
// exactly when age's own parser accepts it, at the same length, and what
// is accepted writes back to the same bytes, MAC included.
func TestVectorsParseAsAge(t *testing.T) {
	accepted, refused := 0, 0
	for _, v := range agevectors.All(t) {
		t.Run(v.Name, func(t *testing.T) {
			h, off, err := ParseHeader(v.File)
			ageHdr, ageErr := age.ExtractHeader(bytes.NewReader(v.File))
			if (err == nil) != (ageErr == nil) {
				t.Fatalf("ParseHeader error %v, age's parser error %v", err, ageErr)
			}
			if err != nil {
				refused++
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("a refusal not marked ErrMalformed: %v", err)
				}
				if !v.Armored && v.Expect != "header failure" {
					t.Fatalf("expect %q, but the header was refused: %v", v.Expect, err)
				}
				return
			}
			accepted++
			if !bytes.Equal(v.File[:off], ageHdr) {
				t.Fatal("the header ParseHeader found is not the one age found")
			}
			b, err := appendWithoutMAC(nil, h.Stanzas)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(append(b, ' '), b64.EncodeToString(h.MAC)...), '\n')
			if !bytes.Equal(b, v.File[:off]) {
				t.Fatal("the header does not write back to the same bytes")
			}
			if v.FileKey == nil {
				return
			}
			mac, err := headerMAC(v.FileKey, b[:bytes.LastIndex(b, []byte(" "))])
			if err != nil {
				t.Fatal(err)
			}
			switch v.Expect {
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
	for _, v := range agevectors.All(t) {
		if v.Cut {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			// With no hint (age's order), a Rewrapper's hint left by an
			// earlier file at the first stanza (a hit for most vectors),
			// and at the second (a miss, or past the end).
			for hint := -1; hint < 2; hint++ {
				r := NewRewrapper(v.Identities)
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

func checkVectorRewrap(t *testing.T, v agevectors.Vector, r *Rewrapper, to *age.X25519Identity) {
	t.Helper()
	out, err := r.Rewrap(v.File, []age.Recipient{to.Recipient()})
	if err != nil && out != nil {
		t.Fatal("an error with output")
	}
	var want error
	switch {
	case v.Armored:
		want = ErrMalformed // armor is not an age v1 binary file
	case v.Expect == "header failure":
		want = ErrMalformed
	case v.Expect == "no match":
		want = ErrNoIdentity
	case v.Expect == "HMAC failure":
		want = ErrBadMAC
	case v.Expect == "payload failure":
		want = ErrPayload
	case v.Expect == "success":
	default:
		t.Fatalf("unknown expectation %q", v.Expect)
	}
	if want != nil {
		if !errors.Is(err, want) {
			t.Fatalf("expect %q: Rewrap error %v, want %v", v.Expect, err, want)
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
	if sum := sha256.Sum256(got); !bytes.Equal(sum[:], v.PayloadHash) {
		t.Fatal("payload hash mismatch after rewrap")
	}
	_, oldOff, _ := ParseHeader(v.File)
	_, newOff, _ := ParseHeader(out)
	if !bytes.Equal(out[newOff:], v.File[oldOff:]) {
		t.Fatal("the payload bytes changed")
	}
	var noMatch *age.NoIdentityMatchError
	if _, err := age.Decrypt(bytes.NewReader(out), v.Identities...); !errors.As(err, &noMatch) {
		t.Fatalf("the vector's own identities still open the rewrapped file: %v", err)
	}
}
