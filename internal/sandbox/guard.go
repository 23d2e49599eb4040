package sandbox

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// GuardArg is the hidden first argument of the agent's guard: `llms
// __agent-guard --fds=N --cgroup=DIR --remove=DIR PATH ARGV0 ARGV…`.
// cmd/llms dispatches it first, as ExecArg.
//
// The guard sits between the launcher and the agent, outside the sandbox:
// a child subreaper, so that everything the agent starts stays in its tree
// whatever double-forks and new sessions it makes. When the agent exits,
// or the launcher dies (however: it holds the only write end of a pipe the
// guard reads, and the kernel closes it), the guard ends the whole tree
// and exits. The launcher in turn waits for the guard: if the guard dies,
// the agent dies with it (a parent-death signal), its tree is re-parented
// to the launcher, also a subreaper, and the launcher ends it.
//
// Descriptors: 3 … 3+N-1 are the agent's (passed on as its 3 …); 3+N is
// the pipe. --cgroup is the agent's cgroup ("" for none): the agent starts
// in it, and it is killed whole (cgroup.kill), which no fork can outrun.
// --remove is a directory of the launch (the broker's socket directory,
// "" for none) that the guard removes when the launcher dies, as the
// launcher would have.
const GuardArg = "__agent-guard"

// guardTreeDeadline bounds how long the guard, and the launcher after it,
// spend ending a tree.
const guardTreeDeadline = 5 * time.Second

// Guarded is an agent started under its guard.
type Guarded struct {
	cmd *exec.Cmd
	// alive is the pipe's write end: only the launcher holds it, until
	// Wait returns.
	alive  *os.File
	cgroup *Cgroup // nil without one
}

// GuardedStart is what StartGuarded starts: Path with Args (the agent, or
// its sandbox re-exec), with Env, the standard streams and Files as its
// descriptors 3, 4, …, under Self (llms) re-exec'd as the guard; Cgroup is
// the agent's cgroup, nil for none; Remove is the directory the guard
// removes if the launcher dies.
type GuardedStart struct {
	Self           string
	Path           string
	Args, Env      []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Files          []*os.File
	Cgroup         *Cgroup
	Remove         string
}

// StartGuarded starts the guard, which starts the agent. The guard is
// given no parent-death signal: it must outlive a launcher that is killed,
// to end the tree.
func StartGuarded(s GuardedStart) (*Guarded, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: the guard's pipe: %w", err)
	}
	defer r.Close()
	dir := ""
	if s.Cgroup != nil {
		dir = s.Cgroup.Dir
	}
	args := append([]string{"llms", GuardArg, fmt.Sprintf("--fds=%d", len(s.Files)), "--cgroup=" + dir, "--remove=" + s.Remove, s.Path}, s.Args...)
	cmd := &exec.Cmd{Path: s.Self, Args: args, Env: s.Env, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr,
		ExtraFiles: append(slices.Clone(s.Files), r)}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return &Guarded{cmd: cmd, alive: w, cgroup: s.Cgroup}, nil
}

// Signal sends sig to the guard, which relays it to the agent.
func (g *Guarded) Signal(sig os.Signal) error { return g.cmd.Process.Signal(sig) }

// Wait waits for the guard and returns the agent's status, 128+n when
// signal n killed it. died is set when the guard itself was killed: the
// agent was killed with it, and its tree is the launcher's to end (End).
func (g *Guarded) Wait() (status int, died syscall.Signal, err error) {
	defer g.alive.Close()
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
func (g *Guarded) Kill() {
	if g.cgroup != nil {
		g.cgroup.Kill()
	}
}

// End ends every process left in the launcher's tree and the agent's
// cgroup, reaps them, removes the cgroup, and returns how many it killed.
// It reaps with wait4(-1), as EndTree.
func (g *Guarded) End() int {
	g.Kill()
	n := EndTree(guardTreeDeadline)
	if g.cgroup != nil {
		g.cgroup.Remove()
	}
	return n
}

// GuardMain runs the GuardArg entry point with the arguments after
// GuardArg. It returns the agent's status (128+n for signal n), or 126
// after one line on stderr when it cannot start it.
func GuardMain(args []string, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "llms: "+GuardArg+": "+format+"\n", a...)
		return 126
	}
	if len(args) < 5 || !strings.HasPrefix(args[0], "--fds=") || !strings.HasPrefix(args[1], "--cgroup=") || !strings.HasPrefix(args[2], "--remove=") {
		return fail("expected --fds=N --cgroup=DIR --remove=DIR PATH ARGV0 [ARGS…]")
	}
	remove := strings.TrimPrefix(args[2], "--remove=")
	if remove != "" && !filepath.IsAbs(remove) {
		return fail("--remove=%s is not an absolute path", remove)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(args[0], "--fds="))
	if err != nil || n < 0 || n > 16 {
		return fail("bad %s", args[0])
	}
	// The last descriptor must be the launcher's pipe, not something this
	// process opened there itself because nothing was passed.
	aliveFD := 3 + n
	var st unix.Stat_t
	if err := unix.Fstat(aliveFD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return fail("descriptor %d is not the launcher's pipe", aliveFD)
	}
	// No descriptor the launcher inherited reaches the agent but those
	// passed on (exec.Cmd clears close-on-exec on ExtraFiles).
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail("closing inherited descriptors: %v", err)
	}
	if err := BecomeSubreaper(); err != nil {
		return fail("becoming a subreaper: %v", err)
	}
	var cg *Cgroup
	if dir := strings.TrimPrefix(args[1], "--cgroup="); dir != "" {
		if cg, err = openCgroup(dir); err != nil {
			return fail("%v", err)
		}
	}
	// INT and QUIT come from the keyboard to the agent directly; the
	// launcher relays the others here. Caught, not ignored: an ignored
	// signal would stay ignored in the agent.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	gone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.NewFile(uintptr(aliveFD), "launcher"))
		close(gone)
	}()
	files := make([]*os.File, n)
	for i := range files {
		files[i] = os.NewFile(uintptr(3+i), "agent")
	}
	agent, exited, err := startAgent(args[3], args[4:], files, cg)
	if err != nil {
		fmt.Fprintf(stderr, "llms: %s: %v\n", args[3], err)
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
			if remove != "" {
				os.RemoveAll(remove)
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

// startAgent starts path in cg (when not nil) with a parent-death signal,
// and reaps every child of this subreaper until the agent exits, whose
// status (128+n for signal n) it then sends on exited. The kernel ties a
// parent-death signal to the thread that started the child, so that
// thread waits.
func startAgent(path string, argv []string, files []*os.File, cg *Cgroup) (*os.Process, <-chan int, error) {
	started := make(chan error, 1)
	exited := make(chan int, 1)
	var proc *os.Process
	go func() {
		runtime.LockOSThread()
		cmd := &exec.Cmd{Path: path, Args: argv, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			ExtraFiles: files, SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
		if cg != nil {
			cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cg.fd
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		proc = cmd.Process
		started <- nil
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
