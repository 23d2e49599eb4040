package macaroon

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// token is a macaroon drawn by rapid, with the root key to verify it.
type token struct {
	rootKey []byte
	m       *Macaroon
}

func drawToken(t *rapid.T) token {
	// Root keys stay at most 64 bytes: HMAC replaces a longer key by its
	// hash, a known equivalence that is no forgery.
	rootKey := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "rootKey")
	id := rapid.SliceOfN(rapid.Byte(), 1, 32).Draw(t, "id")
	location := rapid.SampledFrom([]string{"", "llms", "https://example.org/"}).Draw(t, "location")
	caveats := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 1, 40), 1, 8).Draw(t, "caveats")
	m, err := New(rootKey, id, location)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range caveats {
		if m, err = m.AddFirstPartyCaveat(c); err != nil {
			t.Fatal(err)
		}
	}
	tok := token{rootKey: rootKey, m: m}
	if err := tok.verify(tok.m, acceptAll); err != nil {
		t.Fatalf("a freshly minted token does not verify: %v", err)
	}
	return tok
}

func (tok token) verify(m *Macaroon, check func([]byte) error) error {
	return m.Verify(tok.rootKey, check)
}

// mustNotVerify asserts that m fails verification without the checker ever
// being called, after a trip through the encoding.
func (tok token) mustNotVerify(t *rapid.T, m *Macaroon) {
	enc, _ := m.MarshalBinary()
	parsed, err := UnmarshalBinary(enc)
	if err != nil {
		t.Fatalf("a tampered but well-formed token does not parse: %v", err)
	}
	calls := 0
	if err := tok.verify(parsed, func([]byte) error { calls++; return nil }); err == nil {
		t.Fatal("tampered token verified")
	}
	if calls != 0 {
		t.Fatalf("the checker ran %d times on a token with a bad signature", calls)
	}
}

// TestPropertyCaveatTampering: removing, reordering, duplicating or editing
// any caveat, while keeping the signature, fails verification.
func TestPropertyCaveatTampering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tok := drawToken(t)
		caveats := tok.m.Caveats()
		i := rapid.IntRange(0, len(caveats)-1).Draw(t, "i")
		var tampered [][]byte
		switch rapid.SampledFrom([]string{"remove", "reorder", "duplicate", "edit"}).Draw(t, "how") {
		case "remove":
			tampered = slices.Delete(slices.Clone(caveats), i, i+1)
		case "reorder":
			j := rapid.IntRange(0, len(caveats)-1).Draw(t, "j")
			if bytes.Equal(caveats[i], caveats[j]) {
				t.Skip("swapping equal caveats changes nothing")
			}
			tampered = slices.Clone(caveats)
			tampered[i], tampered[j] = tampered[j], tampered[i]
		case "duplicate":
			j := rapid.IntRange(0, len(caveats)).Draw(t, "j")
			tampered = slices.Insert(slices.Clone(caveats), j, caveats[i])
		case "edit":
			tampered = tok.m.Caveats()
			id := tampered[i]
			id[rapid.IntRange(0, len(id)-1).Draw(t, "pos")] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		}
		tok.mustNotVerify(t, &Macaroon{location: tok.m.location, id: tok.m.id, caveats: tampered, sig: tok.m.sig})
	})
}

// TestPropertyBitFlip: flipping any bit of the encoding either makes it
// unparsable, or fails verification, or changes only a location, which
// libmacaroons does not sign either.
func TestPropertyBitFlip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tok := drawToken(t)
		enc, _ := tok.m.MarshalBinary()
		bit := rapid.IntRange(0, len(enc)*8-1).Draw(t, "bit")
		enc[bit/8] ^= 1 << (bit % 8)
		flipped, err := UnmarshalBinary(enc)
		if err != nil {
			return
		}
		if tok.verify(flipped, acceptAll) == nil && !sameButLocations(flipped, tok.m) {
			t.Fatal("a bit flip outside the locations still verifies")
		}
	})
}

func sameButLocations(a, b *Macaroon) bool {
	if !bytes.Equal(a.id, b.id) || a.sig != b.sig || len(a.caveats) != len(b.caveats) {
		return false
	}
	for i := range a.caveats {
		if !bytes.Equal(a.caveats[i], b.caveats[i]) {
			return false
		}
	}
	return true
}

// TestPropertySignatureLength: a signature field of any length but 32, and
// an encoding cut anywhere, does not parse.
func TestPropertySignatureLength(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tok := drawToken(t)
		enc, _ := tok.m.MarshalBinary()
		body := enc[:len(enc)-2-32]
		n := rapid.IntRange(0, 100).Filter(func(n int) bool { return n != 32 }).Draw(t, "sigLen")
		sig := rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "sig")
		if _, err := UnmarshalBinary(concat(body, appendField(nil, fieldSignature, sig))); err == nil {
			t.Fatalf("accepted a %d-byte signature", n)
		}
		cut := rapid.IntRange(0, len(enc)-1).Draw(t, "cut")
		if _, err := UnmarshalBinary(enc[:cut]); err == nil {
			t.Fatalf("accepted the encoding cut to %d of %d bytes", cut, len(enc))
		}
	})
}

// TestPropertyOtherRootKey: no other root key verifies the token.
func TestPropertyOtherRootKey(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tok := drawToken(t)
		other := rapid.SliceOfN(rapid.Byte(), 1, 64).Filter(func(k []byte) bool { return !bytes.Equal(k, tok.rootKey) }).Draw(t, "otherKey")
		if err := tok.m.Verify(other, acceptAll); err == nil {
			t.Fatal("verified with another root key")
		}
	})
}

// TestPropertyCheckerSeesEveryCaveat: on success the checker saw every
// first-party caveat once, in order; refusing any one of them fails.
func TestPropertyCheckerSeesEveryCaveat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tok := drawToken(t)
		var seen [][]byte
		if err := tok.verify(tok.m, func(c []byte) error { seen = append(seen, c); return nil }); err != nil {
			t.Fatal(err)
		}
		caveats := tok.m.Caveats()
		if len(seen) != len(caveats) {
			t.Fatalf("checker saw %d caveats, want %d", len(seen), len(caveats))
		}
		for i := range seen {
			if !bytes.Equal(seen[i], caveats[i]) {
				t.Fatalf("caveat %d seen out of order", i)
			}
		}
		refuse := rapid.IntRange(0, len(caveats)-1).Draw(t, "refuse")
		n := 0
		err := tok.verify(tok.m, func([]byte) error {
			n++
			if n-1 == refuse {
				return errNotHere
			}
			return nil
		})
		if err == nil {
			t.Fatal("verified although the checker refused a caveat")
		}
	})
}

// TestHMACMatchesCryptoHMAC holds the chain's reusable HMAC to crypto/hmac,
// across calls on one state and for data split into several pieces.
func TestHMACMatchesCryptoHMAC(t *testing.T) {
	x := newHMACer()
	rapid.Check(t, func(t *rapid.T) {
		key := [sha256.Size]byte(rapid.SliceOfN(rapid.Byte(), sha256.Size, sha256.Size).Draw(t, "key"))
		pieces := rapid.SliceOfN(rapid.SliceOf(rapid.Byte()), 0, 4).Draw(t, "pieces")
		want := hmac.New(sha256.New, key[:])
		for _, p := range pieces {
			want.Write(p)
		}
		if got := x.mac(&key, pieces...); !bytes.Equal(got[:], want.Sum(nil)) {
			t.Fatal("differs from crypto/hmac")
		}
	})
	// The padded key generator is the same HMAC key as the unpadded string.
	want := hmac.New(sha256.New, []byte("macaroons-key-generator"))
	want.Write([]byte("root"))
	if got := x.deriveKey([]byte("root")); !bytes.Equal(got[:], want.Sum(nil)) {
		t.Fatal("deriveKey differs from HMAC keyed with \"macaroons-key-generator\"")
	}
}
