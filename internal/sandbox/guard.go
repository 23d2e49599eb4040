package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// GuardArg is the hidden first argument of the agent's guard, `llms
// __agent-guard`, with its control socket as descriptor 3. cmd/llms
// dispatches it first, as ExecArg.
//
// The guard sits between the launcher and the agent, outside the sandbox:
// a child subreaper, so that everything the agent starts stays in its tree
// whatever double-forks and new sessions it makes. When the agent exits,
// or the launcher dies (however: the launcher holds the only other end of
// the control socket, and the kernel closes it), the guard ends the whole
// tree and exits. The launcher in turn waits for the guard: if the guard
// dies, the agent dies with it (a parent-death signal), its tree is
// re-parented to the launcher, also a subreaper, and the launcher ends it.
//
// The launcher starts the guard first thing (StartGuard), so that the
// guard's own start overlaps the launcher's (the store, the rules, the
// token), and sends it what to start once it knows (Guard.Start): one
// message on the control socket, a big-endian uint32 length and a JSON
// guardStart, with the agent's descriptors 3, 4, … passed along
// (SCM_RIGHTS).
const GuardArg = "__agent-guard"

// guardFD is the guard's control socket.
const guardFD = 3

// Bounds on the start message: the agent's environment and arguments are
// the launcher's, which the kernel bounds far below this.
const (
	maxGuardStart = 16 << 20
	maxGuardFiles = 16
)

// guardTreeDeadline bounds how long the guard, and the launcher after it,
// spend ending a tree.
const guardTreeDeadline = 5 * time.Second

// guardStart is what the guard starts: Path with Args and Env, with the
// Files descriptors passed along as its 3, 4, …; in the cgroup v2
// directory Cgroup ("" for none), in which the agent starts and which is
// killed whole (cgroup.kill: no fork outruns it); Remove is a directory of
// the launch (the broker's socket directory, "" for none) that the guard
// removes if the launcher dies, as the launcher would have.
type guardStart struct {
	Path   string   `json:"path"`
	Args   []string `json:"args"`
	Env    []string `json:"env"`
	Files  int      `json:"files"`
	Cgroup string   `json:"cgroup,omitempty"`
	Remove string   `json:"remove,omitempty"`
	// UserNS: in a user namespace of its own (Wrapped.UserNS).
	UserNS bool `json:"user_ns,omitempty"`
}

// Guard is the guard process, from the launcher's side.
type Guard struct {
	cmd *exec.Cmd
	// ctl is the launcher's end of the control socket, held until Wait
	// returns: its closing is how the guard learns the launcher is gone.
	ctl     *os.File
	cgroup  *Cgroup // nil without one
	started bool
}

// StartGuard starts the guard, self (llms) re-exec'd, on the launcher's
// standard streams, which the agent will get. It has no parent-death
// signal: it must outlive a launcher that is killed, to end the tree.
// Start it after NoCoreDumps: it and the agent inherit the limits.
func StartGuard(self string, stdin io.Reader, stdout, stderr io.Writer) (*Guard, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: the guard's socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "guard"), os.NewFile(uintptr(pair[1]), "launcher")
	defer theirs.Close()
	cmd := &exec.Cmd{Path: self, Args: []string{"llms", GuardArg}, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		ExtraFiles: []*os.File{theirs}}
	if err := cmd.Start(); err != nil {
		ours.Close()
		return nil, fmt.Errorf("sandbox: starting the guard: %w", err)
	}
	return &Guard{cmd: cmd, ctl: ours}, nil
}

// Start tells the guard to start w (its Path with its Args, its
// ExtraFiles as descriptors 3, 4, …, in a user namespace if it says so)
// with env, in cg (nil for none); the guard removes the directory remove
// ("" for none) if the launcher dies.
func (g *Guard) Start(w *Wrapped, env []string, cg *Cgroup, remove string) error {
	files := w.ExtraFiles()
	if len(files) > maxGuardFiles {
		return fmt.Errorf("sandbox: %d descriptors for the agent, at most %d", len(files), maxGuardFiles)
	}
	msg := guardStart{Path: w.Path, Args: w.Args, Env: env, Files: len(files), Remove: remove, UserNS: w.UserNS}
	if cg != nil {
		msg.Cgroup = cg.Dir
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	head := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	var rights []byte
	if len(fds) > 0 {
		rights = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(g.ctl.Fd()), head, rights, nil, 0); err != nil {
		return fmt.Errorf("sandbox: telling the guard what to start: %w", err)
	}
	if _, err := g.ctl.Write(body); err != nil {
		return fmt.Errorf("sandbox: telling the guard what to start: %w", err)
	}
	g.cgroup, g.started = cg, true
	return nil
}

// Abort ends a guard that was told nothing to start: it exits at once.
func (g *Guard) Abort() {
	if g.started {
		return
	}
	g.ctl.Close()
	g.cmd.Wait()
}

// Signal sends sig to the guard, which relays it to the agent.
func (g *Guard) Signal(sig os.Signal) error { return g.cmd.Process.Signal(sig) }

// Wait waits for the guard and returns the agent's status, 128+n when
// signal n killed it. died is set when the guard itself was killed: the
// agent was killed with it, and its tree is the launcher's to end (End).
func (g *Guard) Wait() (status int, died syscall.Signal, err error) {
	defer g.ctl.Close()
	err = g.cmd.Wait()
	if g.cmd.ProcessState == nil {
		return 0, 0, err
	}
	ws, _ := g.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		// The agent's parent-death signal.
		return 128 + int(syscall.SIGKILL), ws.Signal(), nil
	}
	return ws.ExitStatus(), 0, nil
}

// Kill kills the agent's cgroup at once, if it has one: after the guard
// died, before anything else is done.
func (g *Guard) Kill() {
	if g.cgroup != nil {
		g.cgroup.Kill()
	}
}

// End ends every process left in the launcher's tree and the agent's
// cgroup, reaps them, removes the cgroup, and returns how many it killed.
// It reaps with wait4(-1), as EndTree.
func (g *Guard) End() int {
	g.Kill()
	n := EndTree(guardTreeDeadline)
	if g.cgroup != nil {
		g.cgroup.Remove()
	}
	return n
}

// GuardMain runs the GuardArg entry point with the arguments after
// GuardArg (none). It returns the agent's status (128+n for signal n); 0
// when the launcher goes before saying what to start; 126 or 127 after
// one line on stderr when it cannot start it.
func GuardMain(args []string, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "llms: "+GuardArg+": "+format+"\n", a...)
		return 126
	}
	if len(args) != 0 {
		return fail("takes no arguments")
	}
	// Descriptor 3 must be the launcher's socket, not something this
	// process opened there itself because nothing was passed.
	if typ, err := unix.GetsockoptInt(guardFD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return fail("descriptor %d is not the launcher's socket", guardFD)
	}
	// No descriptor the launcher inherited reaches the agent but those it
	// passes (exec.Cmd clears close-on-exec on ExtraFiles).
	if err := unix.CloseRange(guardFD, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail("closing inherited descriptors: %v", err)
	}
	if err := BecomeSubreaper(); err != nil {
		return fail("becoming a subreaper: %v", err)
	}
	// INT and QUIT come from the keyboard to the agent directly; the
	// launcher relays the others here. Caught, not ignored: an ignored
	// signal would stay ignored in the agent.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	ctl := os.NewFile(guardFD, "launcher")
	msg, files, err := readGuardStart(ctl)
	if errors.Is(err, errNothingToStart) {
		return 0
	}
	if err != nil {
		return fail("%v", err)
	}
	var cg *Cgroup
	if msg.Cgroup != "" {
		if cg, err = openCgroup(msg.Cgroup); err != nil {
			return fail("%v", err)
		}
	}
	gone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, ctl)
		close(gone)
	}()
	agent, exited, err := startAgent(msg, files, cg)
	if err != nil {
		fmt.Fprintf(stderr, "llms: %s: %v\n", msg.Path, err)
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
			return 127
		}
		return 126
	}
	end := func() int {
		live, _ := descendants(os.Getpid())
		if cg != nil {
			cg.Kill()
		}
		EndTree(guardTreeDeadline)
		if cg != nil {
			cg.Remove()
		}
		return len(live)
	}
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGINT && sig != syscall.SIGQUIT {
				_ = agent.Signal(sig)
			}
		case <-gone:
			end()
			if msg.Remove != "" {
				os.RemoveAll(msg.Remove)
			}
			return 128 + int(syscall.SIGKILL)
		case status := <-exited:
			if n := end(); n > 0 {
				fmt.Fprintf(stderr, "llms: ended %d process(es) the agent left behind\n", n)
			}
			return status
		}
	}
}

// errNothingToStart: the launcher closed the socket before saying what to
// start (its launch failed first).
var errNothingToStart = errors.New("nothing to start")

// readGuardStart reads the start message and the descriptors passed with
// it; errNothingToStart when the launcher closed the socket first.
func readGuardStart(ctl *os.File) (guardStart, []*os.File, error) {
	var msg guardStart
	head := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(4*maxGuardFiles))
	n, oobn, flags, _, err := unix.Recvmsg(int(ctl.Fd()), head, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return msg, nil, fmt.Errorf("reading what to start: %w", err)
	}
	if n == 0 {
		return msg, nil, errNothingToStart
	}
	var files []*os.File
	if oobn > 0 {
		cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return msg, nil, fmt.Errorf("reading what to start: %w", err)
		}
		for _, c := range cmsgs {
			fds, err := unix.ParseUnixRights(&c)
			if err != nil {
				return msg, nil, fmt.Errorf("reading what to start: %w", err)
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "agent"))
			}
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		return msg, nil, fmt.Errorf("more than %d descriptors for the agent", maxGuardFiles)
	}
	if _, err := io.ReadFull(ctl, head[n:]); err != nil {
		return msg, nil, fmt.Errorf("reading what to start: %v", err)
	}
	size := binary.BigEndian.Uint32(head)
	if size > maxGuardStart {
		return msg, nil, fmt.Errorf("a start message of %d bytes, more than %d", size, maxGuardStart)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(ctl, body); err != nil {
		return msg, nil, fmt.Errorf("reading what to start: %v", err)
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, nil, fmt.Errorf("reading what to start: %w", err)
	}
	switch {
	case msg.Files != len(files):
		return msg, nil, fmt.Errorf("%d descriptors were passed for the agent, not %d", len(files), msg.Files)
	case !filepath.IsAbs(msg.Path) || len(msg.Args) == 0:
		return msg, nil, fmt.Errorf("the program to start, %q with %d arguments, is not an absolute path with an argv", msg.Path, len(msg.Args))
	case msg.Remove != "" && !filepath.IsAbs(msg.Remove):
		return msg, nil, fmt.Errorf("the directory to remove, %q, is not absolute", msg.Remove)
	}
	return msg, files, nil
}

// startAgent starts what msg says in cg (when not nil) with a parent-death
// signal, and reaps every child of this subreaper until the agent exits,
// whose status (128+n for signal n) it then sends on exited. The kernel
// ties a parent-death signal to the thread that started the child, so
// that thread waits.
func startAgent(msg guardStart, files []*os.File, cg *Cgroup) (*os.Process, <-chan int, error) {
	started := make(chan error, 1)
	exited := make(chan int, 1)
	var proc *os.Process
	go func() {
		runtime.LockOSThread()
		cmd, err := startInView(func() *exec.Cmd {
			cmd := &exec.Cmd{Path: msg.Path, Args: msg.Args, Env: msg.Env, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
				ExtraFiles: files, SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
			if cg != nil {
				cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cg.fd
			}
			return cmd
		}, msg.UserNS)
		if err != nil {
			started <- err
			return
		}
		proc = cmd.Process
		started <- nil
		for _, f := range files {
			f.Close()
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				exited <- 128 + int(syscall.SIGKILL)
				return
			}
			if pid != proc.Pid {
				continue
			}
			if ws.Signaled() {
				exited <- 128 + int(ws.Signal())
			} else {
				exited <- ws.ExitStatus()
			}
			return
		}
	}()
	if err := <-started; err != nil {
		return nil, nil, err
	}
	return proc, exited, nil
}
