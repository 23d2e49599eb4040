package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Spec describes the child to run.
type Spec struct {
	Path string // absolute path of the program (the caller resolved it with exec.LookPath)
	// PathDir, when not nil, is Path's directory opened by the caller, and
	// the child is started from Path's last element in it: what runs is
	// found in the directory the caller checked, whatever the path to it
	// leads to by then, and runs under its own name (ps shows it). The
	// child holds the directory as descriptor 3 (O_PATH: it names it and
	// reads nothing).
	PathDir *os.File
	Args    []string  // full argv, Args[0] as the user typed it
	Env     []string  // the child's whole environment, "NAME=value" each; nil is empty
	Dir     string    // working directory; "" inherits ours
	Stdin   *os.File  // nil is /dev/null (no input in PTY mode); given to the child as is without PTY
	Stdout  io.Writer // never called concurrently with Stderr: they may be one writer
	Stderr  io.Writer // unused in PTY mode
	PTY     bool      // run the child on a new pseudo-terminal; both its streams go to Stdout
	// NewGroup starts the child in a process group of its own (a PTY
	// child always has one: a new session, and so has a child given
	// Signals). When ctx ends, the whole group is killed, and output
	// still held open by something the child left behind stops being
	// waited for, so a command that never ends cannot hold its caller.
	NewGroup bool
	// JoinGroup, when not 0, starts the child (without a PTY) in that
	// existing process group of our session instead of one of its own:
	// the group of a client whose terminal the child reads, which is the
	// terminal's foreground group, so the kernel does not stop the child
	// for reading it. When ctx ends only the child is killed.
	JoinGroup int

	// Signals, when not nil, is where the signals to relay come from,
	// instead of being caught from our own process: a server that starts
	// children for other processes relays what its clients forward. Every
	// signal received is relayed (SIGWINCH resizes the child's terminal in
	// PTY mode), and without a PTY the child gets a process group of its
	// own, so that a signal reaches it only through this channel, once.
	Signals <-chan os.Signal
	// SizeFrom is the terminal whose window size the child's terminal
	// follows in PTY mode; nil means Stdin when it is a terminal.
	SizeFrom *os.File
	// Confine, when not nil, changes the state of the OS thread that
	// starts the child (a Landlock domain, no_new_privs, capabilities),
	// which the child inherits. It runs on a thread of its own, locked to
	// one goroutine, that starts nothing but the child, is parked until
	// the child has been reaped and is then discarded: the Go runtime
	// never clones a new thread from a locked one, so nothing else of
	// this process runs under the changed state. An error starts nothing.
	Confine func() error
}

// Start failures. Run wraps one of them, together with the system error,
// when the program could not be started; a shell exits 127 and 126 for
// these, and Run returns those codes with them.
var (
	// ErrNotFound: nothing exists at Spec.Path.
	ErrNotFound = errors.New("program not found")
	// ErrNotExecutable: Spec.Path exists but cannot be executed (no
	// permission, a directory, an unknown format, a missing #! interpreter).
	ErrNotExecutable = errors.New("program cannot be executed")
)

const (
	exitNotFound   = 127
	exitCannotExec = 126
	// exitStatusUnknown is returned with an error when the child's status
	// could not be read: anything but 0, so that no caller sees success.
	exitStatusUnknown = 1
)

// Run starts the child, forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
// and SIGUSR2 to it (see the package documentation for SIGINT and SIGQUIT)
// and, in PTY mode, follows SIGWINCH with a resize of its terminal. It
// copies the child's output to the writers, waits for the child and for all
// output to be written, and returns the exit status: the child's code, or
// 128+n when it died from signal n.
//
// err is non-nil when the child could not be started (code is then 127 for
// ErrNotFound and 126 otherwise, as in a shell), when output could not be
// copied (the child then loses its output stream, as with a closed pipe, and
// code is still its status), when ctx ended, which kills the child, or when
// the child's status could not be read (code is then 1). err never contains
// environment contents or arguments.
func Run(ctx context.Context, s Spec) (code int, err error) {
	if err := s.check(); err != nil {
		return exitCannotExec, err
	}
	if err := ctx.Err(); err != nil {
		return exitCannotExec, fmt.Errorf("runner: not started: %w", err)
	}
	// The child's parent-death signal (start) fires when the thread that
	// forked it exits, not the process, and Go may end a thread that a
	// goroutine left locked. Without Confine the child is forked from this
	// goroutine, which keeps its thread to itself until the child has been
	// waited for: the thread then lives as long as llms does while the
	// child runs.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if s.PTY {
		return runOnPTY(ctx, s)
	}
	return runWithPipes(ctx, s)
}

func (s *Spec) check() error {
	switch {
	case !filepath.IsAbs(s.Path):
		return errors.New("runner: Spec.Path must be an absolute path")
	case len(s.Args) == 0:
		return errors.New("runner: Spec.Args must hold at least argv[0]")
	case s.Stdout == nil:
		return errors.New("runner: Spec.Stdout is nil")
	case s.Stderr == nil && !s.PTY:
		return errors.New("runner: Spec.Stderr is nil")
	}
	for i, arg := range s.Args {
		if strings.IndexByte(arg, 0) >= 0 {
			return fmt.Errorf("runner: argument %d contains a NUL byte", i)
		}
	}
	if strings.IndexByte(s.Path, 0) >= 0 {
		return errors.New("runner: Spec.Path contains a NUL byte")
	}
	if err := checkEnv(s.Env); err != nil {
		return err
	}
	if s.Dir != "" {
		// Checked here because a missing directory and a missing program
		// fail the same way (ENOENT) inside the child.
		info, err := os.Stat(s.Dir)
		if err != nil {
			return fmt.Errorf("runner: working directory: %w", err)
		}
		if !info.IsDir() {
			return fmt.Errorf("runner: working directory %s is not a directory", s.Dir)
		}
	}
	return nil
}

// checkEnv refuses entries execve cannot carry and entries that make a
// variable's value ambiguous. Errors give indexes only: an entry without
// "=" may well be a bare secret value.
func checkEnv(env []string) error {
	first := make(map[string]int, len(env))
	for i, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return fmt.Errorf("runner: environment entry %d has no '='", i)
		case name == "":
			return fmt.Errorf("runner: environment entry %d has an empty name", i)
		case strings.IndexByte(kv, 0) >= 0:
			return fmt.Errorf("runner: environment entry %d contains a NUL byte", i)
		}
		if j, dup := first[name]; dup {
			return fmt.Errorf("runner: environment entries %d and %d set the same variable", j, i)
		}
		first[name] = i
	}
	return nil
}

// start starts the child with files as its descriptors 0, 1 and 2. The
// caller calls release once the child has been reaped.
//
// The child is killed when llms dies, whatever kills llms (SIGKILL
// included): it must not go on running with the secrets in its
// environment. Go's fork checks, after setting the signal, that the parent
// is still there, so a death between fork and prctl is not missed. The
// signal fires when the thread that forked the child ends, so that thread
// stays locked until the child is reaped: Run's goroutine's, or the one
// below that Confine uses.
func start(s *Spec, files []*os.File, sys *syscall.SysProcAttr) (child *os.Process, release func(), err error) {
	if sys == nil {
		sys = &syscall.SysProcAttr{}
	}
	sys.Pdeathsig = syscall.SIGKILL
	if s.Confine == nil {
		child, err = startProcess(s, files, sys)
		return child, func() {}, err
	}
	type started struct {
		child *os.Process
		err   error
	}
	result := make(chan started)
	done := make(chan struct{})
	go func() {
		// Never unlocked: when this goroutine returns, its thread ends
		// with it, and the state Confine gave it with it. The thread stays
		// until the child is reaped, because a parent-death signal fires
		// when the thread that started the child ends.
		runtime.LockOSThread()
		if err := s.Confine(); err != nil {
			result <- started{err: fmt.Errorf("runner: confining %s: %w", s.Path, err)}
			return
		}
		p, err := startProcess(s, files, sys)
		result <- started{p, err}
		if err == nil {
			<-done
		}
	}()
	r := <-result
	if r.err != nil {
		return nil, nil, r.err
	}
	return r.child, func() { close(done) }, nil
}

// startProcess starts the child from the calling thread.
func startProcess(s *Spec, files []*os.File, sys *syscall.SysProcAttr) (*os.Process, error) {
	env := s.Env
	if env == nil {
		env = []string{} // os.StartProcess would inherit ours for nil
	}
	// Descriptors llms inherited without close-on-exec (a shell's stray
	// pipe, say) must not reach the child: only what files names does.
	// Old kernels lack close_range; the child then inherits what we did.
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	path := s.Path
	if s.PathDir != nil {
		// Passed as descriptor 3, through which the exec finds the file:
		// a number of our own could be taken by the fork, which moves
		// descriptors to the free numbers above those it passes.
		files = append(files[:3:3], s.PathDir)
		path = "/proc/self/fd/3/" + filepath.Base(s.Path)
		defer runtime.KeepAlive(s.PathDir)
	}
	p, err := os.StartProcess(path, s.Args, &os.ProcAttr{Dir: s.Dir, Env: env, Files: files, Sys: sys})
	if err != nil {
		return nil, startError(s, err)
	}
	return p, nil
}

// startError classifies a failed start. The message holds the path and the
// system error only; os.StartProcess errors carry nothing else.
func startError(s *Spec, err error) error {
	path := s.Path
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("runner: starting %s: %w", path, err)
	}
	switch errno {
	case syscall.ENOENT:
		if s.exists() {
			// The file is there: what is missing is the interpreter of
			// its #! line or its ELF loader.
			return fmt.Errorf("runner: %s: %w: its interpreter was not found (%w)", path, ErrNotExecutable, errno)
		}
		return fmt.Errorf("runner: %s: %w (%w)", path, ErrNotFound, errno)
	case syscall.ENOTDIR:
		return fmt.Errorf("runner: %s: %w (%w)", path, ErrNotFound, errno)
	case syscall.EACCES, syscall.EPERM, syscall.EISDIR, syscall.ENOEXEC, syscall.ELOOP, syscall.ETXTBSY, syscall.ELIBBAD:
		return fmt.Errorf("runner: %s: %w (%w)", path, ErrNotExecutable, errno)
	}
	return fmt.Errorf("runner: starting %s: %w", path, errno)
}

// exists reports whether there is a file where the child is started from.
func (s *Spec) exists() bool {
	if s.PathDir != nil {
		var st unix.Stat_t
		return unix.Fstatat(int(s.PathDir.Fd()), filepath.Base(s.Path), &st, 0) == nil
	}
	_, err := os.Stat(s.Path)
	return err == nil
}

// startFailureCode is the shell's exit code for a start failure.
func startFailureCode(err error) int {
	if errors.Is(err, ErrNotFound) {
		return exitNotFound
	}
	return exitCannotExec
}

// exitCode maps a wait status to a shell-style exit code.
func exitCode(state *os.ProcessState) int {
	status := state.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// finish supervises the started child, waits for its output to be copied
// and returns its exit status with any error.
func finish(ctx context.Context, child *os.Process, group bool, sigs <-chan os.Signal, relay func(os.Signal), out *outputCopier) (int, error) {
	kill := func() { _ = child.Kill() }
	if group {
		// The group outlives its leader while any member is left, and its
		// id cannot be reused meanwhile.
		kill = func() { _ = unix.Kill(-child.Pid, unix.SIGKILL) }
	}
	state, err := supervise(ctx, child, sigs, relay, kill)
	copyErr := out.waitOr(ctx, kill)
	if state == nil {
		return exitStatusUnknown, errors.Join(err, copyErr)
	}
	return exitCode(state), errors.Join(err, copyErr)
}

// withFd runs fn on f's descriptor. Unlike File.Fd it leaves f in
// non-blocking mode, so a pending Read or Write on f still ends when f is
// closed.
func withFd(f *os.File, fn func(fd int) error) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := conn.Control(func(fd uintptr) { fnErr = fn(int(fd)) }); err != nil {
		return err
	}
	return fnErr
}
