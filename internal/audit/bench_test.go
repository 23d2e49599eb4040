package audit

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const benchLines = 1_000_000

// benchLog is a log of benchLines sample lines (about 430 MB), written once
// per test binary and removed by TestMain.
var benchLog struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func benchLogPath(b *testing.B) string {
	benchLog.once.Do(func() {
		benchLog.dir, benchLog.err = os.MkdirTemp("", "llms-audit-bench-")
		if benchLog.err != nil {
			return
		}
		benchLog.path = filepath.Join(benchLog.dir, "audit.jsonl")
		f, err := os.OpenFile(benchLog.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			benchLog.err = err
			return
		}
		if err := writeChain(f, benchLines, sampleRecord); err != nil {
			f.Close()
			benchLog.err = err
			return
		}
		benchLog.err = f.Close()
	})
	if benchLog.err != nil {
		b.Fatal(benchLog.err)
	}
	return benchLog.path
}

func removeBenchLog() {
	if benchLog.dir != "" {
		os.RemoveAll(benchLog.dir)
	}
}

// BenchmarkVerify verifies a log of a million lines; the target is at least
// 500,000 lines/s.
func BenchmarkVerify(b *testing.B) {
	l := Open(benchLogPath(b), testKey)
	for b.Loop() {
		if n, err := l.Verify(); n != benchLines || err != nil {
			b.Fatalf("Verify = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkReadTail20 reads the last 20 lines of the million-line log; the
// target is at most 50 ms.
func BenchmarkReadTail20(b *testing.B) {
	path := benchLogPath(b)
	for b.Loop() {
		if entries, err := ReadTail(path, 20); len(entries) != 20 || err != nil {
			b.Fatalf("ReadTail = %d entries, %v", len(entries), err)
		}
	}
}

// BenchmarkAppend measures one durable Append: open, lock, read and check the
// tail, write, fsync, close.
func BenchmarkAppend(b *testing.B) {
	l := Open(filepath.Join(b.TempDir(), "audit.jsonl"), testKey)
	r := sampleRecord(0)
	for b.Loop() {
		if err := l.Append(r); err != nil {
			b.Fatal(err)
		}
	}
}
