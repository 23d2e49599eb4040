package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchValue is as long as a typical API key.
var benchValue = []byte("sk_live_0123456789abcdefghijklmnopqrstuv")

func newBenchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Init(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Write("k", benchValue); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkRead decrypts one secret. "warm" is a store whose identity is
// already loaded; "open" is what one `llms exec --inject` process does:
// open the store (mode checks, recipients), load the identity, decrypt.
func BenchmarkRead(b *testing.B) {
	b.Run("warm", func(b *testing.B) {
		s := newBenchStore(b)
		if _, err := s.Read("k"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			v, err := s.Read("k")
			if err != nil || !bytes.Equal(v, benchValue) {
				b.Fatalf("Read = %d bytes, %v", len(v), err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		dir := newBenchStore(b).Dir()
		for b.Loop() {
			s, err := Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			v, err := s.Read("k")
			if err != nil || !bytes.Equal(v, benchValue) {
				b.Fatalf("Read = %d bytes, %v", len(v), err)
			}
		}
	})
}

// BenchmarkWrite replaces one secret durably: encrypt, lock, write and
// fsync a temporary file, rename, fsync the directory. The fsyncs dominate,
// so the result says more about the disk than about the code.
func BenchmarkWrite(b *testing.B) {
	s := newBenchStore(b)
	for b.Loop() {
		if _, err := s.Write("k", benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList10k lists a store of 10,000 secrets (names only, as `llms
// list` does). The files are copies of one age file: List never reads them.
func BenchmarkList10k(b *testing.B) {
	const n = 10000
	s := newBenchStore(b)
	data, err := os.ReadFile(s.secretPath("k"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if err := os.WriteFile(s.secretPath(fmt.Sprintf("SECRET_%06d", i)), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		es, err := s.List()
		if err != nil || len(es) != n {
			b.Fatalf("List = %d entries, %v", len(es), err)
		}
	}
}
