package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EndTree ends a process that keeps replacing itself (fork, exit) and a
// parent that never reaps its exited child, and does so at once: neither
// keeps it waiting for its deadline.
func TestEndTree(t *testing.T) {
	if err := BecomeSubreaper(); err != nil {
		t.Skip("no subreaper:", err)
	}
	dir := t.TempDir()
	comet := filepath.Join(dir, "comet")
	defer os.WriteFile(comet+".stop", nil, 0o600)
	for _, script := range []string{
		`while :; do [ -e "$0.stop" ] && exit 0; echo $$ > "$0.pid"; sh -c "$1" "$0" "$1" & exit 0; done`,
		`sleep 0.05 & exec sleep 30`, // its child exits, and sleep never reaps it
	} {
		cmd := exec.Command("sh", "-c", script, comet, script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	n := EndTree(5 * time.Second)
	took := time.Since(start)
	if live, exited := descendants(os.Getpid()); len(live) > 0 || exited {
		t.Errorf("after EndTree: %v still running (a child unreaped: %v)", live, exited)
	}
	if took > 2*time.Second {
		t.Errorf("EndTree took %v, killing %d", took, n)
	}
	first, _ := os.ReadFile(comet + ".pid")
	time.Sleep(100 * time.Millisecond)
	last, _ := os.ReadFile(comet + ".pid")
	if pid := strings.TrimSpace(string(last)); string(first) != string(last) {
		t.Errorf("the comet runs on (pid %s)", pid)
	}
	t.Logf("ended %d processes in %v", n, took.Round(time.Millisecond))
}

// NoCoreDumps works for an ordinary user too, in a process that is not
// dumpable (as llms is), whose /proc files are root's; and leaves it not
// dumpable.
func TestNoCoreDumps(t *testing.T) {
	bin := self(t)
	users := map[string]*syscall.Credential{"this user": nil}
	if os.Getuid() == 0 {
		users["nobody"] = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	for who, cred := range users {
		res := proc{cred: cred}.probeRun(t, bin, "nocoredumps", "self")
		if got := res["nocoredumps self"]; got != "ok" {
			t.Errorf("as %s: %s", who, got)
		}
	}
}
