package agentsock

import (
	"context"
	"os"
	"testing"

	"github.com/llm-secrets/llms/internal/broker"
)

// BenchmarkExecTrue is one agent-mode exec of /bin/true without the
// client's process start: connect, pass stdio, peer check, the whole gate
// (token, policy, audit line with its fsync, decrypting the value), start
// and reap the child, reply. The broker is warm, as the launcher's is.
func BenchmarkExecTrue(b *testing.B) {
	f := newBenchFixture(b)
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	cl := &Client{Socket: f.sock}
	c := &broker.Caller{Token: f.token, TokenGiven: true, Cwd: b.TempDir()}
	req := broker.ExecRequest{Inject: injectK, Argv: []string{"/bin/true"}, Env: []string{"PATH=/usr/bin:/bin"},
		Stdin: devNull, Stdout: devNull, Stderr: devNull}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code, err := cl.Exec(context.Background(), c, req); err != nil || code != 0 {
			b.Fatalf("code %d, err %v", code, err)
		}
	}
}

// BenchmarkPeek is one agent-mode peek: the gate and a decryption, with no
// child.
func BenchmarkPeek(b *testing.B) {
	f := newBenchFixture(b)
	cl := &Client{Socket: f.sock}
	c := &broker.Caller{Token: f.token, TokenGiven: true, Cwd: b.TempDir()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Peek(c, broker.PeekRequest{Name: "k"}); err != nil {
			b.Fatal(err)
		}
	}
}
