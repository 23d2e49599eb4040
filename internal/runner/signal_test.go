package runner

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// These tests signal a separate process playing llms (the test binary in
// "parent" mode, which calls Run), never the test binary itself.

// parentCommand prepares a parent process running the helper mode in args.
// Without further setup it has no controlling terminal, so no signal it
// gets can be mistaken for a keystroke.
func parentCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{helperFlag, "parent"}, args...)...)
	cmd.Env = append(os.Environ(), noRaceExitDelay)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = time.Second
	return cmd
}

// waitForLine reads lines from r until want arrives, then keeps draining r
// in the background so that the writer never blocks.
func waitForLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		scanner := bufio.NewScanner(r)
		seen := false
		for scanner.Scan() {
			if !seen && strings.TrimRight(scanner.Text(), "\r") == want {
				seen = true
				found <- true
			}
		}
		if !seen {
			found <- false
		}
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended before %q", want)
		}
	case <-time.After(testTimeout):
		t.Fatalf("no %q within %v", want, testTimeout)
	}
}

// waitExit waits for cmd and returns its exit code, failing the test if
// it died from a signal itself.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	timer := time.AfterFunc(testTimeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("waiting for the parent: %v", err)
	}
	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		t.Fatalf("the parent died from %v instead of forwarding it", status.Signal())
	}
	return status.ExitStatus()
}

func TestForwardsSignals(t *testing.T) {
	for _, mode := range []string{"pipes", "pty"} {
		for _, sig := range forwarded {
			number := int(sig.(syscall.Signal))
			cmd := parentCommand(t, mode, "trap", strconv.Itoa(number), "77")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForLine(t, stdout, "ready")
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != 77 {
				t.Errorf("%s, %v: parent exited %d, want the child's 77", mode, sig, code)
			}
		}
	}
}

// A signal sent to the parent alone (no terminal involved) reaches the
// child exactly once.
func TestSignalForwardedOnce(t *testing.T) {
	cmd := parentCommand(t, "pipes", "count-sigint")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, stdout, "ready")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if got := waitExit(t, cmd); got != 1 {
		t.Errorf("child saw %d SIGINTs, want 1", got)
	}
}

// startOnTerminal starts cmd as a session leader whose controlling terminal
// is a new pseudo-terminal, with all its stdio on it, and returns the
// master.
func startOnTerminal(t *testing.T, cmd *exec.Cmd) *os.File {
	t.Helper()
	master, terminal, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	cmd.Stdin, cmd.Stdout, cmd.Stderr = terminal, terminal, terminal
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	terminal.Close()
	return master
}

// Ctrl-C at a terminal: the kernel signals the whole foreground group, the
// child included, and the parent must not add a second SIGINT.
func TestKeyboardInterruptDeliveredOnce(t *testing.T) {
	for _, mode := range []string{"pipes", "pty"} {
		cmd := parentCommand(t, mode, "count-sigint")
		master := startOnTerminal(t, cmd)
		waitForLine(t, master, "ready")
		if _, err := master.Write([]byte{0x03}); err != nil {
			t.Fatal(err)
		}
		if got := waitExit(t, cmd); got != 1 {
			t.Errorf("%s: child saw %d SIGINTs for one Ctrl-C, want 1", mode, got)
		}
	}
}

// A child that left our process group is not reached by the keyboard
// through us, so a SIGINT for a foreground parent must be forwarded.
func TestInterruptForwardedToChildInOwnGroup(t *testing.T) {
	cmd := parentCommand(t, "pipes", "own-group", "count-sigint")
	master := startOnTerminal(t, cmd)
	waitForLine(t, master, "ready")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if got := waitExit(t, cmd); got != 1 {
		t.Errorf("child saw %d SIGINTs, want 1", got)
	}
}

// An ignored SIGHUP (nohup) stays ignored in the child.
func TestIgnoredSignalStaysIgnored(t *testing.T) {
	hup := strconv.Itoa(int(syscall.SIGHUP))
	cases := map[string][]string{"ignored=true": {"pipes", "ignore-hup", "ignored", hup}}
	if !signal.Ignored(syscall.SIGHUP) {
		// Control: without nohup the child starts with the default action.
		cases["ignored=false"] = []string{"pipes", "ignored", hup}
	}
	for want, args := range cases {
		out, err := parentCommand(t, args...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%v: child reports %q, want %q", args, got, want)
		}
	}
}

// After Run, SIGTERM is fatal again: forwarding stopped.
func TestSignalsReleasedAfterRun(t *testing.T) {
	for _, mode := range []string{"pipes", "pty"} {
		cmd := parentCommand(t, mode, "then-term", "exit", "0")
		err := cmd.Run()
		status := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if err == nil || !status.Signaled() || status.Signal() != syscall.SIGTERM {
			t.Errorf("%s: parent ended with %v (%v), want death by SIGTERM", mode, cmd.ProcessState, err)
		}
	}
}
