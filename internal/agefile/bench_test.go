package agefile

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
)

// benchFile is a 1 KiB value encrypted to n fresh X25519 recipients, the
// identity that opens it (the middle one: an X25519 identity tries the
// stanzas in order, so this is the average unwrap) and the recipients.
func benchFile(b *testing.B, n int) ([]byte, age.Identity, []age.Recipient) {
	ids := make([]*age.X25519Identity, n)
	for i := range ids {
		ids[i] = newX25519(b)
	}
	to := recipientsOf(ids...)
	return encrypt(b, canary(b, 512), to...), ids[n/2], to
}

// BenchmarkRewrap1KiB50: a 1 KiB value re-wrapped to 50 recipients.
func BenchmarkRewrap1KiB50(b *testing.B) {
	file, id, to := benchFile(b, 50)
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := Rewrap(file, []age.Identity{id}, to); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewrapperAdd1KiB50: AddRecipients from a Rewrapper that has
// seen a file of the store: it tries its own stanza first.
func BenchmarkRewrapperAdd1KiB50(b *testing.B) {
	file, id, _ := benchFile(b, 49)
	add := recipientsOf(newX25519(b))
	r := NewRewrapper([]age.Identity{id})
	if _, err := r.AddRecipients(file, add); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := r.AddRecipients(file, add); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewrapperRewrap1KiB50: the same for a full re-wrap to 50.
func BenchmarkRewrapperRewrap1KiB50(b *testing.B) {
	file, id, to := benchFile(b, 50)
	r := NewRewrapper([]age.Identity{id})
	if _, err := r.Rewrap(file, to); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := r.Rewrap(file, to); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReencrypt1KiB50: the same, decrypted and encrypted anew with
// age — what re-encrypting payloads costs.
func BenchmarkReencrypt1KiB50(b *testing.B) {
	file, id, to := benchFile(b, 50)
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		r, err := age.Decrypt(bytes.NewReader(file), id)
		if err != nil {
			b.Fatal(err)
		}
		value, err := io.ReadAll(r)
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		w, err := age.Encrypt(&out, to...)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(value)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		clear(value)
	}
}

// BenchmarkAddRecipient1KiB50: a 1 KiB value encrypted to 49 recipients
// gets a 50th, its other stanzas kept.
func BenchmarkAddRecipient1KiB50(b *testing.B) {
	file, id, _ := benchFile(b, 49)
	add := recipientsOf(newX25519(b))
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := AddRecipients(file, []age.Identity{id}, add); err != nil {
			b.Fatal(err)
		}
	}
}
