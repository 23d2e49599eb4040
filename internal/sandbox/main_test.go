package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary plays these roles, chosen by its arguments and
// environment: the test suite; `__sandbox-exec` (the re-exec entry point,
// as cmd/llms dispatches it); a probe that, once confined, tries things
// and prints one line per attempt; `__agent-guard`, and a launcher that
// starts an agent under it (guard_test.go).
const (
	probeEnv    = "LLMS_SANDBOX_PROBE"
	keepCapsEnv = "LLMS_SANDBOX_TEST_KEEP_CAPS"
	tiocstiEnv  = "LLMS_SANDBOX_TEST_ALLOW_TIOCSTI"
	offMainEnv  = "LLMS_SANDBOX_TEST_OFF_MAIN"
	launchEnv   = "LLMS_SANDBOX_TEST_LAUNCHER"
	noNSEnv     = "LLMS_SANDBOX_TEST_NO_NAMESPACES"
	// viewLaunchEnv names a rules file: the test binary then starts
	// itself through Wrap with them, as the guard starts the agent, and
	// runs the probe with its arguments.
	viewLaunchEnv = "LLMS_SANDBOX_TEST_VIEW_LAUNCHER"
	supEnv        = "LLMS_SANDBOX_TEST_SUPERVISED_LAUNCHER"
	egressEnv     = "LLMS_SANDBOX_TEST_EGRESS_LAUNCHER"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ExecArg {
		keepCapsForTest = os.Getenv(keepCapsEnv) == "1"
		if os.Getenv(noNSEnv) == "1" {
			SetNamespacesForTest(false)
		}
		allowTIOCSTIForTest = os.Getenv(tiocstiEnv) == "1"
		if os.Getenv(offMainEnv) == "1" {
			os.Exit(onAnotherThread(func() int { return Main(os.Args[2:], os.Stderr) }))
		}
		os.Exit(Main(os.Args[2:], os.Stderr))
	}
	if os.Getenv(launchEnv) == "1" {
		os.Exit(launchSleeper())
	}
	if f := os.Getenv(viewLaunchEnv); f != "" {
		os.Exit(launchProbe(f, os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == GuardArg {
		os.Exit(GuardMain(os.Args[2:], os.Stderr))
	}
	if dir := os.Getenv(guardLauncherEnv); dir != "" {
		os.Exit(guardLauncher(dir))
	}
	if os.Getenv(supEnv) == "1" {
		os.Exit(supervisedLauncher(os.Args[1:]))
	}
	if os.Getenv(egressEnv) == "1" {
		os.Exit(egressLauncher(os.Args[1:]))
	}
	if os.Getenv(probeEnv) == "1" {
		os.Exit(probe(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// probe runs "op target" pairs and prints "op target: ok" or
// "op target: denied <errno>". It never prints what it read.
func probe(args []string) int {
	if len(args) == 1 && args[0] == "sleep" {
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 0
	}
	for i := 0; i+1 < len(args); i += 2 {
		op, target := args[i], args[i+1]
		var err error
		switch op {
		case "read":
			_, err = os.ReadFile(target)
		case "list":
			_, err = os.ReadDir(target)
		case "write":
			err = os.WriteFile(target, []byte("x"), 0o600)
		case "append":
			var f *os.File
			if f, err = os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0); err == nil {
				_, err = f.WriteString("planted\n")
				f.Close()
			}
		case "open":
			var f *os.File
			if f, err = os.Open(target); err == nil {
				f.Close()
			}
		case "remove":
			err = os.Remove(target)
		case "mkdir":
			err = os.Mkdir(target, 0o700)
		case "mksock":
			var fd int
			if fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
				err = unix.Bind(fd, &unix.SockaddrUnix{Name: target})
				unix.Close(fd)
			}
		case "symlink":
			err = os.Symlink("/etc/hostname", target)
		case "rename":
			from, to, _ := strings.Cut(target, "|")
			err = os.Rename(from, to)
		case "link":
			from, to, _ := strings.Cut(target, "|")
			err = os.Link(from, to)
		case "size":
			var fi os.FileInfo
			if fi, err = os.Stat(target); err == nil {
				fmt.Printf("size %s: %d\n", target, fi.Size())
				continue
			}
		case "ptrace":
			pid, _ := strconv.Atoi(target)
			if err = unix.PtraceSeize(pid); err == nil {
				_ = unix.PtraceDetach(pid)
			}
		case "nocoredumps":
			// As llms runs: not dumpable, so its /proc files are root's.
			_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
			if err = NoCoreDumps(); err == nil {
				var lim unix.Rlimit
				filter, _ := os.ReadFile("/proc/self/coredump_filter")
				dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
				if unix.Getrlimit(unix.RLIMIT_CORE, &lim) != nil || lim.Cur != 0 || lim.Max != 0 ||
					strings.TrimSpace(string(filter)) != "00000000" || dumpable != 0 {
					err = fmt.Errorf("limit %+v, filter %q, dumpable %d", lim, filter, dumpable)
				}
			}
		case "tiocsti":
			// A terminal of its own as its controlling terminal, then ask
			// the terminal to type a byte (target is ignored).
			// Closing the terminal hangs its session up: the probe leads it.
			signal.Ignore(syscall.SIGHUP)
			err = typeIntoOwnTerminal()
		case "kill0":
			pid, _ := strconv.Atoi(target)
			err = unix.Kill(pid, 0)
		case "stop":
			// SIGSTOP, undone at once when it worked.
			pid, _ := strconv.Atoi(target)
			if err = unix.Kill(pid, unix.SIGSTOP); err == nil {
				unix.Kill(pid, unix.SIGCONT)
			}
		case "connect":
			// A Unix socket by path, or abstract when it starts with @.
			var c net.Conn
			if c, err = net.Dial("unix", target); err == nil {
				c.Close()
			}
		case "serve":
			// A server of its own, and a connection to it.
			var l net.Listener
			if l, err = net.Listen("unix", target); err == nil {
				go func() {
					if c, err := l.Accept(); err == nil {
						c.Close()
					}
				}()
				var c net.Conn
				if c, err = net.Dial("unix", target); err == nil {
					c.Close()
				}
				l.Close()
			}
		case "ownpty":
			// A terminal of its own, its peer opened by path.
			var m *os.File
			if m, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0); err == nil {
				var n int
				if err = unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err == nil {
					n, err = unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
				}
				if err == nil {
					var s *os.File
					if s, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0); err == nil {
						s.Close()
					}
				}
				m.Close()
			}
		case "iouring":
			var params [120]byte
			fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])), 0)
			if e == 0 {
				unix.Close(int(fd))
				err = nil
			} else {
				err = e
			}
		case "dgram":
			var fd int
			if fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0); err == nil {
				unix.Close(fd)
			}
		case "tcp", "tcpserve", "udp", "fastopen", "socket":
			err = netProbe(op, target)
		case "connectloop":
			// N,tcp|unix|own,ADDRESS: N connections, one after the other,
			// to a TCP or Unix address (own: served by the probe); it
			// prints the time one took.
			var per time.Duration
			if per, err = connectLoop(target); err == nil {
				fmt.Printf("ns %d\n", per.Nanoseconds())
			}
		case "waitstdin":
			// Until the launcher says go on (a line on stdin).
			_, err = bufio.NewReader(os.Stdin).ReadString('\n')
		case "status":
			// status FIELD: prints the field of /proc/self/status.
			b, _ := os.ReadFile("/proc/self/status")
			for _, line := range strings.Split(string(b), "\n") {
				if name, v, ok := strings.Cut(line, ":"); ok && name == target {
					fmt.Printf("status %s: %s\n", target, strings.TrimSpace(v))
				}
			}
			continue
		default:
			fmt.Printf("%s %s: unknown op\n", op, target)
			return 2
		}
		if err != nil {
			var errno syscall.Errno
			errors.As(err, &errno)
			fmt.Printf("%s %s: denied %d\n", op, target, int(errno))
		} else {
			fmt.Printf("%s %s: ok\n", op, target)
		}
	}
	return 0
}

// self is a copy of the test binary that any user can execute (the go
// build directory is private to its owner).
func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sandbox-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "sandbox.test")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// run options for one process.
type proc struct {
	rules       *Rules // nil: not sandboxed
	cred        *syscall.Credential
	env         []string
	keepCaps    bool
	allowTIOCST bool
}

// command builds the probe command, wrapped in the sandbox when p.rules is
// set.
func (p proc) command(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := &exec.Cmd{Path: bin, Args: append([]string{bin}, args...)}
	if p.rules != nil {
		w, err := Wrap(p.rules, bin, bin, bin, cmd.Args)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Rules.Close() })
		cmd.Path, cmd.Args, cmd.ExtraFiles = w.Path, w.Args, []*os.File{w.Rules}
	}
	// GORACE: a race-enabled binary otherwise sleeps a second at exit.
	cmd.Env = append([]string{probeEnv + "=1", "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0"}, p.env...)
	if p.keepCaps {
		cmd.Env = append(cmd.Env, keepCapsEnv+"=1")
	}
	if p.allowTIOCST {
		cmd.Env = append(cmd.Env, tiocstiEnv+"=1")
	}
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// probeRun runs the probe and returns its result lines keyed by "op target".
func (p proc) probeRun(t *testing.T, bin string, args ...string) map[string]string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := p.command(t, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe: %v; stderr: %s", err, errb.String())
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		res[k] = v
	}
	return res
}

// sleeper starts a process that waits, with env, and returns its pid.
func (p proc) sleeper(t *testing.T, bin string) int {
	t.Helper()
	cmd := p.command(t, bin, "sleep")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("sleeper did not start: %v %q; stderr: %s", err, buf, errb.String())
	}
	return cmd.Process.Pid
}

func requireLandlock(t *testing.T) {
	t.Helper()
	if ABI() == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI needs a kernel with Landlock")
		}
		t.Skip("no Landlock on this kernel")
	}
}

// typeIntoOwnTerminal opens a new pseudo-terminal, makes it the controlling
// terminal of a new session, and pushes one byte into its input (TIOCSTI).
func typeIntoOwnTerminal() error {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return err
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		return err
	}
	if _, err := unix.Setsid(); err != nil {
		return err
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := unix.IoctlSetInt(int(s.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return err
	}
	c := byte('x')
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, s.Fd(), unix.TIOCSTI, uintptr(unsafe.Pointer(&c))); e != 0 {
		return e
	}
	return nil
}

// onAnotherThread runs f on an OS thread that is not the process's first
// one (the thread a parent-death signal was set on), as a Go program's
// goroutine may find itself on any time.
func onAnotherThread(f func() int) int {
	runtime.LockOSThread() // this goroutine's thread is taken
	for {
		result := make(chan int)
		onLeader := make(chan bool)
		go func() {
			runtime.LockOSThread()
			if unix.Gettid() == unix.Getpid() {
				onLeader <- true
				select {} // keep the first thread busy; try again elsewhere
			}
			onLeader <- false
			result <- f()
		}()
		if !<-onLeader {
			return <-result
		}
	}
}

// launchSleeper plays a launcher: it starts `__sandbox-exec … sleep` with
// a parent-death signal, the exec made off the first thread, prints the
// child's pid and waits to be killed.
func launchSleeper() int {
	runtime.LockOSThread() // the parent-death signal is tied to this thread
	bin, err := os.Executable()
	if err != nil {
		return 2
	}
	r, err := BuildFor(Spec{Read: []string{"/"}}, ABI())
	if err != nil {
		return 2
	}
	w, err := Wrap(r, bin, bin, "/bin/sleep", []string{"sleep", "300"})
	if err != nil {
		return 2
	}
	cmd := &exec.Cmd{Path: w.Path, Args: w.Args, ExtraFiles: []*os.File{w.Rules}, Stderr: os.Stderr,
		Env:         []string{offMainEnv + "=1", "GORACE=atexit_sleep_ms=0"},
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	if err := cmd.Start(); err != nil {
		return 2
	}
	fmt.Println(cmd.Process.Pid)
	time.Sleep(time.Minute)
	return 0
}

// connectLoop runs connectloop's target (see probe).
func connectLoop(target string) (time.Duration, error) {
	f := strings.SplitN(target, ",", 3)
	if len(f) != 3 {
		return 0, errors.New("connectloop N,KIND,ADDRESS")
	}
	n, _ := strconv.Atoi(f[0])
	network, addr := "unix", f[2]
	switch f[1] {
	case "tcp":
		network = "tcp"
	case "own", "owntcp":
		if f[1] == "owntcp" {
			network = "tcp"
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			return 0, err
		}
		addr = l.Addr().String()
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.Dial(network, addr)
		if err != nil {
			return 0, err
		}
		c.Close()
	}
	return time.Since(start) / time.Duration(max(n, 1)), nil
}

// launchProbe starts this binary as the probe, confined by the rules in
// file, through Wrap and as the guard starts the agent: with a user
// namespace when this process is not root.
func launchProbe(file string, args []string) int {
	runtime.LockOSThread()
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := Decode(string(data))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	env := []string{probeEnv + "=1", "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0"}
	if os.Getenv(noNSEnv) == "1" {
		SetNamespacesForTest(false)
		env = append(env, noNSEnv+"=1")
	}
	w, err := Wrap(r, bin, bin, bin, append([]string{bin}, args...))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// As the guard starts the agent.
	cmd, err := startInView(func() *exec.Cmd {
		return &exec.Cmd{Path: w.Path, Args: w.Args, Env: env, Stdout: os.Stdout, Stderr: os.Stderr,
			ExtraFiles: w.ExtraFiles(), SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	}, w.UserNS)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 2
	}
	if err := cmd.Wait(); err != nil {
		return 1
	}
	return 0
}
