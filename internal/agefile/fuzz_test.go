package agefile

import (
	"bytes"
	"errors"
	"testing"

	"filippo.io/age"

	"github.com/llm-secrets/llms/internal/agevectors"
)

// FuzzParseHeader: on any input, ParseHeader accepts exactly what age's
// parser accepts, ends where it ends, never panics, and what it accepts
// writes back to the same bytes. Seeded with the age test vectors.
//
//	go test -run '^$' -fuzz FuzzParseHeader -fuzztime 60s ./internal/agefile
func FuzzParseHeader(f *testing.F) {
	for _, v := range agevectors.All(f) {
		f.Add(v.File[:min(len(v.File), 4096)]) // the header, and the payload's start
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		h, off, err := ParseHeader(file)
		ageHdr, ageErr := age.ExtractHeader(bytes.NewReader(file))
		if (err == nil) != (ageErr == nil) {
			t.Fatalf("ParseHeader error %v, age error %v", err, ageErr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("a refusal not marked ErrMalformed: %v", err)
			}
			return
		}
		if !bytes.Equal(file[:off], ageHdr) {
			t.Fatal("a different header than age's")
		}
		b, err := appendWithoutMAC(nil, h.Stanzas)
		if err != nil {
			t.Fatalf("an accepted header does not write: %v", err)
		}
		b = append(append(append(b, ' '), b64.EncodeToString(h.MAC)...), '\n')
		if !bytes.Equal(b, file[:off]) {
			t.Fatal("an accepted header writes back differently")
		}
	})
}
