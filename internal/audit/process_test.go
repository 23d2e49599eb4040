package audit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// When appendToEnv is set, the test binary is a child of
// TestConcurrentAppendsFromProcesses: it waits for its stdin to close, so all
// children start appending together, then appends appendCountEnv records.
const (
	appendToEnv    = "LLMS_AUDIT_TEST_APPEND_TO"
	appendCountEnv = "LLMS_AUDIT_TEST_APPEND_COUNT"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(appendToEnv); path != "" {
		os.Exit(appendChild(path))
	}
	code := m.Run()
	removeBenchLog()
	os.Exit(code)
}

func appendChild(path string) int {
	count, err := strconv.Atoi(os.Getenv(appendCountEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l := Open(path, testKey)
	for i := range count {
		r := sampleRecord(i)
		r.Time = time.Time{} // let Append stamp it inside the lock
		r.PID = os.Getpid()
		if err := l.Append(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func TestConcurrentAppendsFromProcesses(t *testing.T) {
	const procs, each = 32, 10
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	gate, release, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmds := make([]*exec.Cmd, procs)
	stderrs := make([]bytes.Buffer, procs)
	for i := range cmds {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), appendToEnv+"="+path, appendCountEnv+"="+strconv.Itoa(each))
		cmd.Stdin = gate
		cmd.Stderr = &stderrs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	gate.Close()
	release.Close()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v: %s", i, err, stderrs[i].String())
		}
	}
	if t.Failed() {
		return
	}

	n, err := Open(path, testKey).Verify()
	if err != nil || n != procs*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, procs*each)
	}
	perPID := map[int]int{}
	switches, lastPID := 0, 0
	err = Scan(path, func(e Entry) error {
		perPID[e.PID]++
		if e.PID != lastPID {
			switches++
			lastPID = e.PID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(perPID) != procs {
		t.Fatalf("lines from %d processes, want %d", len(perPID), procs)
	}
	for pid, count := range perPID {
		if count != each {
			t.Fatalf("process %d wrote %d lines, want %d", pid, count, each)
		}
	}
	t.Logf("%d lines; the writer changed %d times", n, switches)
}
