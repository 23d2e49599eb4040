package main

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestExecOnATerminalRedacts runs llms itself on a pseudo-terminal, as a
// human would, so exec takes its PTY path: the child sees a terminal, and
// its output — including a multi-line value, which the line discipline
// turns into \r\n — is still redacted.
func TestExecOnATerminalRedacts(t *testing.T) {
	t.Parallel()
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	const single = "pty-canary-5d0c1a9e"
	const multi = "-----BEGIN PTY CANARY-----\nQUJDREVGR0hJSktMTU5PUA\n-----END PTY CANARY-----"
	mustRun(t, bin, env, single, "set", "--stdin", "ONE")
	mustRun(t, bin, env, multi, "set", "--stdin", "PEM")

	cmd := exec.Command(bin, "exec", "-i", "ONE", "-i", "PEM", "--", "sh", "-c",
		`if [ -t 1 ]; then echo "child has a tty"; fi; echo "one=$ONE"; printf '%s\n' "$PEM"; printf 'done\n'`)
	cmd.Env = append(env, "TERM=dumb")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	// Read until the terminal hangs up (EIO once llms and the child have
	// exited and everything is read), then collect the exit status.
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("llms exec on a pty did not finish")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("llms exec on a pty: %v", err)
	}
	got := out.String()
	for _, want := range []string{"child has a tty", "one=[REDACTED:ONE]", "[REDACTED:PEM]", "done"} {
		if !strings.Contains(got, want) {
			t.Errorf("pty output lacks %q", want)
		}
	}
	for _, leak := range []string{single, "QUJDREVGR0hJSktMTU5PUA", "BEGIN PTY CANARY"} {
		if strings.Contains(got, leak) {
			t.Errorf("pty output leaks %q", leak)
		}
	}
}
