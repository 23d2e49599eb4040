package macaroon

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var testRootKey = []byte("0123456789abcdef0123456789abcdef")

func mustNew(t testing.TB, caveats ...string) *Macaroon {
	t.Helper()
	m, err := New(testRootKey, []byte("test-id"), "llms")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range caveats {
		if m, err = m.AddFirstPartyCaveat([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func acceptAll([]byte) error { return nil }

func field(typ byte, data string) []byte { return appendField(nil, typ, data) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	eos     = []byte{fieldEOS}
	header  = concat([]byte{version2}, field(fieldIdentifier, "id"), eos)
	sig32   = field(fieldSignature, strings.Repeat("s", 32))
	minimal = concat(header, eos, sig32)
)

func TestMinimalEncodingParses(t *testing.T) {
	// The table below mutates this input; it must itself be accepted, or
	// every rejection in the table proves nothing.
	m, err := UnmarshalBinary(minimal)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.MarshalBinary(); !bytes.Equal(got, minimal) {
		t.Fatal("minimal input does not round-trip")
	}
}

func TestUnmarshalBinaryRejects(t *testing.T) {
	manyCaveats := []byte{}
	for range maxCaveats + 1 {
		manyCaveats = append(manyCaveats, concat(field(fieldIdentifier, "c"), eos)...)
	}
	tests := []struct {
		name, want string
		in         []byte
	}{
		{"empty", "not a version 2", nil},
		{"V1 text", "not a version 2", []byte("MDAyMWxvY2F0aW9u")},
		{"trailing byte", "1 trailing bytes", concat(minimal, eos)},
		{"truncated signature", "signature runs past the end", minimal[:len(minimal)-1]},
		{"no signature", "truncated before the signature", concat(header, eos)},
		{"31-byte signature", "signature is 31 bytes", concat(header, eos, field(fieldSignature, strings.Repeat("s", 31)))},
		{"33-byte signature", "signature is 33 bytes", concat(header, eos, field(fieldSignature, strings.Repeat("s", 33)))},
		{"empty location field", "empty location field", concat([]byte{version2}, field(fieldLocation, ""), field(fieldIdentifier, "id"), eos, eos, sig32)},
		{"non-minimal length", "non-minimal length of the identifier", concat([]byte{version2, fieldIdentifier, 0x82, 0x00}, []byte("id"), eos, eos, sig32)},
		{"non-minimal field type", "expected the identifier field", concat([]byte{version2, 0x82, 0x00, 2}, []byte("id"), eos, eos, sig32)},
		{"overflowing length", "bad length of the identifier", concat([]byte{version2, fieldIdentifier}, bytes.Repeat([]byte{0x80}, 11))},
		{"huge length", "identifier runs past the end", concat([]byte{version2, fieldIdentifier}, bytes.Repeat([]byte{0xff}, 9), []byte{1})},
		{"unknown header field", "expected the identifier field", concat([]byte{version2}, field(3, "x"), field(fieldIdentifier, "id"), eos, eos, sig32)},
		{"location after identifier", "header does not end", concat([]byte{version2}, field(fieldIdentifier, "id"), field(fieldLocation, "l"), eos, eos, sig32)},
		{"two identifiers", "header does not end", concat([]byte{version2}, field(fieldIdentifier, "id"), field(fieldIdentifier, "id"), eos, eos, sig32)},
		{"empty identifier", "empty identifier", concat([]byte{version2}, field(fieldIdentifier, ""), eos, eos, sig32)},
		{"location not UTF-8", "location is not valid UTF-8", concat([]byte{version2}, field(fieldLocation, "\xff"), field(fieldIdentifier, "id"), eos, eos, sig32)},
		{"caveat with a location", "caveat 0: third-party caveat", concat(header, field(fieldLocation, "l"), field(fieldIdentifier, "c"), eos, eos, sig32)},
		{"caveat with a verification id", "caveat 0: third-party caveat", concat(header, field(fieldIdentifier, "c"), field(fieldVerificationID, strings.Repeat("v", 72)), eos, eos, sig32)},
		{"third-party caveat after a first-party one", "caveat 1: third-party caveat", concat(header, field(fieldIdentifier, "c"), eos, field(fieldLocation, "l"), field(fieldIdentifier, "c"), field(fieldVerificationID, strings.Repeat("v", 72)), eos, eos, sig32)},
		{"empty caveat identifier", "caveat 0: empty identifier", concat(header, field(fieldIdentifier, ""), eos, eos, sig32)},
		{"caveat without identifier", "caveat 0: expected the identifier field", concat(header, field(3, "x"), eos, eos, sig32)},
		{"unknown caveat field", "caveat 0: unexpected field", concat(header, field(fieldIdentifier, "c"), field(5, "x"), eos, eos, sig32)},
		{"unterminated caveats", "caveat 1: truncated before the identifier", concat(header, field(fieldIdentifier, "c"), eos)},
		{"too many caveats", "more than 256 caveats", concat(header, manyCaveats, eos, sig32)},
		{"too long", "longer than 65536 bytes", concat([]byte{version2}, field(fieldIdentifier, strings.Repeat("i", maxEncodedLen)), eos, eos, sig32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalBinary(tt.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "macaroon: ") {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	m := mustNew(t, "op=exec")
	text := m.Text()
	// A token whose base64 ends in a partial group, so that the last
	// character carries unused bits.
	for len(strings.TrimPrefix(text, TextPrefix))%4 == 0 {
		m = mustNew(t, "op=exec", strings.Repeat("x", len(text)%7))
		text = m.Text()
	}
	last := strings.IndexByte(base64URLAlphabet, text[len(text)-1])
	dirtyBits := text[:len(text)-1] + string(base64URLAlphabet[last|1])
	body := strings.TrimPrefix(text, TextPrefix)
	raw, _ := textEncoding.DecodeString(body)
	extraByte := TextPrefix + textEncoding.EncodeToString(append(raw, 0))
	// No base64 encodes to a length of 1 mod 4.
	impossibleLength := text + strings.Repeat("A", (5-len(body)%4)%4)

	tests := []struct{ name, in, want string }{
		{"empty", "", "must start with"},
		{"no prefix", body, "must start with"},
		{"other version prefix", "llms_m1_" + body, "must start with"},
		{"upper-case prefix", strings.ToUpper(TextPrefix) + body, "must start with"},
		{"padding", text + "==", "is not unpadded base64url"},
		{"standard alphabet +", TextPrefix + "+" + body[1:], "character 8 "},
		{"standard alphabet /", TextPrefix + body[:4] + "/" + body[5:], "character 12 "},
		{"leading space", " " + text, "must start with"},
		{"trailing newline", text + "\n", "is not unpadded base64url"},
		{"embedded CRLF", TextPrefix + body[:8] + "\r\n" + body[8:], "character 16 "},
		{"trailing tab", text + "\t", "is not unpadded base64url"},
		{"trailing dot", text + ".", "is not unpadded base64url"},
		{"impossible length", impossibleLength, "not canonical"},
		{"extra byte", extraByte, "1 trailing bytes"},
		{"non-zero trailing bits", dirtyBits, "not canonical"},
		{"too long", TextPrefix + strings.Repeat("A", textEncoding.EncodedLen(maxEncodedLen)+1), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
			if len(body) > 8 && strings.Contains(err.Error(), body[:8]) {
				t.Fatal("error quotes the token")
			}
		})
	}
	if _, err := Parse(text); err != nil {
		t.Fatalf("the unmodified token: %v", err)
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name     string
		key, id  []byte
		location string
	}{
		{"empty key", nil, []byte("id"), ""},
		{"empty id", testRootKey, nil, ""},
		{"location not UTF-8", testRootKey, []byte("id"), "\xc3"},
		{"id too long", testRootKey, bytes.Repeat([]byte("i"), maxEncodedLen), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.key, tt.id, tt.location); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestAddCaveatRejects(t *testing.T) {
	m := mustNew(t)
	if _, err := m.AddFirstPartyCaveat(nil); err == nil {
		t.Error("accepted an empty caveat")
	}
	if _, err := m.AddFirstPartyCaveats([]byte("c"), nil); err == nil {
		t.Error("accepted an empty caveat among others")
	}
	if _, err := m.AddFirstPartyCaveat(bytes.Repeat([]byte("c"), maxEncodedLen)); err == nil {
		t.Error("accepted a caveat that makes the token longer than 64 KiB")
	}
	var err error
	for i := range maxCaveats {
		if m, err = m.AddFirstPartyCaveat([]byte("c")); err != nil {
			t.Fatalf("caveat %d: %v", i, err)
		}
	}
	if _, err := m.AddFirstPartyCaveat([]byte("c")); err == nil {
		t.Error("accepted caveat 257")
	}
	// What the limits allow must parse back.
	if _, err := Parse(m.Text()); err != nil {
		t.Fatalf("a macaroon with %d caveats does not parse: %v", maxCaveats, err)
	}
}

func TestImmutable(t *testing.T) {
	id := []byte("id")
	m, err := New(testRootKey, id, "llms")
	if err != nil {
		t.Fatal(err)
	}
	id[0] = 'X'
	if string(m.ID()) != "id" {
		t.Fatal("New kept the caller's id slice")
	}
	m.ID()[0] = 'X'
	if string(m.ID()) != "id" {
		t.Fatal("ID returned the internal slice")
	}

	parent, err := m.AddFirstPartyCaveat([]byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	parentSig := parent.Signature()
	b, err := parent.AddFirstPartyCaveat([]byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parent.AddFirstPartyCaveat([]byte("c"))
	if err != nil {
		t.Fatal(err)
	}
	if len(parent.Caveats()) != 1 || parent.Signature() != parentSig {
		t.Fatal("attenuating changed the parent")
	}
	if string(b.Caveats()[1]) != "b" || string(c.Caveats()[1]) != "c" {
		t.Fatal("siblings share caveat storage")
	}
	parent.Caveats()[0][0] = 'X'
	if string(parent.Caveats()[0]) != "a" {
		t.Fatal("Caveats returned internal slices")
	}

	enc, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := UnmarshalBinary(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] ^= 0xff
	}
	if parsed.Verify(testRootKey, acceptAll) != nil || string(parsed.ID()) != "id" {
		t.Fatal("UnmarshalBinary kept the caller's buffer")
	}

	err = parsed.Verify(testRootKey, func(c []byte) error {
		c[0] = 'X'
		return nil
	})
	if err != nil || parsed.Verify(testRootKey, acceptAll) != nil {
		t.Fatal("a checker that edits its argument changed the macaroon")
	}
}

var errNotHere = errors.New("not here")

func TestVerifyCaveatError(t *testing.T) {
	m := mustNew(t, "a=1", "b=2", "c=3")
	err := m.Verify(testRootKey, func(c []byte) error {
		if string(c) == "b=2" {
			return errNotHere
		}
		return nil
	})
	var ce *CaveatError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CaveatError", err)
	}
	if ce.Index != 1 || string(ce.Caveat) != "b=2" || !errors.Is(err, errNotHere) {
		t.Fatalf("got index %d caveat %q err %v", ce.Index, ce.Caveat, ce.Err)
	}
	if err.Error() != "macaroon: caveat 1 not satisfied: not here" {
		t.Fatalf("error text %q", err)
	}
}

func TestVerifyChecksSignatureBeforeCaveats(t *testing.T) {
	m := mustNew(t, "a=1", "b=2")
	calls := 0
	counting := func([]byte) error { calls++; return nil }
	if err := m.Verify([]byte("another key"), counting); err == nil || err.Error() != "macaroon: signature mismatch" {
		t.Fatalf("got %v, want a signature mismatch", err)
	}
	if calls != 0 {
		t.Fatalf("the checker ran %d times before the signature matched", calls)
	}
	if err := m.Verify(testRootKey, counting); err != nil || calls != 2 {
		t.Fatalf("got %v after %d calls, want success after 2", err, calls)
	}
}

func TestVerifyRejectsBadArguments(t *testing.T) {
	m := mustNew(t)
	var nilMacaroon *Macaroon
	if nilMacaroon.Verify(testRootKey, acceptAll) == nil {
		t.Error("verified a nil macaroon")
	}
	if m.Verify(nil, acceptAll) == nil {
		t.Error("verified with an empty key")
	}
	if m.Verify(testRootKey, nil) == nil {
		t.Error("verified without a checker")
	}
	if m.Verify(testRootKey, acceptAll) != nil {
		t.Error("the good arguments do not verify")
	}
}

// TestErrorsDoNotLeak drives every failure path it can and checks that no
// error mentions the root key, a signature or the token, in any encoding.
func TestErrorsDoNotLeak(t *testing.T) {
	root := mustNew(t, "op=exec", "who=alice")
	sig := root.Signature()
	enc, err := root.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, s := range [][]byte{testRootKey, sig[:], enc[len(enc)-32:]} {
		secrets = append(secrets, string(s), hex.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s), base64.StdEncoding.EncodeToString(s))
	}
	text := root.Text()
	secrets = append(secrets, text[len(text)-40:])

	var errs []error
	add := func(err error) {
		t.Helper()
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	add(root.Verify([]byte("wrong"), acceptAll))
	add(root.Verify(testRootKey, exactChecker("op=exec")))
	tampered := bytes.Clone(enc)
	tampered[len(tampered)-1] ^= 1
	forged, err := UnmarshalBinary(tampered)
	if err != nil {
		t.Fatal(err)
	}
	add(forged.Verify(testRootKey, acceptAll))
	_, err = Parse(text + "=")
	add(err)
	_, err = Parse(text[:len(text)-1])
	add(err)
	_, err = UnmarshalBinary(enc[:len(enc)-1])
	add(err)
	_, err = UnmarshalBinary(append(bytes.Clone(enc), 0))
	add(err)
	for _, err := range errs {
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("error %q contains secret material", err)
			}
		}
	}
}

// TestAddFirstPartyCaveatsEqualsOneByOne: the batch form makes exactly the
// macaroon that adding the caveats one at a time makes.
func TestAddFirstPartyCaveatsEqualsOneByOne(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		key := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(rt, "key")
		id := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(rt, "id")
		cavs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 1, 64), 0, 10).Draw(rt, "caveats")
		m, err := New(key, id, "llms")
		if err != nil {
			rt.Fatal(err)
		}
		one := m
		for _, c := range cavs {
			if one, err = one.AddFirstPartyCaveat(c); err != nil {
				rt.Fatal(err)
			}
		}
		batch, err := m.AddFirstPartyCaveats(cavs...)
		if err != nil {
			rt.Fatal(err)
		}
		if one.Text() != batch.Text() {
			rt.Fatal("batch and one-by-one caveats differ")
		}
		if len(m.Caveats()) != 0 {
			rt.Fatal("the parent was modified")
		}
	})
}
