package macaroon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func binarySeeds(f *testing.F) [][]byte {
	seeds := [][]byte{minimal}
	for _, v := range readVectors(f) {
		seeds = append(seeds, v.Binary)
	}
	root, err := New([]byte("k"), []byte("seed"), "l")
	if err != nil {
		f.Fatal(err)
	}
	if root, err = root.AddFirstPartyCaveat([]byte("op=exec")); err != nil {
		f.Fatal(err)
	}
	b, err := root.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	// And one the parser must refuse: a third-party caveat.
	return append(seeds, b, oracleThirdParty(f))
}

// FuzzUnmarshalBinary: whatever is accepted re-encodes to the same bytes,
// and its text form parses back to them.
func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range binarySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalBinary(data)
		if err != nil {
			return
		}
		if re, _ := m.MarshalBinary(); !bytes.Equal(re, data) {
			t.Fatalf("accepted input re-encodes differently:\n in %x\nout %x", data, re)
		}
		again, err := Parse(m.Text())
		if err != nil {
			t.Fatalf("text form does not parse: %v", err)
		}
		if re, _ := again.MarshalBinary(); !bytes.Equal(re, data) {
			t.Fatal("text round trip changed the macaroon")
		}
	})
}

// FuzzParse: whatever text is accepted is exactly what String writes.
func FuzzParse(f *testing.F) {
	for _, s := range binarySeeds(f) {
		text := TextPrefix + textEncoding.EncodeToString(s)
		f.Add(text)
		f.Add(text + "=")
		f.Add(strings.Replace(text, "_", "/", 1))
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		if got := m.Text(); got != s {
			t.Fatalf("accepted text re-encodes differently:\n in %q\nout %q", s, got)
		}
	})
}

// FuzzVectorDecoders covers the test-only V1 and JSON decoders the
// libmacaroons vectors need: no panics, and whatever they accept is a valid
// macaroon our own codec round-trips.
func FuzzVectorDecoders(f *testing.F) {
	files, err := filepath.Glob("testdata/libmacaroons/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if _, encoded, ok := strings.Cut(line, " "); ok && strings.HasPrefix(line, "v") {
				line = encoded
			}
			if _, err := decodeVectorMacaroon(line); err == nil {
				f.Add(line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := decodeVectorMacaroon(line)
		if err != nil {
			return
		}
		b, _ := m.MarshalBinary()
		again, err := UnmarshalBinary(b)
		if err != nil {
			t.Fatalf("decoded macaroon does not survive our codec: %v", err)
		}
		if re, _ := again.MarshalBinary(); !bytes.Equal(re, b) {
			t.Fatal("round trip changed the macaroon")
		}
	})
}
