package sandbox

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// supervisedLauncher plays llms agent's launcher, as whichever user runs
// it: it holds what the user has outside the sandbox — a Unix server by
// path and by abstract name, a terminal, a process (the broker's child's
// stand-in) — starts the probe under the agent's filter with a supervisor,
// relays the probe's lines and says how many connections its server
// accepted. args: ABI, serve|close-first|unsupervised, then the probe's op/target
// pairs, whose targets may name USER_SOCK, USER_ABSTRACT, ALLOWED_SOCK,
// USER_PTS, OUTSIDE_PID, LAUNCHER_PID and DIR.
func supervisedLauncher(args []string) int {
	if len(args) < 2 {
		return 2
	}
	abi, _ := strconv.Atoi(args[0])
	closeFirst, supervised := args[1] == "close-first", args[1] != "unsupervised"
	dir, err := os.MkdirTemp("", "sup")
	if err != nil {
		return 2
	}
	defer os.RemoveAll(dir)
	var accepted atomic.Int32
	serve := func(addr string) (net.Listener, error) {
		l, err := net.Listen("unix", addr)
		if err == nil {
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					accepted.Add(1)
					c.Close()
				}
			}()
		}
		return l, err
	}
	userSock, allowedSock, userAbstract := filepath.Join(dir, "user.sock"), filepath.Join(dir, "allowed.sock"), fmt.Sprintf("@llms-sup-user-%d", os.Getpid())
	for _, a := range []string{userSock, userAbstract} {
		l, err := serve(a)
		if err != nil {
			return 2
		}
		defer l.Close()
	}
	// A socket file nobody listens on any more (its server died).
	stale, err := net.Listen("unix", filepath.Join(dir, "stale.sock"))
	if err != nil {
		return 2
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	al, err := net.Listen("unix", allowedSock)
	if err != nil {
		return 2
	}
	defer al.Close()
	go func() {
		for {
			c, err := al.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return 2
	}
	defer m.Close()
	unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0)
	n, _ := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	outside := exec.Command("sleep", "60")
	if outside.Start() != nil {
		return 2
	}
	defer func() { outside.Process.Kill(); outside.Wait() }()

	r, err := BuildFor(Spec{Read: []string{"/"}, Write: []string{dir}, Devices: []string{"/dev/null", "/dev/ptmx", "/dev/pts/ptmx", "/dev/tty"},
		Deny: []string{"/dev"}, Supervised: supervised}, abi)
	if err != nil {
		fmt.Println("rules:", err)
		return 2
	}
	var sup *Supervisor
	if supervised {
		if sup, err = NewSupervisor(r, []string{allowedSock}); err != nil {
			fmt.Println("supervisor:", err)
			return 2
		}
		defer sup.Close()
	}
	names := []string{"USER_SOCK", userSock, "USER_ABSTRACT", userAbstract, "ALLOWED_SOCK", allowedSock,
		"USER_PTS", "/dev/pts/" + strconv.Itoa(n), "OUTSIDE_PID", strconv.Itoa(outside.Process.Pid),
		"LAUNCHER_PID", strconv.Itoa(os.Getpid()), "DIR", dir}
	repl := strings.NewReplacer(names...)
	probeArgs := []string{}
	for _, a := range args[2:] {
		probeArgs = append(probeArgs, repl.Replace(a))
	}
	// The probe's lines name the targets as given here.
	var back []string
	for i := 0; i < len(names); i += 2 {
		back = append(back, names[i+1], names[i])
	}
	unrepl := strings.NewReplacer(back...)
	bin, err := os.Executable()
	if err != nil {
		return 2
	}
	w, err := Wrap(r, bin, bin, bin, append([]string{bin}, probeArgs...))
	if err != nil {
		return 2
	}
	var probeOut bytes.Buffer
	cmd := &exec.Cmd{Path: w.Path, Args: w.Args, ExtraFiles: w.ExtraFiles(), Stdout: &probeOut, Stderr: os.Stderr,
		Env: []string{probeEnv + "=1", "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0", "TMPDIR=" + dir}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 2
	}
	if err := cmd.Start(); err != nil {
		return 2
	}
	w.Close()
	if sup != nil {
		if err := sup.Start(w); err != nil {
			fmt.Println("start:", err)
			cmd.Process.Kill()
		}
	}
	if closeFirst {
		sup.Close()
	}
	fmt.Fprintln(stdin)
	if err := cmd.Wait(); err != nil {
		fmt.Println("probe:", err)
	}
	for line := range strings.Lines(probeOut.String()) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		fmt.Printf("%s: %s\n", unrepl.Replace(k), v)
	}
	fmt.Printf("accepted: %d\n", accepted.Load())
	return 0
}

// TestSupervisor: under the agent's filter, a program reaches the Unix
// sockets the user has (by path, by abstract name) only when allowed,
// its own always; opens its own terminal by path but not the user's;
// cannot stop a process outside its tree or the launcher; has no io_uring
// and no Unix datagram socket — at this kernel's ABI and at 4 (signals
// then through the supervisor), with the launcher as root and as nobody.
func TestSupervisor(t *testing.T) {
	requireLandlock(t)
	bin := self(t)
	ops := []string{"connect", "USER_SOCK", "connect", "USER_ABSTRACT", "connect", "ALLOWED_SOCK",
		"serve", "DIR/own.sock", "serve", "@llms-sup-own-DIR", "ownpty", "-", "open", "USER_PTS",
		"stop", "OUTSIDE_PID", "stop", "LAUNCHER_PID", "iouring", "-", "dgram", "-", "connect", "DIR/stale.sock"}
	want := map[string]string{"connect USER_SOCK": "denied 13", "connect USER_ABSTRACT": "denied 13", "connect ALLOWED_SOCK": "ok",
		"serve DIR/own.sock": "ok", "serve @llms-sup-own-DIR": "ok", "ownpty -": "ok", "open USER_PTS": "denied 13",
		"stop OUTSIDE_PID": "denied 1", "stop LAUNCHER_PID": "denied 1", "iouring -": "denied 38", "dgram -": "denied 1",
		"connect DIR/stale.sock": "denied 111", "accepted": "0"}
	abis := supervisedABIs()
	users := map[string]*syscall.Credential{"self": nil}
	if os.Getuid() == 0 {
		users["nobody"] = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	tmp, err := os.MkdirTemp("", "sup-tmp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	must(t, os.Chmod(tmp, 0o1777))
	launch := func(t *testing.T, cred *syscall.Credential, args ...string) map[string]string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{supEnv + "=1", "TMPDIR=" + tmp, "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0"}
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return launcherLines(t, cmd)
	}
	for _, abi := range abis {
		for who, cred := range users {
			t.Run(fmt.Sprintf("abi%d-%s", abi, who), func(t *testing.T) {
				res := launch(t, cred, append([]string{strconv.Itoa(abi), "serve"}, ops...)...)
				for i := 0; i < len(ops); i += 2 {
					k := ops[i] + " " + ops[i+1]
					got := res[k]
					t.Logf("%-30s %s", k, got)
					if got != want[k] {
						t.Errorf("%s: %q, want %q", k, got, want[k])
					}
				}
				if res["accepted"] != "0" {
					t.Errorf("the user's server accepted %s connection(s)", res["accepted"])
				}
			})
		}
	}
	// The control: confined the same way but unsupervised (a broker
	// child's filter), at ABI 4, the user's socket, abstract name and
	// process are reached; Landlock alone keeps the terminal closed.
	t.Run("unsupervised-abi4", func(t *testing.T) {
		if ABI() < 4 {
			t.Skip("needs ABI 4")
		}
		res := launch(t, nil, append([]string{"4", "unsupervised"}, ops...)...)
		for k, v := range map[string]string{"connect USER_SOCK": "ok", "connect USER_ABSTRACT": "ok", "open USER_PTS": "denied 13",
			"stop OUTSIDE_PID": "ok", "iouring -": "ok", "dgram -": "ok"} {
			t.Logf("%-30s %s", k, res[k])
			if res[k] != v {
				t.Errorf("unsupervised %s: %q, want %q", k, res[k], v)
			}
		}
	})
	// Fail closed: once the supervisor is gone, a mediated call fails.
	t.Run("closed", func(t *testing.T) {
		res := launch(t, nil, strconv.Itoa(ABI()), "close-first", "waitstdin", "-", "connect", "ALLOWED_SOCK")
		if got, want := res["connect ALLOWED_SOCK"], fmt.Sprintf("denied %d", unix.ENOSYS); got != want {
			t.Errorf("connect after the supervisor closed: %q, want %q", got, want)
		}
	})
}

// supervisedABIs are this kernel's ABI and 4 (signals then through the
// supervisor; Landlock's TCP rule the lowest it has).
func supervisedABIs() []int {
	var abis []int
	for _, a := range []int{ABI(), 4} {
		if a <= ABI() && !slices.Contains(abis, a) {
			abis = append(abis, a)
		}
	}
	return abis
}

// launcherLines runs a test launcher and reads its "key: value" lines.
func launcherLines(t *testing.T, cmd *exec.Cmd) map[string]string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("launcher: %v\n%s%s", err, out.String(), errb.String())
	}
	res := map[string]string{}
	for line := range strings.Lines(out.String()) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		res[k] = v
	}
	return res
}

// A connection the agent closes before the broker accepts it is never
// asked for: the record of them stays bounded, closing what it drops, so
// that a loop of connect and close cannot spend the launcher's descriptors.
func TestRememberedConnsAreBounded(t *testing.T) {
	s := &Supervisor{conns: map[uint64]pinned{}}
	open := func() int { fds, _ := os.ReadDir("/proc/self/fd"); return len(fds) }
	before := open()
	for i := range maxConns + 50 {
		p, err := pin(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		s.rememberConn(uint64(i+1), p)
	}
	if len(s.conns) > maxConns {
		t.Fatalf("%d connections remembered, at most %d", len(s.conns), maxConns)
	}
	if n := open() - before; n > maxConns {
		t.Fatalf("%d descriptors left open for %d connections remembered", n, len(s.conns))
	}
	for _, p := range s.conns {
		p.close()
	}
}
