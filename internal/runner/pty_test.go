package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// testTerminal returns the terminal end of a new pseudo-terminal of the
// given size, to stand in for the user's terminal as Spec.Stdin, and its
// master, through which the test types.
func testTerminal(t *testing.T, rows, cols uint16) (master, terminal *os.File) {
	t.Helper()
	master, terminal, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		terminal.Close()
		master.Close()
	})
	if err := pty.Setsize(master, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	return master, terminal
}

func termios(t *testing.T, f *os.File) unix.Termios {
	t.Helper()
	attrs, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return *attrs
}

func TestPTYChildSeesTerminal(t *testing.T) {
	_, terminal := testTerminal(t, 24, 80)
	before := termios(t, terminal)
	for _, stdin := range []*os.File{terminal, nil} {
		s := helperSpec(t, "tty")
		s.PTY, s.Stdin, s.Stderr = true, stdin, nil
		code, out, _, err := run(t, s)
		if err != nil || code != 0 {
			t.Fatalf("code %d, err %v", code, err)
		}
		if want := "stdin=true stdout=true stderr=true\r\n"; out != want {
			t.Errorf("stdin %v: child reports %q, want %q", stdin != nil, out, want)
		}
	}
	if after := termios(t, terminal); after != before {
		t.Errorf("terminal settings not restored:\nbefore %+v\nafter  %+v", before, after)
	}

	_, out, _, err := run(t, helperSpec(t, "tty"))
	if err != nil || out != "stdin=false stdout=false stderr=false\n" {
		t.Errorf("without PTY the child reports %q (err %v)", out, err)
	}
}

func TestPTYExitCodes(t *testing.T) {
	for args, want := range map[[2]string]int{
		{"exit", "0"}:  0,
		{"exit", "42"}: 42,
		{"kill", "15"}: 128 + 15,
	} {
		s := helperSpec(t, args[0], args[1])
		s.PTY = true
		if code, _, _, err := run(t, s); err != nil || code != want {
			t.Errorf("%v: code %d, err %v; want %d", args, code, err, want)
		}
	}
}

func TestPTYResize(t *testing.T) {
	master, terminal := testTerminal(t, 30, 100)
	s := helperSpec(t, "winch")
	s.PTY, s.Stdin = true, terminal
	out := &callbackWriter{onLine: func(line string) {
		if line == "size 30x100" {
			if err := pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
				t.Error(err)
			}
			// What a terminal emulator's resize does to its foreground job.
			syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		}
	}}
	s.Stdout = out
	if code, _, _, err := run(t, s); err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if got, want := out.String(), "size 30x100\r\nsize 40x120\r\n"; got != want {
		t.Errorf("child reports %q, want %q", got, want)
	}
}

func TestPTYInput(t *testing.T) {
	master, terminal := testTerminal(t, 24, 80)
	s := helperSpec(t, "echo-line")
	s.PTY, s.Stdin = true, terminal
	before := termios(t, terminal)
	s.Stdout = &callbackWriter{onLine: func(line string) {
		if line == "ready" {
			if attrs := termios(t, terminal); attrs.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
				t.Errorf("our terminal is not raw while the child runs: lflag %#x", attrs.Lflag)
			}
			master.Write([]byte("hello\r"))
		}
	}}
	code, out, _, err := run(t, s)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if !strings.HasSuffix(out, "got \"hello\"\r\n") {
		t.Errorf("output %q does not end with the child's reply", out)
	}
	if after := termios(t, terminal); after != before {
		t.Errorf("terminal settings not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestPTYInputEndOfFile(t *testing.T) {
	for _, input := range []string{"abc\ndef\n", "abc\ndef"} {
		f, err := os.CreateTemp(t.TempDir(), "input")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(input); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		s := helperSpec(t, "cat")
		s.PTY, s.Stdin = true, f
		// Without an end of file, cat would wait for input forever.
		code, out, _, err := run(t, s)
		f.Close()
		if err != nil || code != 0 {
			t.Fatalf("%q: code %d, err %v", input, code, err)
		}
		// The terminal echoes the input, then cat copies it.
		if strings.Count(out, "abc") != 2 || strings.Count(out, "def") != 2 {
			t.Errorf("%q: output %q", input, out)
		}
	}
}

func TestPTYNoOutputLostAtExit(t *testing.T) {
	const size = 4 << 20
	want := patternHash(size)
	for range 3 {
		s := helperSpec(t, "stream", "4194304", "0")
		s.PTY = true
		code, out, _, err := run(t, s)
		if err != nil || code != 0 {
			t.Fatalf("code %d, err %v", code, err)
		}
		// The terminal turns each "\n" into "\r\n" (ONLCR).
		got := bytes.ReplaceAll([]byte(out), []byte("\r\n"), []byte("\n"))
		if sum := sha256.Sum256(got); len(got) != size || sum != want {
			t.Fatalf("got %d bytes, want %d; hash match %v", len(got), size, sum == want)
		}
	}
}

func TestPTYWriterError(t *testing.T) {
	s := helperSpec(t, "stream", "268435456", "0")
	s.PTY = true
	s.Stdout = &failingWriter{}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	code, err := Run(ctx, s)
	if !errors.Is(err, errWriterBroken) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the writer's error", err)
	}
	if code == 0 {
		t.Errorf("code 0: the child should have lost its terminal")
	}
}
