package main

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// In agent mode on a terminal, a child whose stdin is the terminal but
// whose stdout is not (`llms exec … -- cmd | cat`) reads what is typed, as
// outside agent mode: it runs in the client's process group, the
// terminal's foreground group, not in one the kernel stops for reading;
// and a Ctrl-C reaches it once.
func TestAgentModeChildReadsTheTerminal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 counts the child's signals")
	}
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "tty-canary-0f3b9d2e71", "set", "--stdin", "k")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")

	// Then a Ctrl-C typed at the terminal reaches the child once: from the
	// kernel, not relayed by the client as well.
	inner := bin + ` exec -i X=k -- sh -c 'echo ready >&2; read line; echo "got $line $X"' | cat; echo "status $?"; ` +
		bin + ` exec -i X=k -- python3 -c 'import signal, sys, time
n = [0]
signal.signal(signal.SIGINT, lambda *a: n.__setitem__(0, n[0] + 1))
sys.stderr.write("armed\n"); sys.stderr.flush()
time.sleep(2)
print("ints", n[0])' | (trap "" INT; cat)`
	cmd := exec.Command(bin, "agent", "--no-sandbox", "--secret", "k", "--ttl", "5m", "--agent", "claude-code", "--", "sh", "-c", inner)
	cmd.Env = append(env, "TERM=dumb")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var screen lockedBuffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(screen.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := ptmx.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	// "armed": the redactor may hold back its last letters, which could
	// begin an encoding of the value, until the stream ends.
	for !strings.Contains(screen.String(), "arm") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The child is asleep: type Ctrl-C.
	time.Sleep(100 * time.Millisecond)
	if _, err := ptmx.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the child never read the terminal; screen:\n%s", screen.String())
	}
	cmd.Wait()
	got := screen.String()
	if !strings.Contains(got, "got hello [REDACTED:k]") || !strings.Contains(got, "status 0") || !strings.Contains(got, "ints 1") {
		t.Errorf("screen:\n%s", got)
	}
	if strings.Contains(got, "tty-canary-0f3b9d2e71") {
		t.Error("the value reached the terminal")
	}
}
