package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// The attacks on what existed outside the sandbox before the agent did —
// the user's Unix sockets (a tmux server, a server that runs what it is
// sent), the user's other terminal, the launcher and the broker's
// children — and the proof that what the agent makes itself keeps
// working: its own servers, terminals, tmux, ssh-agent. Where the attack
// agent finds them (plain names: credential-like ones are scrubbed).
const (
	envSupRuntimeTmux = "ATTACK_SUP_TMUX_RUNTIME" // the user's tmux, socket in XDG_RUNTIME_DIR
	envSupTmpTmux     = "ATTACK_SUP_TMUX_TMP"     // …and one under /tmp
	envSupRuntimeCmd  = "ATTACK_SUP_CMD_RUNTIME"  // a command-running server, in XDG_RUNTIME_DIR
	envSupTmpCmd      = "ATTACK_SUP_CMD_TMP"      // …under /tmp
	envSupAbstractCmd = "ATTACK_SUP_CMD_ABSTRACT" // …on an abstract name (no leading NUL)
	envSupAllowed     = "ATTACK_SUP_ALLOWED"      // a server of the user's named with --allow-socket
	envSupTerminal    = "ATTACK_SUP_TERMINAL"     // the user's other terminal, /dev/pts/M
	envSupWitness     = "ATTACK_SUP_WITNESS"      // the test process: it counts SIGWINCH
	envSupOwnPrograms = "ATTACK_SUP_OWN_PROGRAMS" // "1": also run real programs of the agent's own (slow)
	supervisorPhase   = "supervisor"
)

// TestAgentModeAttacksSupervisor runs the attacks at each Landlock level
// of the matrix: what the launcher's supervisor guards must hold whatever
// the kernel scopes itself.
func TestAgentModeAttacksSupervisor(t *testing.T) { atEachAttackABI(t, supervisorAttacks) }

// cmdServer is the user's server that runs whatever line it is sent: any
// connection to it at all is an escape.
type cmdServer struct {
	accepted atomic.Int32
	ls       []net.Listener
}

func (s *cmdServer) listen(t *testing.T, network, addr string) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	s.ls = append(s.ls, l)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				if line = strings.TrimSpace(line); line != "" && line != "ping" {
					exec.Command("sh", "-c", line).Run()
				}
				c.Write([]byte("pong\n"))
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
}

func supervisorAttacks(t *testing.T, abi int) {
	root := t.TempDir()
	home, store, work, runDir := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj"), filepath.Join(root, "run")
	for _, d := range []string{home, work, runDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The user's sockets under /tmp live in a directory of their own there
	// (as tmux's /tmp/tmux-UID does), not in the test's temp dir.
	userTmp, err := os.MkdirTemp("/tmp", "llms-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(userTmp) })
	raw := make([]byte, 8)
	rand.Read(raw)
	tag := hex.EncodeToString(raw)

	// The user's tmux servers.
	var tmuxRuntime, tmuxTmp string
	if tmux, err := exec.LookPath("tmux"); err == nil {
		tmuxRuntime, tmuxTmp = filepath.Join(runDir, "tmux-user"), filepath.Join(userTmp, "tmux-user")
		for _, sock := range []string{tmuxRuntime, tmuxTmp} {
			cmd := exec.Command(tmux, "-S", sock, "new-session", "-d", "-s", "user", "sleep 600")
			// tmux runs commands with $SHELL, else the account's shell
			// (nobody's is nologin).
			cmd.Env = append(os.Environ(), "TERM=xterm", "SHELL=/bin/sh")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("starting the user's tmux: %v: %s", err, out)
			}
			t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })
		}
	}
	// The user's command-running servers, and the one --allow-socket names.
	var user, allowed cmdServer
	cmdRuntime, cmdTmp, cmdAbstract := filepath.Join(runDir, "cmd.sock"), filepath.Join(userTmp, "cmd.sock"), "llms-user-cmd-"+tag
	user.listen(t, "unix", cmdRuntime)
	user.listen(t, "unix", cmdTmp)
	user.listen(t, "unix", "@"+cmdAbstract)
	allowedSock := filepath.Join(runDir, "allowed.sock")
	allowed.listen(t, "unix", allowedSock)

	// The user's other terminal, with a keystroke waiting to be read.
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	keystroke := "typed-canary-" + tag
	if _, err := master.Write([]byte(keystroke + "\n")); err != nil {
		t.Fatal(err)
	}

	// The witness: this process, outside the sandbox, in the launcher's
	// process group, counts the SIGWINCH that reach it.
	winch := make(chan os.Signal, 64)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	bin := llmsBin(t)
	agent := attackAgentPath(t, bin)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR=" + runDir, "TERM=xterm", "SHELL=/bin/sh",
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "TMPDIR=" + filepath.Join(root, "tmp"), "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"),
		envAttackLLMS + "=" + bin, envAttackWork + "=" + work, envAttackPhase + "=" + supervisorPhase,
		envSupRuntimeTmux + "=" + tmuxRuntime, envSupTmpTmux + "=" + tmuxTmp,
		envSupRuntimeCmd + "=" + cmdRuntime, envSupTmpCmd + "=" + cmdTmp, envSupAbstractCmd + "=" + cmdAbstract,
		envSupAllowed + "=" + allowedSock, envSupTerminal + "=" + tty.Name(), envSupWitness + "=" + strconv.Itoa(os.Getpid())}
	// The agent's own programs (script, Python, Node, tmux, ssh-agent)
	// depend on the supervisor, which is the same at every ABI, and on
	// Landlock's file rights: they run at the kernel's ABI and the lowest.
	ownPrograms := abi == sandbox.ABI() || abi == 1
	if ownPrograms {
		env = append(env, envSupOwnPrograms+"=1")
	}
	mustDo(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o700))
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "value-"+tag, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	for len(winch) > 0 {
		<-winch
	}

	args := []string{"agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi), "--secret", "K", "--ttl", "10m",
		"--cmd", "sh", "--cmd", "sleep", "--allow-socket", allowedSock, "--", agent}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	t.Logf("llms agent --landlock-abi %d -- attackagent: %v", abi, time.Since(start).Round(time.Millisecond))

	want := map[string]string{
		"tmux-user-runtime-new-window": "refused", "tmux-user-tmp-new-window": "refused",
		"cmd-socket-runtime": "refused", "cmd-socket-tmp": "refused", "cmd-socket-abstract": "refused",
		"cmd-socket-relative": "refused", "cmd-socket-symlink": "refused", "cmd-socket-proc-fd": "refused",
		"swap-address-race": "refused", "dup2-socket-race": "refused",
		"user-terminal-open": "refused", "user-terminal-racing-reader": "refused", "broker-child-terminal": "refused",
		"unix-dgram-socket": "refused", "unix-dgram-socketpair": "refused",
		"io_uring_setup": "refused", "seccomp-listener": "refused",
		"stop-broker-child": "refused", "stop-launcher": "refused", "signal-witness": "refused",
		"tgkill-launcher": "refused", "sigqueue-launcher": "refused", "pidfd-signal-launcher": "refused",
		"proc-dir-signal-launcher": "refused",
		"kill-own-group":           "allowed", "kill-all": "allowed", "kill-own-child": "allowed",
		"own-unix-path": "allowed", "own-unix-relative": "allowed", "own-unix-abstract": "allowed",
		"own-pty-by-path": "allowed", "own-pty-flags": "allowed", "own-pty-relative": "allowed",
		"own-script": "allowed", "own-python-pty": "allowed", "own-python-forkserver": "allowed",
		"own-node-unix-server": "allowed", "own-tmux": "allowed", "own-ssh-agent": "allowed", "own-gpg-agent": "allowed",
		"allowed-socket": "allowed", "broker-exec": "allowed",
	}
	// F_SETOWN toward another process: the supervisor refuses it below
	// ABI 6; from 6 the kernel accepts it and Landlock drops the signal
	// (the witness counts none either way).
	if abi >= 6 {
		want["setown-outside"] = "allowed"
	} else {
		want["setown-outside"] = "refused"
	}
	skipIfMissing := map[string]string{"own-script": "script", "own-python-pty": "python3", "own-python-forkserver": "python3",
		"own-node-unix-server": "node", "own-tmux": "tmux", "own-ssh-agent": "ssh-agent", "own-gpg-agent": "gpg-connect-agent",
		"tmux-user-runtime-new-window": "tmux", "tmux-user-tmp-new-window": "tmux"}
	ownProgram := func(name string) bool {
		_, ok := skipIfMissing[name]
		return ok && strings.HasPrefix(name, "own-")
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		name, got, detail := f[1], f[2], ""
		if len(f) == 4 {
			detail = f[3]
		}
		mark := "ok  "
		if w, known := want[name]; !known || (got != w && got != "skipped") {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s", name, got, detail, w)
		}
		seen[name] = true
		t.Logf("%s %-30s %-8s %s", mark, name, got, detail)
	}
	for name := range want {
		if !seen[name] && (ownPrograms || !ownProgram(name)) {
			if prog, ok := skipIfMissing[name]; ok {
				if _, err := exec.LookPath(prog); err != nil {
					continue
				}
			}
			t.Errorf("attempt %s was not made", name)
		}
	}
	if n := user.accepted.Load(); n != 0 {
		t.Errorf("the user's command servers accepted %d connection(s) from the agent", n)
	}
	if allowed.accepted.Load() == 0 {
		t.Errorf("the socket named by --allow-socket was not reached")
	}
	for _, m := range []string{"pwned-tmux-runtime", "pwned-tmux-tmp", "pwned-cmd"} {
		if _, err := os.Stat(filepath.Join(work, m)); err == nil {
			t.Errorf("a command ran outside the sandbox (%s)", m)
		}
	}
	select {
	case <-winch:
		t.Errorf("a signal from the agent reached a process outside its tree (the test process)")
	default:
	}
	// The keystroke is still where the user's shell would read it.
	tty.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 256)
	n, _ := tty.Read(buf)
	if !strings.Contains(string(buf[:n]), keystroke) {
		t.Errorf("the keystroke typed into the user's other terminal was taken (read %q)", buf[:n])
	}
	// The launch is audited with the socket it allowed.
	audit := mustRun(t, bin, env, "", "audit")
	if !strings.Contains(audit, "agent-start") || !strings.Contains(audit, allowedSock) {
		t.Errorf("agent-start does not name the --allow-socket path:\n%s", audit)
	}
	// The broker's requests name the agent's process that made them, not
	// the launcher, whose supervisor connected them.
	for line := range strings.Lines(mustRun(t, bin, env, "", "audit", "--json")) {
		var rec struct {
			Event, Op string
			PID       int
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Event == "exec" && (rec.PID == 0 || rec.PID == cmd.Process.Pid) {
			t.Errorf("an exec through the broker is audited with pid %d (the launcher is %d)", rec.PID, cmd.Process.Pid)
		}
	}
	if !strings.Contains(errb.String(), allowedSock) {
		t.Errorf("the launch message does not name the --allow-socket path:\n%s", errb.String())
	}
	if strings.Contains(out.String()+errb.String()+audit, keystroke) || strings.Contains(out.String()+errb.String()+audit, "value-"+tag) {
		t.Errorf("a canary appears in the output")
	}
}

// attackSupervisor is the attack agent's supervisor phase.
func attackSupervisor(report func(string, bool, string), llms, work string) int {
	errDetail := func(err error) string {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return "errno " + strconv.Itoa(int(errno)) + " (" + errno.Error() + ")"
		}
		if err != nil {
			return "error"
		}
		return "succeeded"
	}
	have := func(prog string) bool { _, err := exec.LookPath(prog); return err == nil }
	// run runs a program in the working tree: its status, the first line of
	// its output (the detail), and whether the output holds want.
	runFor := func(want string, timeout time.Duration, env []string, name string, args ...string) (int, string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		s, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if len(s) > 100 {
			s = s[:100]
		}
		return code, s, strings.Contains(string(out), want)
	}
	run := func(timeout time.Duration, env []string, name string, args ...string) (int, string) {
		code, s, _ := runFor("", timeout, env, name, args...)
		return code, s
	}
	exists := func(p string, wait time.Duration) bool {
		for end := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(p); err == nil {
				return true
			}
			if time.Now().After(end) {
				return false
			}
		}
	}

	// The user's tmux: a window running a command, outside the sandbox.
	for _, c := range []struct{ name, env, marker string }{
		{"tmux-user-runtime-new-window", envSupRuntimeTmux, "pwned-tmux-runtime"},
		{"tmux-user-tmp-new-window", envSupTmpTmux, "pwned-tmux-tmp"},
	} {
		if sock := os.Getenv(c.env); sock != "" {
			marker := filepath.Join(work, c.marker)
			code, msg := run(5*time.Second, nil, "tmux", "-S", sock, "new-window", "touch "+marker)
			made := exists(marker, 200*time.Millisecond)
			report(c.name, code == 0 || made, fmt.Sprintf("exit %d, command ran: %v: %s", code, made, msg))
		}
	}

	// The user's command servers, by every name that leads to them.
	dialRaw := func(addr []byte) error {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if _, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&addr[0])), uintptr(len(addr))); e != 0 {
			return e
		}
		unix.Write(fd, []byte("touch "+filepath.Join(work, "pwned-cmd")+"\n"))
		return nil
	}
	unixAddr := func(path string) []byte {
		return append(binary.NativeEndian.AppendUint16(nil, unix.AF_UNIX), path...)
	}
	cmdRuntime, cmdTmp := os.Getenv(envSupRuntimeCmd), os.Getenv(envSupTmpCmd)
	err := dialRaw(unixAddr(cmdRuntime))
	report("cmd-socket-runtime", err == nil, errDetail(err))
	err = dialRaw(unixAddr(cmdTmp))
	report("cmd-socket-tmp", err == nil, errDetail(err))
	err = dialRaw(unixAddr("\x00" + os.Getenv(envSupAbstractCmd)))
	report("cmd-socket-abstract", err == nil, errDetail(err))
	if wd, werr := os.Getwd(); werr == nil {
		os.Chdir(filepath.Dir(cmdTmp))
		err = dialRaw(unixAddr(filepath.Base(cmdTmp)))
		os.Chdir(wd)
		report("cmd-socket-relative", err == nil, errDetail(err))
	}
	link := filepath.Join(work, "link.sock")
	if err := os.Symlink(cmdRuntime, link); err != nil {
		return setupFailed(err)
	}
	err = dialRaw(unixAddr(link))
	report("cmd-socket-symlink", err == nil, errDetail(err))
	if f, ferr := os.OpenFile(filepath.Dir(cmdTmp), unix.O_PATH, 0); ferr == nil {
		err = dialRaw(unixAddr(fmt.Sprintf("/proc/self/fd/%d/cmd.sock", f.Fd())))
		f.Close()
		report("cmd-socket-proc-fd", err == nil, errDetail(err))
	}

	// Races: one goroutine flips the address between the agent's own TCP
	// server and the user's socket while connects go on; another swaps a
	// Unix socket and a TCP socket under the descriptor being connected.
	tcp, _ := net.Listen("tcp", "127.0.0.1:0")
	if tcp != nil {
		go func() {
			for {
				c, err := tcp.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		defer tcp.Close()
		port := tcp.Addr().(*net.TCPAddr).Port
		var inet, unixA [16]uint64
		in4 := make([]byte, 128)
		binary.NativeEndian.PutUint16(in4, unix.AF_INET)
		binary.BigEndian.PutUint16(in4[2:], uint16(port))
		copy(in4[4:], []byte{127, 0, 0, 1})
		un := make([]byte, 128)
		copy(un, unixAddr(cmdTmp))
		for i := range inet {
			inet[i], unixA[i] = binary.NativeEndian.Uint64(in4[i*8:]), binary.NativeEndian.Uint64(un[i*8:])
		}
		var live [16]uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		flip := func(a, b *[16]uint64, dst *[16]uint64) {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				src := a
				if k%2 == 1 {
					src = b
				}
				for i := range dst {
					atomic.StoreUint64(&dst[i], src[i])
				}
			}
		}
		wg.Add(1)
		go flip(&inet, &unixA, &live)
		escaped, tries := 0, 0
		for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); tries++ {
			for _, family := range []int{unix.AF_INET, unix.AF_UNIX} {
				fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					continue
				}
				_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&live[0])), 110)
				if e == 0 && family == unix.AF_UNIX {
					escaped++
				}
				unix.Close(fd)
			}
		}
		close(stop)
		wg.Wait()
		report("swap-address-race", escaped > 0, fmt.Sprintf("%d Unix connects succeeded in %d tries", escaped, tries))

		// dup2: connect descriptor N to the user's socket path while N is
		// swapped between a TCP socket and a Unix socket.
		target := unixAddr(cmdTmp)
		n, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		stop2 := make(chan struct{})
		var wg2 sync.WaitGroup
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for k := 0; ; k++ {
				select {
				case <-stop2:
					return
				default:
				}
				family := unix.AF_INET
				if k%2 == 1 {
					family = unix.AF_UNIX
				}
				if s, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
					unix.Dup3(s, n, unix.O_CLOEXEC)
					unix.Close(s)
				}
			}
		}()
		escaped, tries = 0, 0
		for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); tries++ {
			if _, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(n), uintptr(unsafe.Pointer(&target[0])), uintptr(len(target))); e == 0 {
				escaped++
			}
		}
		close(stop2)
		wg2.Wait()
		unix.Close(n)
		report("dup2-socket-race", escaped > 0, fmt.Sprintf("%d connects succeeded in %d tries", escaped, tries))
	}

	// The user's other terminal: opened, and raced by a reader.
	term := os.Getenv(envSupTerminal)
	opened := []string{}
	for _, flags := range []int{unix.O_RDWR | unix.O_NOCTTY, unix.O_RDONLY | unix.O_NOCTTY | unix.O_NONBLOCK, unix.O_WRONLY | unix.O_NOCTTY} {
		if fd, err := unix.Open(term, flags, 0); err == nil {
			unix.Close(fd)
			opened = append(opened, strconv.Itoa(flags))
		}
	}
	if fd, err := unix.Openat(unix.AT_FDCWD, "/dev/pts/../pts/"+filepath.Base(term), unix.O_RDWR|unix.O_NOCTTY, 0); err == nil {
		unix.Close(fd)
		opened = append(opened, "dotdot")
	}
	if fd, err := unix.Openat2(unix.AT_FDCWD, term, &unix.OpenHow{Flags: unix.O_RDWR | unix.O_NOCTTY}); err == nil {
		unix.Close(fd)
		opened = append(opened, "openat2")
	}
	report("user-terminal-open", len(opened) > 0, fmt.Sprintf("opened with %v", opened))
	got, attempts := 0, 0
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); attempts++ {
		if fd, err := unix.Open(term, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0); err == nil {
			b := make([]byte, 256)
			if n, _ := unix.Read(fd, b); n > 0 {
				got += n
			}
			unix.Close(fd)
		}
	}
	report("user-terminal-racing-reader", got > 0, fmt.Sprintf("%d bytes in %d attempts", got, attempts))

	// The agent's own terminal, and the broker's child's, made for an exec
	// on it: the child's terminal is the broker's, not the agent's.
	ownPty := func(extra int) (master, slave int, index int, err error) {
		master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, -1, 0, err
		}
		if err = unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err == nil {
			index, err = unix.IoctlGetInt(master, unix.TIOCGPTN)
		}
		if err == nil {
			slave, err = unix.Open("/dev/pts/"+strconv.Itoa(index), unix.O_RDWR|unix.O_NOCTTY|extra, 0)
		}
		if err != nil {
			unix.Close(master)
			return -1, -1, 0, err
		}
		return master, slave, index, nil
	}
	if m, s, index, err := ownPty(0); err != nil {
		report("own-pty-by-path", false, errDetail(err))
	} else {
		unix.Write(m, []byte("hello\n"))
		b := make([]byte, 16)
		n, _ := unix.Read(s, b)
		report("own-pty-by-path", string(b[:n]) == "hello\n", fmt.Sprintf("/dev/pts/%d, read %q", index, b[:n]))
		// An exec on its own terminal: the broker runs the child on a
		// terminal of its own, whose number is near.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		child := exec.CommandContext(ctx, llms, "exec", "-i", "V=K", "--", "sleep", "3")
		tf := os.NewFile(uintptr(s), "pts")
		child.Stdin, child.Stdout, child.Stderr = tf, tf, tf
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		opens := []string{}
		if child.Start() == nil {
			// Once the broker's child runs, its terminal exists.
			for end := time.Now().Add(5 * time.Second); findChild(os.Getppid(), "sleep") == 0 && time.Now().Before(end); {
				time.Sleep(20 * time.Millisecond)
			}
			for i := index + 1; i < index+8; i++ {
				p := "/dev/pts/" + strconv.Itoa(i)
				if p == term {
					continue
				}
				if fd, err := unix.Open(p, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0); err == nil {
					unix.Close(fd)
					opens = append(opens, p)
				}
			}
			child.Process.Kill()
			child.Wait()
		}
		cancel()
		report("broker-child-terminal", len(opens) > 0, fmt.Sprintf("opened %v", opens))
		tf.Close()
		unix.Close(m)
	}
	if m, s, _, err := ownPty(unix.O_NONBLOCK | unix.O_CLOEXEC); err != nil {
		report("own-pty-flags", false, errDetail(err))
	} else {
		fl, _ := unix.FcntlInt(uintptr(s), unix.F_GETFL, 0)
		fdfl, _ := unix.FcntlInt(uintptr(s), unix.F_GETFD, 0)
		report("own-pty-flags", fl&unix.O_NONBLOCK != 0 && fdfl&unix.FD_CLOEXEC != 0, fmt.Sprintf("flags %#x, fd flags %#x", fl, fdfl))
		unix.Close(s)
		unix.Close(m)
	}
	if m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0); err != nil {
		report("own-pty-relative", false, errDetail(err))
	} else {
		unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0)
		index, _ := unix.IoctlGetInt(m, unix.TIOCGPTN)
		dir, derr := unix.Open("/dev/pts", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		s, err := -1, derr
		if derr == nil {
			s, err = unix.Openat(dir, strconv.Itoa(index), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
			unix.Close(dir)
		}
		report("own-pty-relative", err == nil, errDetail(err))
		if err == nil {
			unix.Close(s)
		}
		unix.Close(m)
	}
	heavy := os.Getenv(envSupOwnPrograms) == "1"
	if heavy && have("script") {
		code, msg := run(10*time.Second, nil, "script", "-q", "-c", "true", "/dev/null")
		report("own-script", code == 0, fmt.Sprintf("exit %d: %s", code, msg))
	}
	if heavy && have("python3") {
		code, msg := run(10*time.Second, nil, "python3", "-c", "import pty, os\nm, s = pty.openpty()\nos.write(m, b'x\\n')\nassert os.read(s, 8) == b'x\\n'\npty.spawn(['true'])")
		report("own-python-pty", code == 0, fmt.Sprintf("exit %d: %s", code, msg))
		code, msg = run(30*time.Second, nil, "python3", "-c", "import multiprocessing as mp\nif __name__ == '__main__':\n    mp.set_start_method('forkserver')\n    with mp.Pool(1) as p:\n        print(p.apply(abs, (-3,)))")
		report("own-python-forkserver", code == 0 && msg == "3", fmt.Sprintf("exit %d: %s", code, msg))
	}

	// The agent's own Unix servers: by path, relative path, abstract name.
	echo := func(network, listen, dial string) error {
		l, err := net.Listen(network, listen)
		if err != nil {
			return err
		}
		defer l.Close()
		go func() {
			if c, err := l.Accept(); err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		c, err := net.DialTimeout(network, dial, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("ping"))
		b := make([]byte, 4)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		return nil
	}
	own := filepath.Join(work, "own.sock")
	err = echo("unix", own, own)
	report("own-unix-path", err == nil, errDetail(err))
	os.Remove(own)
	if wd, werr := os.Getwd(); werr == nil {
		os.Chdir(work)
		err = echo("unix", "own-rel.sock", "own-rel.sock")
		os.Chdir(wd)
		report("own-unix-relative", err == nil, errDetail(err))
	}
	abstract := "@llms-own-" + strconv.Itoa(os.Getpid())
	err = echo("unix", abstract, abstract)
	report("own-unix-abstract", err == nil, errDetail(err))
	if heavy && have("node") {
		code, msg := run(10*time.Second, nil, "node", "-e", `const net=require('net');const p=process.cwd()+'/node.sock';
const s=net.createServer(c=>c.pipe(c)).listen(p,()=>{const c=net.connect(p,()=>c.write('hi'));c.on('data',d=>{console.log(String(d));c.end();s.close()})});`)
		report("own-node-unix-server", code == 0 && msg == "hi", fmt.Sprintf("exit %d: %s", code, msg))
	}
	if heavy && have("tmux") {
		sock, marker := filepath.Join(work, "own-tmux"), filepath.Join(work, "own-tmux-ran")
		code, msg := run(10*time.Second, nil, "tmux", "-S", sock, "new-session", "-d", "sleep 30")
		if code == 0 {
			code, msg = run(10*time.Second, nil, "tmux", "-S", sock, "new-window", "touch "+marker)
		}
		made := exists(marker, 3*time.Second)
		run(5*time.Second, nil, "tmux", "-S", sock, "kill-server")
		report("own-tmux", code == 0 && made, fmt.Sprintf("exit %d, command ran: %v: %s", code, made, msg))
	}
	if heavy && have("ssh-agent") && have("ssh-add") {
		sock := filepath.Join(work, "ssh-agent.sock")
		agent := exec.Command("ssh-agent", "-D", "-a", sock)
		if agent.Start() == nil {
			exists(sock, 3*time.Second)
			// ssh-add -l: 1 is "no identities" (it connected), 2 "cannot connect".
			code, msg := run(10*time.Second, []string{"SSH_AUTH_SOCK=" + sock}, "ssh-add", "-l")
			agent.Process.Kill()
			agent.Wait()
			report("own-ssh-agent", code == 1, fmt.Sprintf("ssh-add -l: exit %d: %s", code, msg))
		}
	}

	if heavy && have("gpg-connect-agent") && have("gpgconf") {
		home := filepath.Join(work, "gnupg")
		os.Mkdir(home, 0o700)
		env := []string{"GNUPGHOME=" + home}
		// It starts a gpg-agent of the agent's own and connects to it.
		code, msg, answered := runFor("\nOK", 20*time.Second, env, "gpg-connect-agent", "GETINFO version", "/bye")
		run(5*time.Second, env, "gpgconf", "--kill", "gpg-agent")
		report("own-gpg-agent", code == 0 && answered, fmt.Sprintf("exit %d, answered %v: %s", code, answered, msg))
	}

	// Unix datagram sockets send to any path without connect.
	_, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	report("unix-dgram-socket", err == nil, errDetail(err))
	_, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	report("unix-dgram-socketpair", err == nil, errDetail(err))
	// io_uring runs its operations where no seccomp filter sees them.
	var params [120]byte
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&params[0])), 0)
	if e == 0 {
		unix.Close(int(fd))
	}
	report("io_uring_setup", e == 0, errDetail(errnoOrNil(e)))
	// A filter of the agent's own with a listener would answer before the
	// launcher's. The filter tried allows everything; its thread ends.
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		allowAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
		prog := unix.SockFprog{Len: 1, Filter: &allowAll[0]}
		lfd, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&prog)))
		if e == 0 {
			unix.Close(int(lfd))
		}
		done <- errnoOrNil(e)
	}()
	err = <-done
	report("seccomp-listener", err == nil, errDetail(err))

	// Signals: the broker's child holding the value, the launcher, the
	// test process outside (the witness counts SIGWINCH).
	launcher := os.Getppid()
	witness, _ := strconv.Atoi(os.Getenv(envSupWitness))
	child, stopChild := startSleeper(llms)
	if child > 0 {
		err = unix.Kill(child, unix.SIGSTOP)
		unix.Kill(child, unix.SIGCONT)
		report("stop-broker-child", err == nil, errDetail(err))
	}
	stopChild()
	err = unix.Kill(launcher, unix.SIGSTOP)
	unix.Kill(launcher, unix.SIGCONT)
	report("stop-launcher", err == nil, errDetail(err))
	err = unix.Kill(witness, unix.SIGWINCH)
	report("signal-witness", err == nil, errDetail(err))
	err = unix.Tgkill(launcher, launcher, unix.SIGWINCH)
	report("tgkill-launcher", err == nil, errDetail(err))
	var si [128]byte
	binary.NativeEndian.PutUint32(si[0:], uint32(unix.SIGWINCH))
	binary.NativeEndian.PutUint32(si[8:], 1<<32-1) // SI_QUEUE
	_, _, e = unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(launcher), uintptr(unix.SIGWINCH), uintptr(unsafe.Pointer(&si[0])))
	report("sigqueue-launcher", e == 0, errDetail(errnoOrNil(e)))
	if pfd, err := unix.PidfdOpen(launcher, 0); err == nil {
		err = unix.PidfdSendSignal(pfd, unix.SIGWINCH, nil, 0)
		unix.Close(pfd)
		report("pidfd-signal-launcher", err == nil, errDetail(err))
	} else {
		report("pidfd-signal-launcher", false, "pidfd_open: "+errDetail(err))
	}
	if dfd, err := unix.Open("/proc/"+strconv.Itoa(launcher), unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		err = unix.PidfdSendSignal(dfd, unix.SIGWINCH, nil, 0)
		unix.Close(dfd)
		report("proc-dir-signal-launcher", err == nil, errDetail(err))
	} else {
		report("proc-dir-signal-launcher", false, "open: "+errDetail(err))
	}
	// Its own group (the launcher's and the test's too) and kill(-1):
	// the agent's own processes get them, nothing outside (the witness).
	err = unix.Kill(0, unix.SIGWINCH)
	report("kill-own-group", err == nil, errDetail(err))
	err = unix.Kill(-1, unix.SIGWINCH)
	report("kill-all", err == nil, errDetail(err))
	// SIGIO toward the witness, through a pipe it owns.
	var p [2]int
	if unix.Pipe2(p[:], unix.O_CLOEXEC) == nil {
		_, err = unix.FcntlInt(uintptr(p[0]), unix.F_SETOWN, witness)
		if err == nil {
			unix.FcntlInt(uintptr(p[0]), unix.F_SETSIG, int(unix.SIGWINCH))
			fl, _ := unix.FcntlInt(uintptr(p[0]), unix.F_GETFL, 0)
			unix.FcntlInt(uintptr(p[0]), unix.F_SETFL, fl|unix.O_ASYNC)
			unix.Write(p[1], []byte("x"))
		}
		report("setown-outside", err == nil, errDetail(err))
		unix.Close(p[0])
		unix.Close(p[1])
	}
	sleeper := exec.Command("sleep", "30")
	if sleeper.Start() == nil {
		err = sleeper.Process.Signal(syscall.SIGTERM)
		sleeper.Wait()
		report("kill-own-child", err == nil, errDetail(err))
	}

	// What the user allowed, and the broker, still reachable.
	c, err := net.DialTimeout("unix", os.Getenv(envSupAllowed), 5*time.Second)
	if err == nil {
		c.Write([]byte("ping\n"))
		c.Close()
	}
	report("allowed-socket", err == nil, errDetail(err))
	code, msg := run(20*time.Second, nil, llms, "exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)
	report("broker-exec", code == 0, fmt.Sprintf("exit %d: %s", code, msg))
	return 0
}

func errnoOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
