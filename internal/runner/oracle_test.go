package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/redact"
)

// The oracle tests run real children through Run with their output
// redacted, as llms exec does, and put bytes into the stream the way an
// agent could: through a pinned cat's input, or by typing on the child's
// terminal, whose echo goes into the output.

// canary returns a value to redact that appears nowhere else.
func canary(t *testing.T) string {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return "oracle-" + hex.EncodeToString(raw)
}

// reader collects what a child's redacted output delivers, each read with
// its time.
type reader struct {
	mu     sync.Mutex
	chunks []timedChunk
	total  int
	more   chan struct{}
}

type timedChunk struct {
	at time.Time
	b  []byte
}

// read copies f into r until it ends.
func (r *reader) read(f *os.File) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.chunks = append(r.chunks, timedChunk{time.Now(), slices.Clone(buf[:n])})
			r.total += n
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// waitFor waits until total bytes have been read or the timeout passes,
// and returns the chunks read since index from.
func (r *reader) waitFor(total, from int, timeout time.Duration) []timedChunk {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		done, chunks := r.total >= total, slices.Clone(r.chunks[from:])
		r.mu.Unlock()
		if done {
			return chunks
		}
		select {
		case <-r.more:
		case <-deadline:
			return chunks
		}
	}
}

func (r *reader) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, c := range r.chunks {
		b.Write(c.b)
	}
	return b.String()
}

// session runs the helper mode through Run in the background, its output
// redacted for value, and returns the reader of that output and a
// function that waits for Run to end.
func session(t *testing.T, s Spec, value string) (*reader, func() (int, error)) {
	t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r := redact.New([]redact.Secret{{Name: "V", Value: []byte(value)}})
	w := r.NewWriter(outW)
	s.Env = append(s.Env, "V="+value)
	s.Stdout, s.Stderr = w, w
	rd := &reader{more: make(chan struct{}, 1)}
	read := make(chan struct{})
	go func() {
		rd.read(outR)
		close(read)
	}()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	go func() {
		code, err := Run(ctx, s)
		if closeErr := w.Close(); err == nil {
			err = closeErr
		}
		outW.Close()
		done <- result{code, err}
	}()
	t.Cleanup(cancel)
	return rd, func() (int, error) {
		res := <-done
		<-read
		outR.Close()
		return res.code, res.err
	}
}

// probeTrial is what one probe showed: how long until all of it was read,
// in how many reads.
type probeTrial struct {
	delay time.Duration
	reads int
}

// probeOracle writes probes, true prefixes of value and non-prefixes of the
// same length in turn (ABBA, n each), with write, and measures each until
// its echo is read whole (or timeout); after each it writes sep, whose
// echo is echoSep, and waits for everything. It returns the trials of
// each kind.
func probeOracle(t *testing.T, rd *reader, write func(string), value, sep, echoSep string, n int) (prefix, other []probeTrial) {
	t.Helper()
	const timeout = 400 * time.Millisecond
	p := value[:10]
	q := value[:9] + "|"
	expected := len(rd.text())
	for i := range 2 * n {
		isPrefix := i%4 == 0 || i%4 == 3
		probe := q
		if isPrefix {
			probe = p
		}
		from := len(rd.chunks)
		expected += len(probe)
		start := time.Now()
		write(probe)
		chunks := rd.waitFor(expected, from, timeout)
		trial := probeTrial{timeout, len(chunks)}
		got := 0
		for _, c := range chunks {
			got += len(c.b)
			if got >= len(probe) {
				trial.delay = c.at.Sub(start)
				break
			}
		}
		if isPrefix {
			prefix = append(prefix, trial)
		} else {
			other = append(other, trial)
		}
		expected += len(echoSep)
		write(sep)
		rd.waitFor(expected, 0, time.Second)
	}
	return prefix, other
}

func median(trials []probeTrial, f func(probeTrial) float64) float64 {
	v := make([]float64, len(trials))
	for i, tr := range trials {
		v[i] = f(tr)
	}
	slices.Sort(v)
	return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
}

// checkIndistinguishable is the two-sample test: with n trials of each
// kind, the medians of the delays must be within 20 ms (the release is by
// time, idleAfter after the echo, whatever it is), and the medians of the
// read counts equal.
func checkIndistinguishable(t *testing.T, route string, prefix, other []probeTrial) {
	t.Helper()
	ms := func(tr probeTrial) float64 { return float64(tr.delay) / float64(time.Millisecond) }
	reads := func(tr probeTrial) float64 { return float64(tr.reads) }
	mp, mo := median(prefix, ms), median(other, ms)
	t.Logf("%s: median delay %.1f ms for a true prefix, %.1f ms for a non-prefix; median reads %.1f and %.1f",
		route, mp, mo, median(prefix, reads), median(other, reads))
	if d := mp - mo; d > 20 || d < -20 || median(prefix, reads) != median(other, reads) {
		t.Errorf("%s: a true prefix and a non-prefix are told apart (medians %.1f and %.1f ms, reads %.1f and %.1f)",
			route, mp, mo, median(prefix, reads), median(other, reads))
	}
}

// TestOracleClosedOnPipes: an agent writes probes into a pinned cat's
// input and times their echo on its redacted output.
func TestOracleClosedOnPipes(t *testing.T) {
	value := canary(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := helperSpec(t, "cat")
	s.Stdin = inR
	rd, wait := session(t, s, value)
	prefix, other := probeOracle(t, rd, func(p string) { inW.WriteString(p) }, value, "|\n", "|\n", 8)
	inW.Close()
	if _, err := wait(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	checkIndistinguishable(t, "pipes", prefix, other)
	if strings.Contains(rd.text(), value) {
		t.Error("the value leaked")
	}
}

// TestOracleClosedOnATerminal: an agent types probes on the child's
// terminal (the child sleeps; the terminal echoes) and times the echo.
func TestOracleClosedOnATerminal(t *testing.T) {
	value := canary(t)
	master, terminal := testTerminal(t, 24, 80)
	s := helperSpec(t, "sleep")
	s.PTY, s.Stdin = true, terminal
	rd, wait := session(t, s, value)
	if chunks := rd.waitFor(len("ready\r\n"), 0, 5*time.Second); len(chunks) == 0 {
		t.Fatal("the child did not start")
	}
	prefix, other := probeOracle(t, rd, func(p string) { master.WriteString(p) }, value, "|\r", "|\r\n", 8)
	master.Write([]byte{3}) // Ctrl-C ends the sleep
	if _, err := wait(); err != nil {
		t.Fatal(err)
	}
	checkIndistinguishable(t, "terminal", prefix, other)
	if strings.Contains(rd.text(), value) {
		t.Error("the value leaked")
	}
}

// TestPromptShowsAfterIdle: a prompt without a line break shows idleAfter
// after it is printed, give or take the machine's load.
func TestPromptShowsAfterIdle(t *testing.T) {
	master, terminal := testTerminal(t, 24, 80)
	for _, usePTY := range []bool{false, true} {
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		s := helperSpec(t, "prompt")
		s.Stdin, s.PTY = inR, usePTY
		if usePTY {
			s.Stdin = terminal
		}
		start := time.Now()
		rd, wait := session(t, s, canary(t))
		chunks := rd.waitFor(len("Password: "), 0, 5*time.Second)
		if len(chunks) == 0 || !strings.Contains(rd.text(), "Password: ") {
			t.Fatalf("pty %v: no prompt", usePTY)
		}
		if d := chunks[len(chunks)-1].at.Sub(start); d > time.Second {
			t.Errorf("pty %v: the prompt showed after %v", usePTY, d)
		} else {
			t.Logf("pty %v: the prompt showed %v after the start", usePTY, d.Round(time.Millisecond))
		}
		if usePTY {
			master.WriteString("x\r")
		} else {
			inW.WriteString("x\n")
		}
		if _, err := wait(); err != nil {
			t.Fatal(err)
		}
		inR.Close()
		inW.Close()
	}
}

// TestPausedChildIsNotIdle: a child that runs without sleeping in the
// middle of printing a value (as one starved of CPU does, waiting for it)
// gets no idle release, nor does one the test stops there (SIGSTOP, as an
// agent can below Landlock ABI 6), nor does the end of its other stream
// release a writer both streams share: the first half is not shown, and
// the whole value is masked once it is out.
func TestPausedChildIsNotIdle(t *testing.T) {
	for i, pause := range []string{"spin", "spin", "close-stderr"} {
		stop := i == 1
		value := canary(t)
		s := helperSpec(t, "value-then", pause)
		s.NewGroup = true
		rd, wait := session(t, s, value)
		var child int
		if stop {
			for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				child = ourChild()
			}
			if child == 0 {
				t.Fatal("the child did not start")
			}
			syscall.Kill(child, syscall.SIGSTOP)
		}
		time.Sleep(300 * time.Millisecond) // several idle periods
		if got := rd.text(); got != "" {
			t.Errorf("%s, stopped %v: %d bytes shown while the child was in the middle of the value", pause, stop, len(got))
		}
		if stop {
			syscall.Kill(child, syscall.SIGCONT)
		}
		if _, err := wait(); err != nil {
			t.Fatal(err)
		}
		if got := rd.text(); got != "[REDACTED:V]\n" {
			t.Errorf("%s, stopped %v: output %q, want the value masked", pause, stop, got)
		}
	}
}

// ourChild returns the pid of a child of ours, or 0.
func ourChild() int {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		children, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if f := strings.Fields(string(children)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
	}
	return 0
}

// TestFlowControlStopsIdleRelease: a child that turns flow control (IXON)
// on on its terminal, where ^S would stop its output in the middle of a
// value, gets no idle release for the rest of its run; with IXON off, as
// the runner makes the terminal, ^S is just a byte for the child.
func TestFlowControlStopsIdleRelease(t *testing.T) {
	value := canary(t)
	master, terminal := testTerminal(t, 24, 80)
	s := helperSpec(t, "flow-control")
	s.PTY, s.Stdin = true, terminal
	rd, wait := session(t, s, value)
	if !strings.Contains(textOf(rd.waitFor(len("ready\r\n"), 0, 5*time.Second)), "ready") {
		t.Fatal("the child did not start")
	}
	master.WriteString("go\r")
	time.Sleep(300 * time.Millisecond)
	master.Write([]byte{'S' & 0x1f}) // ^S: output stops
	master.WriteString("\r")         // the child prints the rest, and blocks
	time.Sleep(300 * time.Millisecond)
	if got := rd.text(); strings.Contains(got, value[:len(value)/2]) {
		t.Errorf("the first half of the value was shown: %q", got)
	}
	master.Write([]byte{'Q' & 0x1f}) // ^Q: output goes on
	if _, err := wait(); err != nil {
		t.Fatal(err)
	}
	if got := rd.text(); strings.Contains(got, value[:len(value)/2]) || !strings.Contains(got, "[REDACTED:V]") {
		t.Errorf("output %q, want the value masked", got)
	}

	s = helperSpec(t, "echo-line")
	s.PTY, s.Stdin = true, terminal
	rd, wait = session(t, s, value)
	if !strings.Contains(textOf(rd.waitFor(len("ready\r\n"), 0, 5*time.Second)), "ready") {
		t.Fatal("the child did not start")
	}
	master.Write([]byte{'S' & 0x1f, '\r'})
	if _, err := wait(); err != nil {
		t.Fatal(err)
	}
	if got := rd.text(); !strings.Contains(got, `got "\x13"`) {
		t.Errorf("^S did not reach the child as a byte: %q", got)
	}
}

func textOf(chunks []timedChunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.Write(c.b)
	}
	return b.String()
}
