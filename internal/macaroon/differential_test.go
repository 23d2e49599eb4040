package macaroon

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	oracle "gopkg.in/macaroon.v2"
)

// gopkg.in/macaroon.v2 is the oracle: an independent, widely used Go
// implementation of the same format. We may refuse more than it does, never
// accept more, and where we both accept we must see the same macaroon and
// reach the same verdict.

var diffRootKey = []byte("differential root key")

// diffCondition is the checker both implementations get: deterministic,
// and refusing some caveats so that the checker's verdict matters.
func diffCondition(c []byte) error {
	if bytes.HasPrefix(c, []byte("ok")) {
		return nil
	}
	return errors.New("refused")
}

// oracleLaxity names the rule by which we refuse an input the oracle accepts,
// or returns "" if there is none, which means we refused wrongly.
func oracleLaxity(data []byte, m *oracle.Macaroon) string {
	if len(data) > maxEncodedLen {
		return "longer than 64 KiB"
	}
	if data[0] != version2 {
		return "V1 binary format"
	}
	// Trailing bytes, non-minimal varints, empty optional fields and an
	// empty verification id (which the oracle turns into a first-party
	// caveat) all change the bytes when the oracle re-encodes.
	if re, _ := m.MarshalBinary(); !bytes.Equal(re, data) {
		return "non-canonical encoding"
	}
	if len(m.Id()) == 0 {
		return "empty identifier"
	}
	if !utf8.ValidString(m.Location()) {
		return "location not UTF-8"
	}
	if len(m.Caveats()) > maxCaveats {
		return "too many caveats"
	}
	for _, c := range m.Caveats() {
		switch {
		case len(c.Id) == 0:
			return "empty caveat identifier"
		case c.VerificationId != nil || c.Location != "":
			return "third-party caveat"
		}
	}
	return ""
}

// sameMacaroon compares every field of ours and the oracle's.
func sameMacaroon(ours *Macaroon, theirs *oracle.Macaroon) error {
	if ours.Location() != theirs.Location() {
		return errors.New("location differs")
	}
	if !bytes.Equal(ours.ID(), theirs.Id()) {
		return errors.New("identifier differs")
	}
	if sig := ours.Signature(); !bytes.Equal(sig[:], theirs.Signature()) {
		return errors.New("signature differs")
	}
	oc, tc := ours.Caveats(), theirs.Caveats()
	if len(oc) != len(tc) {
		return fmt.Errorf("%d caveats, oracle has %d", len(oc), len(tc))
	}
	for i := range oc {
		if !bytes.Equal(oc[i], tc[i].Id) || tc[i].VerificationId != nil || tc[i].Location != "" {
			return fmt.Errorf("caveat %d differs", i)
		}
	}
	return nil
}

func oracleVerify(m *oracle.Macaroon, rootKey []byte) error {
	return m.Verify(rootKey, func(c string) error { return diffCondition([]byte(c)) }, nil)
}

func diffSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, v := range readVectors(f) {
		seeds = append(seeds, v.Binary)
	}
	m, err := New(diffRootKey, []byte("diff-id"), "llms")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []string{"ok one", "ok two", "refused"} {
		if m, err = m.AddFirstPartyCaveat([]byte(c)); err != nil {
			f.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		seeds = append(seeds, b)
	}
	// A third-party caveat, which we refuse and the oracle accepts.
	return append(seeds, oracleThirdParty(f))
}

// oracleThirdParty is the encoding of a macaroon the oracle made with a
// first-party and a third-party caveat.
func oracleThirdParty(t testing.TB) []byte {
	t.Helper()
	o, err := oracle.New(diffRootKey, []byte("diff-id"), "llms", oracle.V2)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.AddFirstPartyCaveat([]byte("ok one")); err != nil {
		t.Fatal(err)
	}
	if err := o.AddThirdPartyCaveat([]byte("third party key"), []byte("tp"), "tp.example"); err != nil {
		t.Fatal(err)
	}
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDifferentialDecode: if we accept bytes, the oracle accepts them as
// the same macaroon, re-encodes them identically and verifies them the same
// way; if only the oracle accepts, a known stricter rule of ours applies.
func FuzzDifferentialDecode(f *testing.F) {
	for _, s := range diffSeeds(f) {
		f.Add(s)
		f.Add(append(bytes.Clone(s), 0))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, ourErr := UnmarshalBinary(data)
		var theirs oracle.Macaroon
		theirErr := theirs.UnmarshalBinary(data)
		if ourErr != nil {
			if theirErr == nil {
				if rule := oracleLaxity(data, &theirs); rule == "" {
					t.Fatalf("we refuse what the oracle accepts, for no known reason: %v", ourErr)
				}
			}
			return
		}
		if theirErr != nil {
			t.Fatalf("we accept what the oracle refuses: %v", theirErr)
		}
		if err := sameMacaroon(ours, &theirs); err != nil {
			t.Fatal(err)
		}
		if re, _ := theirs.MarshalBinary(); !bytes.Equal(re, data) {
			t.Fatal("the oracle re-encodes an input we accepted differently")
		}
		ourVerdict := ours.Verify(diffRootKey, diffCondition)
		theirVerdict := oracleVerify(&theirs, diffRootKey)
		if (ourVerdict == nil) != (theirVerdict == nil) {
			t.Fatalf("verdicts differ: ours %v, oracle %v", ourVerdict, theirVerdict)
		}
	})
}

// FuzzDifferentialMint mints and attenuates the same macaroon with both
// implementations: the bytes must be identical and the verdicts the same,
// under the right root key and a wrong one.
func FuzzDifferentialMint(f *testing.F) {
	f.Add([]byte("root key"), []byte("id"), "", []byte("ok a\nok b"))
	f.Add([]byte("k"), []byte{0, 1, 2}, "https://example.org/", []byte("ok\nrefused\nok"))
	f.Add([]byte{}, []byte("id"), "x", []byte{})
	f.Add([]byte("k"), []byte("id"), "\xff", []byte("\n"))
	f.Fuzz(func(t *testing.T, rootKey, id []byte, location string, caveatList []byte) {
		var conds [][]byte
		if len(caveatList) > 0 {
			conds = bytes.Split(caveatList, []byte("\n"))
		}
		theirs, err := oracle.New(rootKey, id, location, oracle.V2)
		if err != nil {
			t.Fatalf("oracle.New: %v", err)
		}
		ours, err := New(rootKey, id, location)
		if err != nil {
			if len(rootKey) > 0 && len(id) > 0 && utf8.ValidString(location) && len(id)+len(location) < maxEncodedLen-64 {
				t.Fatalf("New refused for no known reason: %v", err)
			}
			return
		}
		for _, c := range conds {
			if err := theirs.AddFirstPartyCaveat(c); err != nil {
				t.Fatal(err)
			}
			next, err := ours.AddFirstPartyCaveat(c)
			if err != nil {
				if len(c) > 0 {
					t.Fatalf("AddFirstPartyCaveat refused a non-empty caveat: %v", err)
				}
				return
			}
			ours = next
		}
		ourBytes, _ := ours.MarshalBinary()
		theirBytes, _ := theirs.MarshalBinary()
		if !bytes.Equal(ourBytes, theirBytes) {
			t.Fatal("encodings differ")
		}
		for _, key := range [][]byte{rootKey, append(bytes.Clone(rootKey), 'x')} {
			ourVerdict := ours.Verify(key, diffCondition)
			theirVerdict := oracleVerify(theirs, key)
			if (ourVerdict == nil) != (theirVerdict == nil) {
				t.Fatalf("verdicts differ: ours %v, oracle %v", ourVerdict, theirVerdict)
			}
		}
	})
}

// TestOracleThirdPartyRefused: a macaroon with a third-party caveat, as
// the oracle makes it, is refused in both encodings, whatever discharge
// might come with it.
func TestOracleThirdPartyRefused(t *testing.T) {
	b := oracleThirdParty(t)
	var o oracle.Macaroon
	if err := o.UnmarshalBinary(b); err != nil || len(o.Caveats()) != 2 || o.Caveats()[1].VerificationId == nil {
		t.Fatalf("the oracle's own macaroon: %v, caveats %d", err, len(o.Caveats()))
	}
	if _, err := UnmarshalBinary(b); err == nil || !strings.Contains(err.Error(), "caveat 1: third-party caveat") {
		t.Errorf("UnmarshalBinary: %v, want the third-party caveat refused", err)
	}
	if _, err := Parse(TextPrefix + textEncoding.EncodeToString(b)); err == nil || !strings.Contains(err.Error(), "third-party caveat") {
		t.Errorf("Parse: %v, want the third-party caveat refused", err)
	}
}
