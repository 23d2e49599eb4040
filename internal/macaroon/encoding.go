package macaroon

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The V2 binary format of libmacaroons (doc/format.txt):
//
//	macaroon: VERSION opt_location IDENTIFIER EOS caveats EOS SIGNATURE
//	caveat:   opt_location IDENTIFIER opt_vid EOS
//
// Every field but EOS is <type varint> <length varint> <bytes>. All field
// types are below 0x80, so each is a single byte in canonical form and the
// parser can compare it directly. A caveat's location and verification id
// belong to third-party caveats, which this package does not support: a
// caveat is its IDENTIFIER alone.
const (
	version2 = 2

	fieldEOS            = 0
	fieldLocation       = 1
	fieldIdentifier     = 2
	fieldVerificationID = 4
	fieldSignature      = 6
)

// textEncoding rejects non-zero trailing bits, the one freedom unpadded
// base64url leaves once CR and LF are excluded (Parse does that itself).
var textEncoding = base64.RawURLEncoding.Strict()

// MarshalBinary returns the canonical V2 binary encoding of m. It never
// fails; the error is there to satisfy encoding.BinaryMarshaler.
func (m *Macaroon) MarshalBinary() ([]byte, error) {
	return m.appendBinary(make([]byte, 0, m.encodedLen())), nil
}

// Text returns the text form: TextPrefix followed by the unpadded base64url
// of the V2 binary encoding. It is a bearer credential: do not log it.
func (m *Macaroon) Text() string {
	return TextPrefix + textEncoding.EncodeToString(m.appendBinary(make([]byte, 0, m.encodedLen())))
}

// String and GoString name the macaroon by its identifier length only, so
// that printing one with %v or %#v in a log or an error never writes the
// bearer credential or its signature.
func (m *Macaroon) String() string {
	return fmt.Sprintf("macaroon(%d-byte id, %d caveats)", len(m.id), len(m.caveats))
}
func (m *Macaroon) GoString() string { return m.String() }

func (m *Macaroon) appendBinary(b []byte) []byte {
	b = append(b, version2)
	if m.location != "" {
		b = appendField(b, fieldLocation, m.location)
	}
	b = appendField(b, fieldIdentifier, m.id)
	b = append(b, fieldEOS)
	for _, c := range m.caveats {
		b = appendField(b, fieldIdentifier, c)
		b = append(b, fieldEOS)
	}
	b = append(b, fieldEOS)
	return appendField(b, fieldSignature, m.sig[:])
}

func appendField[T string | []byte](b []byte, typ byte, data T) []byte {
	b = append(b, typ)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// encodedLen is len(m.appendBinary(nil)), computed without encoding.
func (m *Macaroon) encodedLen() int {
	n := 1 + fieldLen(len(m.location)) + fieldLen(len(m.id)) + 1
	for _, c := range m.caveats {
		n += fieldLen(len(c)) + 1
	}
	return n + 1 + fieldLen(sha256.Size)
}

// fieldLen is the encoded size of a field holding n bytes; empty optional
// fields are omitted, so they cost nothing.
func fieldLen(n int) int {
	if n == 0 {
		return 0
	}
	var buf [binary.MaxVarintLen64]byte
	return 1 + binary.PutUvarint(buf[:], uint64(n)) + n
}

// Parse parses the text form written by String, and nothing else: no
// padding, no standard-alphabet characters, no whitespace, nothing after the
// token.
func Parse(s string) (*Macaroon, error) {
	encoded, ok := strings.CutPrefix(s, TextPrefix)
	if !ok {
		return nil, fmt.Errorf("macaroon: text form must start with %q", TextPrefix)
	}
	if len(encoded) > textEncoding.EncodedLen(maxEncodedLen) {
		return nil, fmt.Errorf("macaroon: longer than %d bytes", maxEncodedLen)
	}
	// The decoder silently skips CR and LF; refuse them, and name the
	// offending position rather than the character or the token.
	for i := 0; i < len(encoded); i++ {
		if !isBase64URL(encoded[i]) {
			return nil, fmt.Errorf("macaroon: character %d of the text form is not unpadded base64url", len(TextPrefix)+i)
		}
	}
	b, err := textEncoding.DecodeString(encoded)
	if err != nil {
		return nil, errors.New("macaroon: text form is not canonical unpadded base64url")
	}
	return UnmarshalBinary(b)
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// UnmarshalBinary parses a canonical V2 binary macaroon. Any input it accepts
// re-encodes with MarshalBinary to exactly the same bytes.
func UnmarshalBinary(b []byte) (*Macaroon, error) {
	if len(b) > maxEncodedLen {
		return nil, fmt.Errorf("macaroon: longer than %d bytes", maxEncodedLen)
	}
	// One private copy; every field below is a capped sub-slice of it, so
	// nothing is shared with the caller and no append can spill into a
	// neighbouring field.
	d := decoder{b: bytes.Clone(b)}
	m, err := d.macaroon()
	if err != nil {
		return nil, fmt.Errorf("macaroon: malformed token: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

type decoder struct {
	b   []byte
	off int
}

func (d *decoder) macaroon() (*Macaroon, error) {
	if !d.consume(version2) {
		return nil, errors.New("not a version 2 macaroon")
	}
	m := new(Macaroon)
	loc, err := d.optionalField(fieldLocation, "location")
	if err != nil {
		return nil, err
	}
	m.location = string(loc)
	if m.id, err = d.field(fieldIdentifier, "identifier"); err != nil {
		return nil, err
	}
	if !d.consume(fieldEOS) {
		return nil, errors.New("header does not end after the identifier")
	}
	for !d.consume(fieldEOS) {
		if len(m.caveats) == maxCaveats {
			return nil, fmt.Errorf("more than %d caveats", maxCaveats)
		}
		c, err := d.caveat()
		if err != nil {
			return nil, fmt.Errorf("caveat %d: %w", len(m.caveats), err)
		}
		m.caveats = append(m.caveats, c)
	}
	sig, err := d.field(fieldSignature, "signature")
	if err != nil {
		return nil, err
	}
	if len(sig) != len(m.sig) {
		return nil, fmt.Errorf("signature is %d bytes, not %d", len(sig), len(m.sig))
	}
	copy(m.sig[:], sig)
	if d.off != len(d.b) {
		return nil, fmt.Errorf("%d trailing bytes", len(d.b)-d.off)
	}
	return m, nil
}

// caveat reads a first-party caveat. A location or a verification id
// would make it a third-party caveat, which needs a discharge: refused.
func (d *decoder) caveat() ([]byte, error) {
	if d.peek(fieldLocation) {
		return nil, errThirdParty
	}
	id, err := d.field(fieldIdentifier, "identifier")
	if err != nil {
		return nil, err
	}
	if d.peek(fieldVerificationID) {
		return nil, errThirdParty
	}
	if !d.consume(fieldEOS) {
		return nil, errors.New("unexpected field")
	}
	return id, nil
}

var errThirdParty = errors.New("third-party caveat (a location or verification id): not supported")

// peek reports whether the next byte is typ.
func (d *decoder) peek(typ byte) bool { return d.off < len(d.b) && d.b[d.off] == typ }

// consume skips the next byte if it is want.
func (d *decoder) consume(want byte) bool {
	if d.peek(want) {
		d.off++
		return true
	}
	return false
}

// optionalField reads a field of type typ if one comes next. The canonical
// encoding omits empty optional fields, so a present one must hold bytes.
func (d *decoder) optionalField(typ byte, name string) ([]byte, error) {
	if !d.peek(typ) {
		return nil, nil
	}
	data, err := d.field(typ, name)
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("empty %s field", name)
	}
	return data, err
}

func (d *decoder) field(typ byte, name string) ([]byte, error) {
	if !d.consume(typ) {
		if d.off == len(d.b) {
			return nil, fmt.Errorf("truncated before the %s", name)
		}
		return nil, fmt.Errorf("expected the %s field", name)
	}
	n, size := binary.Uvarint(d.b[d.off:])
	switch {
	case size <= 0:
		return nil, fmt.Errorf("bad length of the %s", name)
	case size > 1 && d.b[d.off+size-1] == 0:
		// A final zero group adds nothing: the same length has a
		// shorter encoding.
		return nil, fmt.Errorf("non-minimal length of the %s", name)
	case n > uint64(len(d.b)-d.off-size):
		return nil, fmt.Errorf("%s runs past the end", name)
	}
	start := d.off + size
	end := start + int(n)
	d.off = end
	return d.b[start:end:end], nil
}
