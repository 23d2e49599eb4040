package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// The oracle attack: the agent puts its own bytes into a stream redacted
// with the secret and times what comes back. If a probe that begins the
// value (or one of its forms) were held back while one that does not went
// through, the agent would learn the value a character at a time. The
// agent knows a true prefix (envAttackProbe, as if it had guessed the
// first characters right) and probes with it and with a non-prefix of the
// same length, 8 of each in ABBA order, through a pinned cat's input and
// through the echo of the child's terminal; the attack works if their
// median delays differ by more than 20 ms, or their median read counts
// differ.
const envAttackProbe = "ATTACK_PROBE"

func attackOracle(report func(name string, allowed bool, detail string), llms string) int {
	probe := os.Getenv(envAttackProbe)
	other := probe[:len(probe)-1] + "|"
	verdict := func(name string, prefix, non []time.Duration, prefixReads, nonReads []int, err error) {
		if err != nil {
			report(name, false, "could not run: "+err.Error())
			return
		}
		mp, mo := medianOf(prefix), medianOf(non)
		rp, ro := medianOf(prefixReads), medianOf(nonReads)
		d := mp - mo
		report(name, d > 20*time.Millisecond || d < -20*time.Millisecond || rp != ro,
			fmt.Sprintf("median %v for a true prefix, %v for a non-prefix; reads %d and %d",
				mp.Round(100*time.Microsecond), mo.Round(100*time.Microsecond), rp, ro))
	}

	// A pinned cat, fed through its standard input.
	cat := exec.Command(llms, "exec", "-i", "V=K", "--", "cat")
	in, inErr := cat.StdinPipe()
	outR, outW, err := os.Pipe()
	if err == nil && inErr == nil {
		cat.Stdout = outW
		err = cat.Start()
		outW.Close()
	}
	if err == nil {
		err = inErr
	}
	if err == nil {
		echo := newTimedReader(outR)
		p, o, pr, or := probeEcho(echo, func(s string) { io.WriteString(in, s) }, probe, other, "|\n", "|\n")
		in.Close()
		cat.Wait()
		verdict("oracle-pinned-cat", p, o, pr, or, nil)
	} else {
		verdict("oracle-pinned-cat", nil, nil, nil, nil, err)
	}

	// The child's terminal echoes what the agent types. The agent's own
	// terminal is raw, so that nothing but that echo comes back.
	ptmx, tty, err := pty.Open()
	if err == nil {
		_, err = term.MakeRaw(int(tty.Fd()))
	}
	sleep := exec.Command(llms, "exec", "-i", "V=K", "--", "sleep", "30")
	sleep.Stdin, sleep.Stdout, sleep.Stderr = tty, tty, tty
	sleep.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err == nil {
		err = sleep.Start()
		tty.Close()
	}
	if err != nil {
		verdict("oracle-terminal-echo", nil, nil, nil, nil, err)
		return 0
	}
	echo := newTimedReader(ptmx)
	// Until the child's terminal echoes, the child is not there yet.
	ready := false
	for deadline := time.Now().Add(10 * time.Second); !ready && time.Now().Before(deadline); {
		io.WriteString(ptmx, "|\r")
		ready = echo.waitFor(echo.total()+1, time.Second) > 0
	}
	echo.waitFor(1<<30, 200*time.Millisecond) // the rest of the warm-up echoes
	p, o, pr, or := probeEcho(echo, func(s string) { io.WriteString(ptmx, s) }, probe, other, "|\r", "|\r\n")
	ptmx.Write([]byte{3}) // Ctrl-C ends the sleep
	sleep.Wait()
	ptmx.Close()
	verdict("oracle-terminal-echo", p, o, pr, or, nil)
	return 0
}

// probeEcho writes the probe and the other probe in ABBA order, 8 of each,
// and returns how long each took to come back whole (400 ms if it did not)
// and in how many reads; after each it writes sep and waits for its echo.
func probeEcho(echo *timedReader, write func(string), probe, other, sep, echoSep string) (p, o []time.Duration, pr, or []int) {
	const timeout = 400 * time.Millisecond
	expected := echo.total()
	for i := range 16 {
		isPrefix := i%4 == 0 || i%4 == 3
		s := other
		if isPrefix {
			s = probe
		}
		expected += len(s)
		reads := echo.reads()
		start := time.Now()
		write(s)
		delay := timeout
		if echo.waitFor(expected, timeout) >= expected {
			delay = echo.lastAt().Sub(start)
		}
		if isPrefix {
			p, pr = append(p, delay), append(pr, echo.reads()-reads)
		} else {
			o, or = append(o, delay), append(or, echo.reads()-reads)
		}
		expected += len(echoSep)
		write(sep)
		echo.waitFor(expected, time.Second)
	}
	return p, o, pr, or
}

func medianOf[T int | time.Duration](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// timedReader reads a stream in the background and counts what came when.
type timedReader struct {
	mu     sync.Mutex
	n, cnt int
	at     time.Time
	more   chan struct{}
}

func newTimedReader(r io.Reader) *timedReader {
	t := &timedReader{more: make(chan struct{}, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				t.mu.Lock()
				t.n, t.cnt, t.at = t.n+n, t.cnt+1, time.Now()
				t.mu.Unlock()
				select {
				case t.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return t
}

func (t *timedReader) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

func (t *timedReader) reads() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cnt
}

func (t *timedReader) lastAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.at
}

// waitFor waits until n bytes have been read in all, or the timeout, and
// returns the count read.
func (t *timedReader) waitFor(n int, timeout time.Duration) int {
	deadline := time.After(timeout)
	for {
		if got := t.total(); got >= n {
			return got
		}
		select {
		case <-t.more:
		case <-deadline:
			return t.total()
		}
	}
}

// TestAgentModeAttacksOracle launches `llms agent` around the attack agent
// with a token for K pinned to cat and sleep, at this kernel's Landlock ABI
// and at 6, 4 and 1, and checks that neither route tells a true prefix of
// K's value from a non-prefix. (Below ABI 6 the agent can also stop or
// signal the child; the runner's idle release does not count a stopped
// child as idle: TestPausedChildIsNotIdle in internal/runner.)
func TestAgentModeAttacksOracle(t *testing.T) { atEachAttackABI(t, agentModeAttacksOracle) }

// agentModeAttacksOracle runs the oracle phase confined at Landlock ABI abi.
func agentModeAttacksOracle(t *testing.T, abi int) {
	l := newAttackLaunch(t, "oracle")
	canary, work, bin, agent, env := l.canary, l.work, l.bin, l.agent, l.env
	env = append(env, envAttackProbe+"="+canary[:16])

	cmd := exec.Command(bin, "agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi),
		"--secret", "K", "--ttl", "10m", "--cmd", "cat", "--cmd", "sleep", "--", agent)
	cmd.Env, cmd.Dir = env, work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms agent: %v\nstderr: %s", err, errb.String())
	}
	want := map[string]string{"oracle-pinned-cat": "refused", "oracle-terminal-echo": "refused"}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 4 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		mark := "ok  "
		if want[f[1]] != f[2] {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s", f[1], f[2], f[3], want[f[1]])
		}
		delete(want, f[1])
		t.Logf("%s %-24s %-8s %s", mark, f[1], f[2], f[3])
	}
	for name := range want {
		t.Errorf("attempt %s was not made", name)
	}
	for _, form := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))} {
		if strings.Contains(out.String(), form) || strings.Contains(errb.String(), form) {
			t.Errorf("the canary (or an encoding of it) appears in the output")
		}
	}
}
