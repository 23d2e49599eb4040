package runner

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNewGroupTimeoutKillsWhatTheChildLeft: a child that leaves a process
// behind holding its output open does not hold Run once ctx ends, and the
// process it left is killed with its group. Without NewGroup's handling,
// Run waits for the grandchild's output until it exits by itself.
func TestNewGroupTimeoutKillsWhatTheChildLeft(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out callbackWriter
	out.onLine = func(string) {}
	s := Spec{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 60 & echo $!; exit 0"}, Stdout: &out, Stderr: &out, NewGroup: true}
	start := time.Now()
	code, err := Run(ctx, s)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("Run took %v: it waited for the grandchild's output", elapsed)
	}
	if code != 0 || err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("code %d, err %v; want the child's 0 and the deadline", code, err)
	}
	pid, perr := strconv.Atoi(strings.TrimSpace(out.String()))
	if perr != nil {
		t.Fatalf("output %q", out.String())
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// Gone, or a zombie waiting for init to reap it.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the grandchild %d is still running", pid)
		}
	}
}

func isZombie(pid int) bool {
	bb, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	b := string(bb)
	i := strings.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
}
