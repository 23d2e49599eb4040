package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guardLauncherEnv makes the test binary a launcher (guardLauncher) that
// starts, under the guard, an agent leaving processes behind in the
// directory the variable names; guardCgroupEnv=1 gives the agent a
// cgroup where one can be made.
const (
	guardLauncherEnv = "LLMS_SANDBOX_TEST_GUARD_LAUNCHER"
	guardCgroupEnv   = "LLMS_SANDBOX_TEST_GUARD_CGROUP"
)

// The agent: a sleeper forked twice into a session of its own, a comet
// (fork, exit, over and over) in another, then itself asleep; each writes
// its pid into dir.
const guardAgent = `
setsid -f sh -c 'echo $$ > "$0/bg.pid"; exec sleep 300' "$0"
setsid -f sh -c 'while :; do echo $$ > "$0/comet.pid"; sh -c "$1" "$0" "$1" & exit 0; done' "$0" 'while :; do echo $$ > "$0/comet.pid"; sh -c "$1" "$0" "$1" & exit 0; done'
echo $$ > "$0/agent.pid"
exec sleep 300`

// guardLauncher starts the agent under the guard, prints the guard's pid
// and the agent's cgroup ("-" for none), and waits to be killed.
func guardLauncher(dir string) int {
	self, err := os.Executable()
	if err != nil {
		return 2
	}
	var cg *Cgroup
	if os.Getenv(guardCgroupEnv) == "1" {
		b := make([]byte, 8)
		rand.Read(b)
		cg = NewCgroup("llms-guard-test-" + hex.EncodeToString(b))
	}
	g, err := StartGuard(self, nil, nil, os.Stderr)
	if err == nil {
		err = g.Start(&Wrapped{Path: "/bin/sh", Args: []string{"sh", "-c", guardAgent, dir}}, guardEnv(), cg, filepath.Join(dir, "launch"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cgDir := "-"
	if cg != nil {
		cgDir = cg.Dir
	}
	fmt.Println(g.cmd.Process.Pid, cgDir)
	time.Sleep(time.Minute)
	return 0
}

// The guard outlives a launcher killed with SIGKILL just long enough to
// end the agent's whole tree — double-forked, in sessions of its own, a
// comet among it — with and without a cgroup, within two seconds, and
// removes the launch's directory.
func TestGuardEndsTheTreeWhenTheLauncherDies(t *testing.T) {
	for _, withCgroup := range []bool{true, false} {
		t.Run(fmt.Sprintf("cgroup=%v", withCgroup), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "launch", "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), guardLauncherEnv+"="+dir)
			if withCgroup {
				cmd.Env = append(cmd.Env, guardCgroupEnv+"=1")
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); killPidFiles(dir) })
			var guard int
			var cgDir string
			if _, err := fmt.Fscanln(out, &guard, &cgDir); err != nil {
				t.Fatalf("the launcher did not start the guard: %v", err)
			}
			pids := map[string]int{}
			for deadline := time.Now().Add(10 * time.Second); len(pids) < 3; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the agent did not start: %v", pids)
				}
				for _, name := range []string{"agent", "bg", "comet"} {
					b, _ := os.ReadFile(filepath.Join(dir, name+".pid"))
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
						pids[name] = pid
					}
				}
			}
			if withCgroup && cgDir == "-" {
				t.Log("no cgroup can be made here: the guard works alone")
			}
			cmd.Process.Kill()
			cmd.Wait()
			killed := time.Now()
			for _, name := range []string{"agent", "bg"} {
				for processRuns(pids[name]) {
					if time.Since(killed) > 2*time.Second {
						t.Fatalf("%s (pid %d) still runs 2s after its launcher was killed", name, pids[name])
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			for first := ""; ; time.Sleep(100 * time.Millisecond) {
				b, _ := os.ReadFile(filepath.Join(dir, "comet.pid"))
				if string(b) == first {
					break
				}
				if time.Since(killed) > 2*time.Second {
					t.Fatal("the comet still runs 2s after its launcher was killed")
				}
				first = string(b)
			}
			for processRuns(guard) {
				if time.Since(killed) > 2*time.Second {
					t.Fatalf("the guard (pid %d) still runs 2s after its launcher was killed", guard)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := os.Stat(cgDir); cgDir != "-" && err == nil {
				t.Errorf("the agent's cgroup %s is left", cgDir)
			}
			if _, err := os.Stat(filepath.Join(dir, "launch")); err == nil {
				t.Error("the launch's directory is left")
			}
			t.Logf("the tree ended %v after the launcher was killed", time.Since(killed).Round(time.Millisecond))
		})
	}
}

// The guard passes the agent's status on (128+n for signal n), relays
// TERM, and refuses to start without the launcher's pipe.
func TestGuardStatusSignalsAndRefusals(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(script string, signal bool) int {
		ready := filepath.Join(t.TempDir(), "ready")
		g, err := StartGuard(self, nil, nil, os.Stderr)
		if err == nil {
			err = g.Start(&Wrapped{Path: "/bin/sh", Args: []string{"sh", "-c", script, ready}}, guardEnv(), nil, "")
		}
		if err != nil {
			t.Fatal(err)
		}
		if signal {
			for _, err := os.Stat(ready); err != nil; _, err = os.Stat(ready) {
				time.Sleep(5 * time.Millisecond)
			}
			g.Signal(syscall.SIGTERM)
		}
		status, died, err := g.Wait()
		if err != nil || died != 0 {
			t.Fatalf("%q: %v, guard killed by %v", script, err, died)
		}
		return status
	}
	if got := run("exit 7", false); got != 7 {
		t.Errorf("status %d, want 7", got)
	}
	if got := run("kill -USR1 $$", false); got != 128+int(syscall.SIGUSR1) {
		t.Errorf("status %d, want %d", got, 128+int(syscall.SIGUSR1))
	}
	if got := run(`trap "exit 42" TERM; touch "$0"; while :; do sleep 0.01; done`, true); got != 42 {
		t.Errorf("relayed TERM: status %d, want 42", got)
	}

	// Refusals: arguments, no socket, and start messages that are not
	// what the launcher sends; a launcher that closes the socket first
	// ends the guard quietly.
	guard := func(args []string, send []byte, keepOpen bool) (int, string) {
		cmd := exec.Command(self)
		cmd.Args = append([]string{"llms", GuardArg}, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if send != nil {
			pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := os.NewFile(uintptr(pair[0]), "ours"), os.NewFile(uintptr(pair[1]), "theirs")
			defer ours.Close()
			cmd.ExtraFiles = []*os.File{theirs}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			theirs.Close()
			ours.Write(send)
			if !keepOpen {
				ours.Close()
			}
			cmd.Wait()
		} else {
			cmd.Run()
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	frame := func(body string) []byte {
		return append([]byte{0, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	}
	for _, c := range []struct {
		name string
		args []string
		send []byte
		want string
	}{
		{"arguments", []string{"/bin/true"}, nil, "takes no arguments"},
		{"no socket", nil, nil, "descriptor 3 is not the launcher's socket"},
		{"too long", nil, []byte{0xff, 0xff, 0xff, 0xff}, "more than"},
		{"cut short", nil, frame(`{"path":"/bin/true"`)[:10], "reading what to start"},
		{"a length, nothing else", nil, frame(`{"path":"/bin/true"`)[:4], "reading what to start: EOF"},
		{"not JSON", nil, frame(`path=/bin/true`), "reading what to start"},
		{"relative program", nil, frame(`{"path":"true","args":["true"]}`), "not an absolute path with an argv"},
		{"no arguments", nil, frame(`{"path":"/bin/true"}`), "not an absolute path with an argv"},
		{"descriptors promised", nil, frame(`{"path":"/bin/true","args":["true"],"files":1}`), "0 descriptors were passed"},
		{"relative directory", nil, frame(`{"path":"/bin/true","args":["true"],"remove":"x"}`), "is not absolute"},
		{"not a cgroup", nil, frame(`{"path":"/bin/true","args":["true"],"cgroup":"/tmp"}`), "not a cgroup v2 directory"},
	} {
		if code, stderr := guard(c.args, c.send, false); code != 126 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 126 and %q", c.name, code, stderr, c.want)
		}
	}
	if code, stderr := guard(nil, []byte{}, false); code != 0 || stderr != "" {
		t.Errorf("the launcher gone first: exit %d, %q; want 0 and nothing said", code, stderr)
	}
	// A message that starts the agent: its status comes back.
	if code, stderr := guard(nil, frame(`{"path":"/bin/sh","args":["sh","-c","exit 5"]}`), true); code != 5 {
		t.Errorf("exit %d, %q; want the agent's 5", code, stderr)
	}
}

// ownCgroup and the mountinfo it reads.
func TestCgroup2Mount(t *testing.T) {
	for in, want := range map[string]string{`/sys/fs/cgroup`: "/sys/fs/cgroup", `/a\040b`: "/a b", `/a\\b`: `/a\\b`, `/x\0`: `/x\0`} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
	dir, err := ownCgroup()
	if err != nil {
		t.Skip("no cgroup v2 here:", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
		t.Errorf("ownCgroup() = %s: %v", dir, err)
	}
}

func guardEnv() []string { return []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0"} }

// processRuns reports whether pid exists and has not exited.
func processRuns(pid int) bool {
	st := procState(pid)
	return st != 0 && st != 'Z' && st != 'X'
}

func killPidFiles(dir string) {
	for _, name := range []string{"agent", "bg", "comet"} {
		b, _ := os.ReadFile(filepath.Join(dir, name+".pid"))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
