package agefile

import (
	"bytes"
	"slices"
	"testing"

	"filippo.io/age"
	"pgregory.net/rapid"
)

// printable draws a non-empty string of the characters age allows in a
// stanza type or argument.
func printable(t *rapid.T, label string) string {
	return string(rapid.SliceOfN(rapid.ByteRange(33, 126), 1, 20).Draw(t, label))
}

// TestPropertyHeaderRoundTrip: any header we write, age parses to the same
// bytes, our parser reads back to the same stanzas, and age's
// DecryptHeader accepts its MAC under the file key.
func TestPropertyHeaderRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "stanzas")
		var stanzas []*age.Stanza
		for range n {
			s := &age.Stanza{Type: printable(t, "type")}
			for range rapid.IntRange(0, 3).Draw(t, "args") {
				s.Args = append(s.Args, printable(t, "arg"))
			}
			// Around the 48-byte line: empty, short, exactly full, several.
			s.Body = rapid.SliceOfN(rapid.Byte(), 0, 200).Draw(t, "body")
			stanzas = append(stanzas, s)
		}
		fileKey := rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "fileKey")
		hdr, err := marshalHeader(fileKey, stanzas)
		if err != nil {
			t.Fatal(err)
		}
		ageHdr, err := age.ExtractHeader(bytes.NewReader(hdr))
		if err != nil || !bytes.Equal(ageHdr, hdr) {
			t.Fatalf("age reads our header differently: %v", err)
		}
		h, off, err := ParseHeader(hdr)
		if err != nil || off != len(hdr) || len(h.Stanzas) != n {
			t.Fatalf("ParseHeader: %v", err)
		}
		for i, s := range h.Stanzas {
			w := stanzas[i]
			if s.Type != w.Type || !slices.Equal(s.Args, w.Args) || !bytes.Equal(s.Body, w.Body) {
				t.Fatalf("stanza %d read back differently", i)
			}
		}
		got, err := age.DecryptHeader(hdr, age.NewInjectedFileKeyIdentity(fileKey))
		if err != nil || !bytes.Equal(got, fileKey) {
			t.Fatalf("age refuses our MAC: %v", err)
		}
		wrongKey := slices.Clone(fileKey)
		wrongKey[rapid.IntRange(0, 15).Draw(t, "flip")] ^= 1
		if _, err := age.DecryptHeader(hdr, age.NewInjectedFileKeyIdentity(wrongKey)); err == nil {
			t.Fatal("age accepts our MAC under another key")
		}
	})
}

// TestPropertyMembership: through any sequence of adds and removals, the
// file is read by exactly the current members, its payload never changes,
// and the value stays the same.
func TestPropertyMembership(t *testing.T) {
	pool := make([]*age.X25519Identity, 3)
	for i := range pool {
		pool[i] = newX25519(t)
	}
	rapid.Check(t, func(t *rapid.T) {
		value := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "value")
		members := map[int]bool{0: true}
		file := encrypt(t, value, pool[0].Recipient())
		payload := payloadOf(t, file)
		for step := range rapid.IntRange(1, 3).Draw(t, "steps") {
			who := rapid.IntRange(0, len(pool)-1).Draw(t, "who")
			var opener int
			for m := range members {
				opener = m
				break
			}
			var err error
			switch {
			case !members[who] && rapid.Bool().Draw(t, "append"):
				members[who] = true
				file, err = AddRecipients(file, []age.Identity{pool[opener]}, recipientsOf(pool[who]))
			case !members[who]:
				members[who] = true
				file, err = Rewrap(file, []age.Identity{pool[opener]}, membersOf(pool, members))
			case len(members) > 1:
				delete(members, who)
				file, err = Rewrap(file, []age.Identity{pool[who]}, membersOf(pool, members))
			default:
				continue
			}
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if !bytes.Equal(payloadOf(t, file), payload) {
				t.Fatalf("step %d: the payload changed", step)
			}
			for i, id := range pool {
				got, err := decrypt(file, id)
				if members[i] != (err == nil) {
					t.Fatalf("step %d: identity %d (member %v) decrypt error %v", step, i, members[i], err)
				}
				if err == nil && !bytes.Equal(got, value) {
					t.Fatalf("step %d: a different value", step)
				}
			}
		}
	})
}

func membersOf(pool []*age.X25519Identity, members map[int]bool) []age.Recipient {
	var rs []age.Recipient
	for i, id := range pool {
		if members[i] {
			rs = append(rs, id.Recipient())
		}
	}
	return rs
}
