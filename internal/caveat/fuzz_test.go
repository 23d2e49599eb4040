package caveat

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, v := range readParseVectors(f) {
		f.Add(v.caveat)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != (Caveat{}) {
				t.Fatalf("Parse(%q) returned %+v with error %v", b, c, err)
			}
			return
		}
		if got := c.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("Parse(%q).Bytes() = %q, not canonical", b, got)
		}
		again, err := Parse(c.Bytes())
		if err != nil || again != c {
			t.Fatalf("round trip of %q: %+v, %v", b, again, err)
		}
		// Evaluating an accepted caveat must not panic, and a set of one
		// must agree with the caveat alone.
		ctx := Context{
			Now: time.Unix(1_900_000_000, 0), Op: OpList, Secrets: []string{"A"},
			Program: "/usr/bin/make", Repo: "github.com/acme/api", Branch: "main",
			Who: "alice@acme.com", Agents: []string{"claude-code"}, Launch: "0123456789abcdef0123456789abcdef",
		}
		if (c.Check(ctx) == nil) != ((Set{c}).Check(ctx) == nil) {
			t.Fatalf("Caveat.Check and Set.Check disagree on %q", b)
		}
	})
}
