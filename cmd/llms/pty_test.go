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
	"golang.org/x/sys/unix"
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

// TestSetPromptsOnlyWithEchoOff: `llms set` on a terminal shows its prompt
// only once the terminal has stopped echoing, so that a value typed as soon
// as the prompt appears is never shown on the screen (nor in the
// terminal's scrollback). Each prompt is checked the moment it appears; the
// value typed then does not come back.
func TestSetPromptsOnlyWithEchoOff(t *testing.T) {
	t.Parallel()
	bin := llmsBin(t)
	env := llmsEnv(filepath.Join(t.TempDir(), "store"))
	mustRun(t, bin, env, "", "init")
	const value = "typed-canary-7f3e91c2"

	cmd := exec.Command(bin, "set", "K")
	cmd.Env = append(env, "TERM=dumb")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer cmd.Process.Kill()
	var seen bytes.Buffer
	buf := make([]byte, 256)
	for _, prompt := range []string{"Value for K: ", "Again: "} {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.HasSuffix(seen.String(), prompt) {
			if time.Now().After(deadline) {
				t.Fatalf("no prompt %q; got %q", prompt, seen.String())
			}
			n, err := ptmx.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				t.Fatalf("reading the terminal: %v (got %q)", err, seen.String())
			}
		}
		tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO != 0 {
			t.Fatalf("prompt %q shown while the terminal still echoes", prompt)
		}
		ptmx.Write([]byte(value + "\r"))
	}
	// The rest, until the terminal hangs up (EIO once llms has exited).
	copied := make(chan struct{})
	go func() { io.Copy(&seen, ptmx); close(copied) }()
	waitErr := cmd.Wait()
	select {
	case <-copied:
	case <-time.After(20 * time.Second):
		t.Fatal("the terminal did not hang up after llms set exited")
	}
	if waitErr != nil {
		t.Fatalf("llms set: %v (%q)", waitErr, seen.String())
	}
	if strings.Contains(seen.String(), value) {
		t.Errorf("the value typed at the prompt was echoed: %q", seen.String())
	}
}
