package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// threadsWithNoNewPrivs counts our threads that have no_new_privs set,
// but the main thread: when the confined goroutine happened to run there,
// the Go runtime cannot end that thread and parks it for good instead
// (runtime.mexit), so it never runs code again.
func threadsWithNoNewPrivs(t *testing.T) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	main := filepath.Join("/proc/self/task", strconv.Itoa(os.Getpid()), "status")
	for _, path := range tasks {
		if path == main {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended meanwhile
		}
		if strings.Contains(string(data), "NoNewPrivs:\t1") {
			n++
		}
	}
	return n
}

// Confine's changes reach the child, and no thread of ours keeps them.
func TestConfineReachesOnlyTheChild(t *testing.T) {
	for _, ptyMode := range []bool{false, true} {
		s := helperSpec(t, "nnp")
		s.PTY = ptyMode
		s.Confine = func() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }
		code, out, _, err := run(t, s)
		if err != nil || code != 0 {
			t.Fatalf("pty %v: code %d, err %v", ptyMode, code, err)
		}
		if !strings.Contains(out, "nnp=1") {
			t.Errorf("pty %v: the child did not inherit the confinement: %q", ptyMode, out)
		}
		// The confined thread ends just after Run returns (it runs no
		// other goroutine meanwhile); give it a moment to be gone.
		n := threadsWithNoNewPrivs(t)
		for i := 0; n != 0 && i < 100; i++ {
			time.Sleep(10 * time.Millisecond)
			n = threadsWithNoNewPrivs(t)
		}
		if n != 0 {
			t.Errorf("pty %v: %d threads of ours kept the confinement after Run", ptyMode, n)
		}
	}
	// And without Confine nothing is set.
	_, out, _, err := run(t, helperSpec(t, "nnp"))
	if err != nil || !strings.Contains(out, "nnp=0") {
		t.Errorf("unconfined child reports %q (err %v)", out, err)
	}
}

// landlockNoCreate makes the calling thread unable to create regular
// files anywhere: a Landlock ruleset that handles MAKE_REG and allows it
// nowhere.
func landlockNoCreate() error {
	attr := unix.LandlockRulesetAttr{Handled_access_fs: unix.LANDLOCK_ACCESS_FS_MAKE_REG}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if errno != 0 {
		return errno
	}
	defer unix.Close(int(fd))
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// A Landlock domain made by Confine binds the child, not llms.
func TestConfineLandlockDomain(t *testing.T) {
	if abi, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION); errno != 0 || abi < 1 {
		t.Skipf("no Landlock on this kernel (%v)", errno)
	}
	dir := t.TempDir()
	s := helperSpec(t, "create", filepath.Join(dir, "by-child"))
	s.Confine = landlockNoCreate
	code, out, _, err := run(t, s)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if out != "create refused\n" {
		t.Errorf("confined child: %q, want it refused", out)
	}
	for i := 0; i < 20; i++ { // on whichever thread the runtime puts us
		f, err := os.Create(filepath.Join(dir, "by-us"))
		if err != nil {
			t.Fatalf("llms itself was confined: %v", err)
		}
		f.Close()
	}
}

func TestConfineErrorStartsNothing(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	s := helperSpec(t, "create", marker)
	s.Confine = func() error { return errors.New("no sandbox today") }
	code, _, _, err := run(t, s)
	if err == nil || !strings.Contains(err.Error(), "no sandbox today") || code != exitCannotExec {
		t.Errorf("code %d, err %v; want %d and the Confine error", code, err, exitCannotExec)
	}
	if _, statErr := os.Stat(marker); statErr == nil {
		t.Error("the child ran although Confine failed")
	}
}

// With Spec.Signals the child gets its own process group and every signal
// sent on the channel, and nothing of ours is caught.
func TestSignalsFromChannel(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	s := helperSpec(t, "trap", "10", "77") // SIGUSR1
	s.Signals = sigs
	s.Stdout = &callbackWriter{onLine: func(line string) {
		if line == "ready" {
			sigs <- syscall.SIGUSR1
		}
	}}
	if code, _, _, err := run(t, s); err != nil || code != 77 {
		t.Errorf("code %d, err %v; want the child's 77", code, err)
	}
	_ = sigs // nothing more

	s = helperSpec(t, "nnp")
	s.Signals = make(chan os.Signal)
	if _, out, _, err := run(t, s); err != nil || !strings.Contains(out, "own-group=true") {
		t.Errorf("child with relayed signals: %q (err %v), want a process group of its own", out, err)
	}
	// JoinGroup puts it in a given group instead: here ours.
	s = helperSpec(t, "pgrp")
	s.Signals, s.JoinGroup = make(chan os.Signal), syscall.Getpgrp()
	if _, out, _, err := run(t, s); err != nil || out != fmt.Sprintf("pgrp=%d\n", syscall.Getpgrp()) {
		t.Errorf("child told to join group %d: %q (err %v)", syscall.Getpgrp(), out, err)
	}
}

// In PTY mode a SIGWINCH on the channel gives the child's terminal the size
// of SizeFrom, even when stdin is not a terminal.
func TestPTYSizeFrom(t *testing.T) {
	master, terminal := testTerminal(t, 30, 100)
	sigs := make(chan os.Signal, 1)
	s := helperSpec(t, "winch")
	s.PTY, s.Stdin, s.SizeFrom, s.Signals = true, nil, terminal, sigs
	out := &callbackWriter{onLine: func(line string) {
		if line == "size 30x100" {
			if err := pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
				t.Error(err)
			}
			sigs <- syscall.SIGWINCH
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
