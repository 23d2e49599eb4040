package supervise

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary plays a confined child when childEnv is set: it installs
// a filter that sends getppid to a listener, sends the listener on
// descriptor 3, and makes the call once per line it reads, printing the
// result.
const childEnv = "LLMS_SUPERVISE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

const getppid = uint32(unix.SYS_GETPPID)

func child() int {
	runtime.LockOSThread() // the filter is this thread's
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 2
	}
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: getppid, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	lfd, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		fmt.Println("seccomp:", e)
		return 2
	}
	if err := unix.Sendmsg(3, []byte{0}, unix.UnixRights(int(lfd)), nil, 0); err != nil {
		return 2
	}
	unix.Close(int(lfd))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		r, _, e := unix.RawSyscall(uintptr(getppid), 0, 0, 0)
		if e != 0 {
			fmt.Println("errno", int(e))
		} else {
			fmt.Println("value", r)
		}
	}
	return 0
}

func TestServe(t *testing.T) {
	key := Key{Arch: nativeArch(t), Nr: getppid}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	theirs := os.NewFile(uintptr(pair[1]), "notify")
	self, err := os.Executable()
	must(t, err)
	cmd := exec.Command(self)
	cmd.Env = []string{childEnv + "=1", "GORACE=atexit_sleep_ms=0"}
	cmd.ExtraFiles = []*os.File{theirs}
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	theirs.Close()

	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(pair[0], buf, oob, unix.MSG_CMSG_CLOEXEC)
	unix.Close(pair[0])
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	if len(msgs) != 1 {
		t.Fatal("no listener received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatal("no listener received")
	}

	// What the handler does for the call being made: a call interrupted by
	// a signal (the Go runtime preempts with SIGURG) is notified again.
	var mode atomic.Int32
	srv, err := Serve(fds[0], map[Key]Handler{key: func(n *Notif) Reply {
		switch mode.Load() {
		case 1:
			if tgid, err := n.Tgid(); err != nil || tgid != cmd.Process.Pid || !n.Valid() {
				return Fail(unix.EINVAL)
			}
			return Return(4242)
		case 2:
			panic("a handler that fails")
		}
		return Continue()
	}})
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	call := func() string {
		mode.Add(1)
		fmt.Fprintln(stdin)
		if !lines.Scan() {
			t.Fatal("the child stopped answering")
		}
		return lines.Text()
	}
	for i, want := range []string{
		"value 4242",                         // the handler's answer
		fmt.Sprintf("errno %d", unix.EPERM),  // a panic fails closed
		fmt.Sprintf("value %d", os.Getpid()), // continued: the real call
	} {
		if got := call(); got != want {
			t.Errorf("call %d: %q, want %q", i+1, got, want)
		}
	}
	srv.Close()
	srv.Close() // twice is harmless
	if got, want := call(), fmt.Sprintf("errno %d", unix.ENOSYS); got != want {
		t.Errorf("after Close: %q, want %q (fail closed)", got, want)
	}
	if !strings.HasPrefix(call(), "errno") {
		t.Errorf("a call after Close succeeded")
	}
}

func nativeArch(t *testing.T) uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	}
	t.Skip("no arch")
	return 0
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
