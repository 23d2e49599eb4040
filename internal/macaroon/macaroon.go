package macaroon

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"unicode/utf8"
)

// TextPrefix starts the text form of every macaroon, so that tokens are easy
// to recognise in environment variables and easy for scanners to grep for.
const TextPrefix = "llms_m2_"

const (
	maxEncodedLen = 64 << 10
	maxCaveats    = 256
)

// Macaroon is an immutable macaroon. Make one with [New], [UnmarshalBinary]
// or [Parse].
type Macaroon struct {
	location string
	id       []byte
	caveats  [][]byte // first-party caveats: conditions for the checker
	sig      [sha256.Size]byte
}

// New returns a macaroon with no caveats, signed with rootKey. The location
// is an unsigned hint and may be empty.
func New(rootKey, id []byte, location string) (*Macaroon, error) {
	if len(rootKey) == 0 {
		return nil, errors.New("macaroon: empty root key")
	}
	m := &Macaroon{location: location, id: bytes.Clone(id)}
	if err := m.validate(); err != nil {
		return nil, err
	}
	x := newHMACer()
	key := x.deriveKey(rootKey)
	m.sig = x.mac(&key, m.id)
	return m, nil
}

// Location returns the macaroon's location hint, which is not signed.
func (m *Macaroon) Location() string { return m.location }

// ID returns a copy of the macaroon's identifier.
func (m *Macaroon) ID() []byte { return bytes.Clone(m.id) }

// Signature returns the macaroon's signature. Together with the rest of the
// token it is a bearer credential: do not log it.
func (m *Macaroon) Signature() [sha256.Size]byte { return m.sig }

// Caveats returns a copy of the macaroon's caveats, in order.
func (m *Macaroon) Caveats() [][]byte {
	out := make([][]byte, len(m.caveats))
	for i, c := range m.caveats {
		out[i] = bytes.Clone(c)
	}
	return out
}

// AddFirstPartyCaveat returns a copy of m with the condition id appended and
// the signature chained over it: sig' = HMAC(sig, id).
func (m *Macaroon) AddFirstPartyCaveat(id []byte) (*Macaroon, error) {
	return m.AddFirstPartyCaveats(id)
}

// AddFirstPartyCaveats is AddFirstPartyCaveat for several conditions at
// once, in order: the same macaroon, made with one HMAC state, one caveat
// slice and one validation instead of one each per caveat. The caveat slice
// is always freshly allocated, so two macaroons attenuated from the same
// parent never write into each other's caveats.
func (m *Macaroon) AddFirstPartyCaveats(ids ...[]byte) (*Macaroon, error) {
	caveats := make([][]byte, len(m.caveats), len(m.caveats)+len(ids))
	copy(caveats, m.caveats)
	x := newHMACer()
	sig := m.sig
	for _, id := range ids {
		id = bytes.Clone(id)
		caveats = append(caveats, id)
		sig = x.mac(&sig, id)
	}
	n := &Macaroon{location: m.location, id: m.id, caveats: caveats, sig: sig}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return n, nil
}

// validate enforces the rules shared by the constructors and the parser, so
// that everything this package makes can be encoded and parsed back.
func (m *Macaroon) validate() error {
	if len(m.id) == 0 {
		return errors.New("macaroon: empty identifier")
	}
	if !utf8.ValidString(m.location) {
		return errors.New("macaroon: location is not valid UTF-8")
	}
	if len(m.caveats) > maxCaveats {
		return fmt.Errorf("macaroon: more than %d caveats", maxCaveats)
	}
	for i, c := range m.caveats {
		if len(c) == 0 {
			return fmt.Errorf("macaroon: caveat %d: empty identifier", i)
		}
	}
	if n := m.encodedLen(); n > maxEncodedLen {
		return fmt.Errorf("macaroon: encoding would be %d bytes, more than %d", n, maxEncodedLen)
	}
	return nil
}

// keyGenerator is the HMAC key with which libmacaroons turns a root key of
// any length into the 32-byte key that starts the chain: the string
// "macaroons-key-generator" zero-padded to 32 bytes, exactly as libmacaroons
// pads it.
var keyGenerator = func() (k [sha256.Size]byte) {
	copy(k[:], "macaroons-key-generator")
	return k
}()

// hmacer computes the HMAC-SHA256 steps of a chain with one reused SHA-256
// state. Every step has a new 32-byte key, for which crypto/hmac would
// allocate two fresh hash states; this keeps verification fast enough to sit
// in front of every secret access. TestHMACMatchesCryptoHMAC holds it to
// crypto/hmac.
type hmacer struct {
	h     hash.Hash
	block [sha256.BlockSize]byte
	// Scratch space kept here, not on the stack, because everything
	// passed to the hash.Hash interface escapes to the heap.
	inner, sum [sha256.Size]byte
}

func newHMACer() *hmacer { return &hmacer{h: sha256.New()} }

// mac is HMAC-SHA256 (RFC 2104) of the concatenation of data under key.
func (x *hmacer) mac(key *[sha256.Size]byte, data ...[]byte) [sha256.Size]byte {
	x.padKey(key, 0x36)
	x.h.Reset()
	x.h.Write(x.block[:])
	for _, d := range data {
		x.h.Write(d)
	}
	x.h.Sum(x.inner[:0])
	x.padKey(key, 0x5c)
	x.h.Reset()
	x.h.Write(x.block[:])
	x.h.Write(x.inner[:])
	x.h.Sum(x.sum[:0])
	return x.sum
}

// padKey fills the block with key, zero-extended to the block size, XORed
// with pad.
func (x *hmacer) padKey(key *[sha256.Size]byte, pad byte) {
	for i := range x.block {
		x.block[i] = pad
	}
	for i, k := range key {
		x.block[i] ^= k
	}
}

func (x *hmacer) deriveKey(rootKey []byte) [sha256.Size]byte {
	return x.mac(&keyGenerator, rootKey)
}
