package agefile

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"

	"filippo.io/age"
)

// countingIdentity counts the stanzas its identity is asked to try.
type countingIdentity struct {
	age.Identity
	tried atomic.Int64
}

func (c *countingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	c.tried.Add(int64(len(stanzas)))
	return c.Identity.Unwrap(stanzas)
}

// TestRewrapperTriesItsStanzaFirst: over files written to the same list, a
// Rewrapper tries one stanza a file once it has found its place; a file
// in another order costs a pass in age's order, and moves the hint.
func TestRewrapperTriesItsStanzaFirst(t *testing.T) {
	members := make([]*age.X25519Identity, 20)
	for i := range members {
		members[i] = newX25519(t)
	}
	me := members[13]
	r := NewRewrapper([]age.Identity{me})
	if r.hint == nil {
		t.Fatal("no hint for a single X25519 identity")
	}
	counter := &countingIdentity{Identity: me}
	r.hint.id = counter
	to := recipientsOf(members...)
	newcomer := newX25519(t)

	tries := func(file []byte) int64 {
		t.Helper()
		counter.tried.Store(0)
		out, err := r.AddRecipients(file, recipientsOf(newcomer))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decrypt(out, newcomer); err != nil {
			t.Fatal(err)
		}
		return counter.tried.Load()
	}
	if n := tries(encrypt(t, []byte("a"), to...)); n != 14 {
		t.Fatalf("first file: %d stanzas tried, want 14 (age's order, up to its own)", n)
	}
	for range 3 {
		if n := tries(encrypt(t, []byte("b"), to...)); n != 1 {
			t.Fatalf("a file in the same order: %d stanzas tried, want 1", n)
		}
	}
	reordered := append([]age.Recipient{me.Recipient()}, recipientsOf(members[:13]...)...)
	if n := tries(encrypt(t, []byte("c"), reordered...)); n != 2 {
		t.Fatalf("a file with its stanza first: %d tried, want the hint then the first", n)
	}
	if got := r.hint.last.Load(); got != 0 {
		t.Fatalf("hint at %d after the reordered file, want 0", got)
	}

	// Several identities, or another kind: age's order, no hint.
	if NewRewrapper([]age.Identity{me, newcomer}).hint != nil {
		t.Fatal("a hint for two identities")
	}
}

// TestRewrapperConcurrent: one Rewrapper over files of different orders
// from several goroutines (run under -race).
func TestRewrapperConcurrent(t *testing.T) {
	a, b, c := newX25519(t), newX25519(t), newX25519(t)
	orders := [][]age.Recipient{recipientsOf(a, b, c), recipientsOf(c, b, a), recipientsOf(b, a)}
	r := NewRewrapper([]age.Identity{a})
	files := make([][]byte, 12)
	for i := range files {
		files[i] = encrypt(t, []byte{byte(i)}, orders[i%3]...)
	}
	var wg sync.WaitGroup
	for i, file := range files {
		wg.Go(func() {
			value := []byte{byte(i)}
			out, err := r.Rewrap(file, recipientsOf(c))
			if err != nil {
				t.Error(err)
				return
			}
			if got, err := decrypt(out, c); err != nil || !bytes.Equal(got, value) {
				t.Errorf("file %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}
