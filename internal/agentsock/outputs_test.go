package agentsock

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/broker"
)

// Exec takes any writer: what is not a file gets the child's output,
// redacted, through a pipe the client copies from; all of it is there when
// Exec returns.
func TestExecToWritersThatAreNotFiles(t *testing.T) {
	f := newFixture(t)
	var out, errOut bytes.Buffer
	code, err := (&Client{Socket: f.sock}).Exec(context.Background(), f.caller(t, f.token), broker.ExecRequest{
		Inject: injectK, Argv: []string{"sh", "-c", `printf '%s\n' "$X"; echo to-stderr >&2; exit 3`},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, Stderr: &errOut})
	if err != nil || code != 3 {
		t.Fatalf("exec: code %d, %v", code, err)
	}
	if out.String() != "[REDACTED:k]\n" || errOut.String() != "to-stderr\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	f.assertNoCanary(t, "the output", out.String()+errOut.String())
}

// Ending ctx ends an exec whose output goes to writers that are not files
// at once, as the broker's kill ends the child (128+SIGKILL), even when
// something the child started still holds its output; nothing is written
// to the writers after Exec returns (the race detector would see it).
func TestExecToWritersEndsWithItsContext(t *testing.T) {
	f := newFixture(t)
	started := filepath.Join(t.TempDir(), "started")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(started); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	t0 := time.Now()
	code, err := (&Client{Socket: f.sock}).Exec(ctx, f.caller(t, f.token), broker.ExecRequest{
		Inject: injectK, Argv: []string{"sh", "-c", "(sleep 30 &); touch " + started + "; while :; do echo tick; sleep 0.01; done"},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, Stderr: &errOut})
	if err == nil || code != 128+int(syscall.SIGKILL) {
		t.Fatalf("exec after its context ended: code %d, %v", code, err)
	}
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("Exec returned %v after its context ended", took)
	}
	_, _ = out.String(), errOut.String()
}
