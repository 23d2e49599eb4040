package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func batchOf(n int, prefix string) []NamedValue {
	items := make([]NamedValue, n)
	for i := range items {
		items[i] = NamedValue{Name: fmt.Sprintf("B_%03d", i), Value: fmt.Appendf(nil, "%s-%03d", prefix, i)}
	}
	return items
}

func TestWriteBatch(t *testing.T) {
	s := newStore(t)
	if _, err := s.Write("B_001", []byte("before")); err != nil {
		t.Fatal(err)
	}
	items := batchOf(50, "new")
	created, err := s.WriteBatch(items)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if created[i] != (it.Name != "B_001") {
			t.Errorf("%s: created %v", it.Name, created[i])
		}
		got, err := s.Read(it.Name)
		if err != nil || !bytes.Equal(got, it.Value) {
			t.Fatalf("%s: %q, %v", it.Name, got, err)
		}
	}
	for _, d := range []string{stagingDir, batchDir} {
		if s.exists(filepath.Join(s.dir, d)) {
			t.Errorf("%s is left behind", d)
		}
	}
	if fi, err := os.Stat(s.secretPath("B_007")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a batch file's mode: %v, %v", fi.Mode(), err)
	}
}

// Bad input is refused before anything is written.
func TestWriteBatchRefusesBadInput(t *testing.T) {
	s := newStore(t)
	for name, items := range map[string][]NamedValue{
		"bad name":    append(batchOf(3, "v"), NamedValue{Name: "../x", Value: []byte("v")}),
		"NUL":         append(batchOf(3, "v"), NamedValue{Name: "Z", Value: []byte("a\x00b")}),
		"given twice": append(batchOf(3, "v"), NamedValue{Name: "B_001", Value: []byte("w")}),
	} {
		if _, err := s.WriteBatch(items); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if es, err := s.List(); err != nil || len(es) != 0 {
			t.Errorf("%s: %d secrets stored (%v)", name, len(es), err)
		}
	}
}

// What a crash leaves is finished by the next Open or writer: a committed
// batch (.batch) is put in place, half moved or not; an uncommitted one
// (.batch.new) is dropped, and the values it held never appear.
func TestWriteBatchRecovery(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed bool
		moved     int // files of a committed batch already in secrets/
	}{
		{"uncommitted", false, 0},
		{"committed, none moved", true, 0},
		{"committed, half moved", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			old := batchOf(10, "old")
			if _, err := s.WriteBatch(old); err != nil {
				t.Fatal(err)
			}
			next := batchOf(10, "next")
			staging := filepath.Join(s.dir, stagingDir)
			if err := os.Mkdir(staging, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := s.stage(staging, next); err != nil {
				t.Fatal(err)
			}
			want := old
			if tc.committed {
				want = next
				batch := filepath.Join(s.dir, batchDir)
				if err := os.Rename(staging, batch); err != nil {
					t.Fatal(err)
				}
				for _, it := range next[:tc.moved] {
					if err := os.Rename(filepath.Join(batch, it.Name+secretExt), s.secretPath(it.Name)); err != nil {
						t.Fatal(err)
					}
				}
			}
			s2, err := Open(s.dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range want {
				if got, err := s2.Read(it.Name); err != nil || !bytes.Equal(got, it.Value) {
					t.Fatalf("%s after recovery: %q, %v; want %q", it.Name, got, err, it.Value)
				}
			}
			if tc.committed && s.exists(filepath.Join(s.dir, batchDir)) {
				t.Error("Open left the committed batch")
			}
			// The next writer drops the uncommitted one.
			if _, err := s2.Write("OTHER", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if s.exists(staging) {
				t.Error("the next writer left the uncommitted batch")
			}
		})
	}
}

// A committed batch holding something no batch writes is not moved into
// the store: recovery stops and says so.
func TestWriteBatchRecoveryRefusesStrangeFiles(t *testing.T) {
	s := newStore(t)
	batch := filepath.Join(s.dir, batchDir)
	if err := os.Mkdir(batch, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(batch, "X.age")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(s.dir); err == nil || !strings.Contains(err.Error(), "which no batch writes") {
		t.Fatalf("Open: %v", err)
	}
}

// Into an empty store the batch directory becomes secrets/: what Open
// checks of it holds, and the store works as before.
func TestWriteBatchIntoAnEmptyStore(t *testing.T) {
	s := newStore(t)
	items := batchOf(20, "first")
	if _, err := s.WriteBatch(items); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(s.dir, secretsDir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("secrets/: %v, %v", fi, err)
	}
	s2, err := Open(s.dir)
	if err != nil || len(s2.Warnings()) != 0 {
		t.Fatalf("Open: %v, %v", err, s2.Warnings())
	}
	if es, err := s2.List(); err != nil || len(es) != len(items) {
		t.Errorf("%d secrets listed (%v)", len(es), err)
	}
	if _, err := s2.Write("LATER", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Read("B_019"); err != nil || string(got) != "first-019" {
		t.Errorf("B_019: %q, %v", got, err)
	}
}
