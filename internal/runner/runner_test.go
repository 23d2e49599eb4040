package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testTimeout bounds every Run in the tests, so that a bug shows up as a
// failure instead of a hung test binary.
const testTimeout = 30 * time.Second

// noRaceExitDelay stops a race-enabled helper from sleeping a second at
// exit (the race runtime's default), which would slow every test down.
const noRaceExitDelay = "GORACE=atexit_sleep_ms=0"

// helperSpec runs the test binary in a helper mode.
func helperSpec(t *testing.T, mode string, args ...string) Spec {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Path:   self,
		Args:   append([]string{"child", helperFlag, mode}, args...),
		Env:    []string{noRaceExitDelay},
		Stdout: &syncBuffer{},
		Stderr: &syncBuffer{},
	}
}

// run calls Run with a timeout and returns the code and what reached the
// test writers.
func run(t *testing.T, s Spec) (code int, stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	code, err = Run(ctx, s)
	if ctx.Err() != nil {
		t.Fatalf("Run did not return within %v", testTimeout)
	}
	return code, written(s.Stdout), written(s.Stderr), err
}

// written is what a test writer received.
func written(w io.Writer) string {
	if s, ok := w.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}

// syncBuffer is a bytes.Buffer that may be read while Run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestExitCodes(t *testing.T) {
	for _, want := range []int{0, 1, 42, 255} {
		code, _, _, err := run(t, helperSpec(t, "exit", strconv.Itoa(want)))
		if err != nil || code != want {
			t.Errorf("exit %d: got code %d, err %v", want, code, err)
		}
	}
}

func TestDeathBySignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGHUP} {
		code, _, _, err := run(t, helperSpec(t, "kill", strconv.Itoa(int(sig))))
		if err != nil || code != 128+int(sig) {
			t.Errorf("%v: got code %d, err %v; want %d", sig, code, err, 128+int(sig))
		}
	}
}

func TestArgvWithoutShell(t *testing.T) {
	args := []string{"a b", "$(touch /tmp/runner-pwned)", "`id`", "'quoted'", "\"dq\"", "*", "", "x;y|z&", "\n", "é"}
	s := helperSpec(t, "argv", args...)
	s.Args[0] = "typed-name"
	code, out, _, err := run(t, s)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if got := strings.Split(out, "\x00"); !slices.Equal(got, s.Args) {
		t.Errorf("child argv = %q, want %q", got, s.Args)
	}
}

func TestEnvPassedExactly(t *testing.T) {
	for _, env := range [][]string{
		nil,
		{},
		{"A=1", "EMPTY=", "WITH_EQ=a=b", "SPACES= x y ", "UTF8=é", "lower=v", "PATH=/nowhere", noRaceExitDelay},
	} {
		s := helperSpec(t, "env")
		s.Env = env
		code, out, _, err := run(t, s)
		if err != nil || code != 0 {
			t.Fatalf("code %d, err %v", code, err)
		}
		var got []string
		if out != "" {
			got = strings.Split(out, "\x00")
		}
		if !slices.Equal(got, env) {
			t.Errorf("child environment = %q, want %q", got, env)
		}
	}
}

func TestStdinIsOurFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := helperSpec(t, "stdin-id")
	s.Stdin = f
	_, out, _, err := run(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := fileID(int(f.Fd())); out != want {
		t.Errorf("child stdin is %s, want our file %s", out, want)
	}

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	s = helperSpec(t, "stdin-id")
	_, out, _, err = run(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := fileID(int(devNull.Fd())); out != want {
		t.Errorf("with nil Stdin the child's stdin is %s, want /dev/null %s", out, want)
	}
}

// hashWriter hashes what it is given and fails the test if it is ever
// called while another hashWriter sharing inFlight is.
type hashWriter struct {
	t        *testing.T
	inFlight *atomic.Int32
	h        hash.Hash
	n        int
}

func (w *hashWriter) Write(p []byte) (int, error) {
	if w.inFlight.Add(1) != 1 {
		w.t.Error("writers called concurrently")
	}
	defer w.inFlight.Add(-1)
	// Stay inside Write a little, so an overlap would be seen.
	time.Sleep(time.Microsecond)
	w.n += len(p)
	return w.h.Write(p)
}

func TestLargeOutputCompleteAndInOrder(t *testing.T) {
	const outSize, errSize = 64 << 20, 8<<20 + 12345
	var inFlight atomic.Int32
	stdout := &hashWriter{t: t, inFlight: &inFlight, h: sha256.New()}
	stderr := &hashWriter{t: t, inFlight: &inFlight, h: sha256.New()}
	s := helperSpec(t, "stream", strconv.Itoa(outSize), strconv.Itoa(errSize))
	s.Stdout, s.Stderr = stdout, stderr
	code, err := Run(context.Background(), s)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	for _, c := range []struct {
		name string
		w    *hashWriter
		size int
	}{{"stdout", stdout, outSize}, {"stderr", stderr, errSize}} {
		want := patternHash(c.size)
		if c.w.n != c.size || !bytes.Equal(c.w.h.Sum(nil), want[:]) {
			t.Errorf("%s: got %d bytes, want %d, hash match %v", c.name, c.w.n, c.size, bytes.Equal(c.w.h.Sum(nil), want[:]))
		}
	}
}

// failingWriter accepts nothing.
type failingWriter struct{ calls atomic.Int32 }

var errWriterBroken = errors.New("writer broken")

func (w *failingWriter) Write([]byte) (int, error) {
	w.calls.Add(1)
	return 0, errWriterBroken
}

func TestWriterErrorStopsChild(t *testing.T) {
	// 256 MiB would fill any pipe many times over: Run must not wait for a
	// child blocked on a pipe that nobody reads.
	s := helperSpec(t, "stream", strconv.Itoa(256<<20), "0")
	broken := &failingWriter{}
	s.Stdout = broken
	code, err := Run(context.Background(), s)
	if !errors.Is(err, errWriterBroken) {
		t.Fatalf("err = %v, want the writer's error", err)
	}
	if code != 128+int(syscall.SIGPIPE) {
		t.Errorf("code %d, want %d (the child met a closed pipe)", code, 128+int(syscall.SIGPIPE))
	}
	if n := broken.calls.Load(); n != 1 {
		t.Errorf("failing writer called %d times, want 1", n)
	}
}

func TestContextCancelKillsChild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := helperSpec(t, "sleep")
	s.Stdout = &callbackWriter{onLine: func(line string) {
		if line == "ready" {
			cancel()
		}
	}}
	start := time.Now()
	code, err := Run(ctx, s)
	if !errors.Is(err, context.Canceled) || code != 128+int(syscall.SIGKILL) {
		t.Errorf("code %d, err %v; want %d and context.Canceled", code, err, 128+int(syscall.SIGKILL))
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("Run took %v after cancel", elapsed)
	}

	code, err = Run(ctx, helperSpec(t, "exit", "0"))
	if !errors.Is(err, context.Canceled) || code == 0 {
		t.Errorf("Run with a done context: code %d, err %v", code, err)
	}
}

// callbackWriter calls onLine for each complete line written to it.
type callbackWriter struct {
	mu      sync.Mutex
	partial string
	all     strings.Builder
	onLine  func(string)
}

func (w *callbackWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.all.Write(p)
	w.partial += string(p)
	var lines []string
	for {
		line, rest, ok := strings.Cut(w.partial, "\n")
		if !ok {
			break
		}
		lines = append(lines, strings.TrimRight(line, "\r"))
		w.partial = rest
	}
	w.mu.Unlock()
	for _, line := range lines {
		w.onLine(line)
	}
	return len(p), nil
}

func (w *callbackWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain", "#!/bin/sh\nexit 0\n", 0o644)
	badInterpreter := write("bad-interp", "#!/nonexistent/interpreter\n", 0o755)
	garbage := write("garbage", "\x00\x01\x02 not a program", 0o755)
	const secret = "SECRET-VALUE-d41d8cd98f"
	for _, c := range []struct {
		path string
		want error
		code int
	}{
		{filepath.Join(dir, "missing"), ErrNotFound, 127},
		{filepath.Join(plain, "below-a-file"), ErrNotFound, 127},
		{plain, ErrNotExecutable, 126},
		{dir, ErrNotExecutable, 126},
		{badInterpreter, ErrNotExecutable, 126},
		{garbage, ErrNotExecutable, 126},
	} {
		for _, usePTY := range []bool{false, true} {
			code, err := Run(context.Background(), Spec{
				Path:   c.path,
				Args:   []string{"prog", "arg-" + secret},
				Env:    []string{"TOKEN=" + secret},
				Stdout: &syncBuffer{},
				Stderr: &syncBuffer{},
				PTY:    usePTY,
			})
			if !errors.Is(err, c.want) || code != c.code {
				t.Errorf("%s (pty %v): code %d, err %v; want %d, %v", c.path, usePTY, code, err, c.code, c.want)
				continue
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks environment or argument contents: %v", err)
			}
		}
	}
}

func TestSpecRejected(t *testing.T) {
	const secret = "SECRET-VALUE-9e107d9d372"
	good := func() Spec {
		return Spec{Path: "/bin/true", Args: []string{"true"}, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Spec){
		"relative path":      func(s *Spec) { s.Path = "bin/true" },
		"bare name":          func(s *Spec) { s.Path = "true" },
		"NUL in path":        func(s *Spec) { s.Path = "/bin/tr\x00ue" },
		"no argv":            func(s *Spec) { s.Args = nil },
		"NUL in argument":    func(s *Spec) { s.Args = []string{"true", secret + "\x00"} },
		"nil stdout":         func(s *Spec) { s.Stdout = nil },
		"nil stderr":         func(s *Spec) { s.Stderr = nil },
		"nil stdout, pty":    func(s *Spec) { s.Stdout, s.PTY = nil, true },
		"entry without =":    func(s *Spec) { s.Env = []string{"A=1", secret} },
		"empty name":         func(s *Spec) { s.Env = []string{"=" + secret} },
		"NUL in value":       func(s *Spec) { s.Env = []string{"TOKEN=" + secret + "\x00x"} },
		"NUL in name":        func(s *Spec) { s.Env = []string{"TO\x00KEN=" + secret} },
		"duplicate name":     func(s *Spec) { s.Env = []string{"TOKEN=" + secret, "B=2", "TOKEN=other"} },
		"missing directory":  func(s *Spec) { s.Dir = filepath.Join(file, "nope") },
		"directory is file":  func(s *Spec) { s.Dir = file },
		"relative dir blank": func(s *Spec) { s.Dir = "does-not-exist" },
	} {
		s := good()
		change(&s)
		code, err := Run(context.Background(), s)
		if err == nil || code == 0 {
			t.Errorf("%s: code %d, err %v; want a refusal", name, code, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error leaks contents: %v", name, err)
		}
	}
	if code, err := Run(context.Background(), good()); err != nil || code != 0 {
		t.Errorf("the unchanged spec fails: code %d, err %v", code, err)
	}
}

func TestDir(t *testing.T) {
	dir := t.TempDir()
	s := Spec{Path: "/bin/pwd", Args: []string{"pwd", "-P"}, Dir: dir, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	_, out, _, err := run(t, s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != want {
		t.Errorf("child ran in %q, want %q", out, want)
	}
}

// TestInheritedDescriptorsDoNotReachTheChild: a descriptor llms inherited
// without close-on-exec stays out of the child.
func TestInheritedDescriptorsDoNotReachTheChild(t *testing.T) {
	fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0) // no O_CLOEXEC, like a shell's stray fd
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	s := Spec{Path: "/bin/sh", Args: []string{"sh", "-c", "ls /proc/self/fd"}, Env: []string{}, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	code, out, _, err := run(t, s)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	for _, f := range strings.Fields(out) {
		if f == strconv.Itoa(fd) {
			t.Fatalf("the child holds inherited fd %d (its fds: %s)", fd, strings.Join(strings.Fields(out), " "))
		}
	}
}

// TestStartFromDirectory: with Spec.PathDir the child is the file of
// Path's name in the opened directory, whatever Path's directory is by then
// (here gone), on pipes and on a terminal, and runs under its own name.
func TestStartFromDirectory(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "helper"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(moved)
	for _, pty := range []bool{false, true} {
		s := helperSpec(t, "exit", "7")
		s.Path, s.PathDir, s.PTY = filepath.Join(dir, "helper"), d, pty
		if code, _, _, err := run(t, s); err != nil || code != 7 {
			t.Errorf("pty %v: code %d, err %v; want the helper's 7", pty, code, err)
		}
	}
	s := Spec{Path: "/bin/sh", PathDir: d, Args: []string{"helper"}, Env: []string{}, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	if _, err := Run(context.Background(), s); !errors.Is(err, ErrNotFound) {
		t.Errorf("a name the directory does not hold: %v, want ErrNotFound", err)
	}
}
