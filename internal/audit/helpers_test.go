package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testKey is the audit key of testdata/golden.jsonl: bytes 0x00, 0x01, … 0x1f.
var testKey = func() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}()

func goldenTime(sec, nsec int) time.Time {
	return time.Date(2025, time.November, 28, 15, 0, sec, nsec, time.UTC)
}

// goldenRecords are the records testdata/golden.jsonl holds, in order. They
// cover every escape class, empty fields, several secrets and pid 0.
var goldenRecords = []Record{
	{Time: goldenTime(0, 0), Event: "session-start", TokenID: "tok_1", Op: "session",
		Agent: "claude", Repo: "github.com/acme/app", Branch: "main", Cwd: "/home/dev/app", PID: 4242},
	{Time: goldenTime(1, 1), Event: "exec", Decision: "allow", Secrets: []string{"OPENAI_API_KEY", "STRIPE_KEY"},
		TokenID: "tok_1", Op: "exec", Program: "/usr/bin/curl", Agent: "claude",
		Repo: "github.com/acme/app", Branch: "main", Cwd: "/home/dev/app", PID: 4243},
	{Time: goldenTime(2, 123456789), Event: "peek", Decision: "deny", Reason: "token expired",
		Secrets: []string{"DB_PASSWORD"}, TokenID: "tok_1", Op: "peek", Agent: "claude", PID: 4244},
	{Time: goldenTime(3, 999999999), Event: "exec", Decision: "deny",
		Reason:  "policy \"prod\" \\ denied\n\tby rule \x1b[31m\x7f",
		Secrets: []string{"AWS_SECRET_ACCESS_KEY"}, TokenID: "tok_2", Op: "exec",
		Program: "/tmp/\u202eevil\u200b", Agent: "cursor\u0085\ufeff", Repo: "github.com/acme/app",
		Branch: "feat/🙂", Cwd: "/home/dev/café/日本", PID: 1},
	{Time: goldenTime(4, 500), Event: "list", PID: 0},
	{Time: goldenTime(5, 0), Event: "mint", Decision: "allow", Reason: "attenuated from tok_1",
		Secrets: []string{"OPENAI_API_KEY"}, TokenID: "tok_3", Op: "mint", Agent: "claude", PID: 2147483647},
}

// sampleRecord is a typical exec record, about 430 bytes as a line.
func sampleRecord(i int) Record {
	return Record{
		Time: goldenTime(0, 0).Add(time.Duration(i) * time.Millisecond), Event: "exec", Decision: "allow",
		Secrets: []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}, TokenID: "tok_7f3a9c2e41b8", Op: "exec",
		Program: "/usr/bin/curl", Agent: "claude-code", Repo: "github.com/acme/payments-service",
		Branch: "feature/rotate-keys", Cwd: "/home/dev/src/payments-service", PID: 100000 + i,
	}
}

// buildLog returns a valid log of n lines made by rec, chained under testKey
// without touching the disk.
func buildLog(t testing.TB, n int, rec func(i int) Record) []byte {
	var b bytes.Buffer
	if err := writeChain(&b, n, rec); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeChain writes a valid log of n lines made by rec to w, chained under
// testKey, holding at most a few hundred lines in memory.
func writeChain(w io.Writer, n int, rec func(i int) Record) error {
	h := hmac.New(sha256.New, testKey)
	prev := genesis
	var buf []byte
	for i := range n {
		buf = appendLine(buf, h, &prev, &Entry{Record: rec(i), Seq: uint64(i + 1)})
		if len(buf) > 64<<10 || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

func goldenBytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitLines splits a log into its lines without their '\n'.
func splitLines(t testing.TB, b []byte) [][]byte {
	t.Helper()
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatal("log does not end in a newline")
	}
	return bytes.Split(b[:len(b)-1], []byte{'\n'})
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func joinLines(lines ...[]byte) []byte {
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return b
}
