package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// After `kill -9` of llms exec, its child must not go on running with the
// secret in its environment: it dies with llms, on pipes and on a terminal.
func TestChildDiesWithLLMS(t *testing.T) {
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "orphan-canary-3e9d1b7a", "set", "--stdin", "K")

	// On a terminal, the hang-up that follows llms's death would kill a
	// child that does not ignore SIGHUP; this one does.
	for _, tt := range []struct {
		name  string
		onPTY bool
		argv  []string
	}{
		{"pipes", false, []string{"sleep", "1000"}},
		{"pty", true, []string{"sh", "-c", `trap "" HUP; exec sleep 1000`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"exec", "-i", "K", "--"}, tt.argv...)...)
			cmd.Env = env
			if tt.onPTY {
				ptmx, err := pty.Start(cmd)
				if err != nil {
					t.Fatal(err)
				}
				defer ptmx.Close()
				go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(ptmx) }()
			} else if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child := waitForChild(t, cmd.Process.Pid, "sleep")
			t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
			environ, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "environ"))
			if err != nil || !bytes.Contains(append([]byte{0}, environ...), []byte("\x00K=")) {
				t.Fatalf("the child does not hold K in its environment (err %v): the test would prove nothing", err)
			}

			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			deadline := time.Now().Add(5 * time.Second)
			for alive(child) {
				if time.Now().After(deadline) {
					t.Fatalf("the child %d still runs 5s after llms was killed", child)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// waitForChild returns the pid of parent's child named comm.
func waitForChild(t *testing.T, parent int, comm string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir("/proc")
		mustDo(t, err)
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if name, ppid, _, ok := procStat(pid); ok && ppid == parent && name == comm {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("llms (pid %d) started no %s", parent, comm)
	return 0
}

// alive reports whether pid exists and is not a zombie waiting for a
// parent that does not reap.
func alive(pid int) bool {
	_, _, state, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// procStat reads the name, parent and state of pid from /proc/pid/stat.
func procStat(pid int) (comm string, ppid int, state string, ok bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, "", false
	}
	s := string(data)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, "", false
	}
	fields := strings.Fields(s[closing+1:])
	if len(fields) < 2 {
		return "", 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return s[open+1 : closing], ppid, fields[0], err == nil
}
