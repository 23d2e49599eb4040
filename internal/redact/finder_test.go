package redact

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Finding in a stream, split anywhere, gives what Find gives for the whole
// of it, with lines and columns counted from the start.
func TestFinderMatchesFind(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	secrets := benchSecrets(rng)
	r := New(secrets)
	data := benchOutput(rng, secrets, true)[:200<<10]
	want := r.Find(data)
	if len(want) == 0 {
		t.Fatal("the dense output holds no match")
	}
	for _, chunk := range []int{1, 7, 4096, 40000, len(data)} {
		var got []Found
		fd := r.NewFinder(func(m Found) error { got = append(got, m); return nil })
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := fd.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := fd.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d matches, Find has %d", chunk, len(got), len(want))
		}
		for i, g := range got {
			if g.Match != want[i] {
				t.Fatalf("chunk %d: match %d is %+v, Find has %+v", chunk, i, g.Match, want[i])
			}
			line := 1 + bytes.Count(data[:g.Start], []byte{'\n'})
			col := g.Start - (bytes.LastIndexByte(data[:g.Start], '\n') + 1) + 1
			if g.Line != line || g.Column != col {
				t.Fatalf("chunk %d: match %d at %d:%d, want %d:%d", chunk, i, g.Line, g.Column, line, col)
			}
		}
	}
}
