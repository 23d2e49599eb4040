package sandbox

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ExecArg is the hidden first argument that makes llms confine itself and
// then execve a program: `llms __sandbox-exec --rules-fd=3 PATH ARGV0
// ARGV…`. cmd/llms dispatches it before anything else runs.
const ExecArg = "__sandbox-exec"

// rulesFD is the descriptor the rules arrive on: the first of
// exec.Cmd.ExtraFiles; rulesName names the memory file.
const (
	rulesFD   = 3
	rulesName = "llms-sandbox-rules"
)

// Wrapped is how to start a program confined: start Path with Args, with
// Rules as descriptor 3 (exec.Cmd.ExtraFiles[0]), and close Rules once the
// process has started. Start does all of it, in a user namespace of its
// own where the rules ask for a private view and one is needed.
type Wrapped struct {
	Path  string
	Args  []string
	Rules *os.File
	// userNS: start in a new user namespace (uid and gid mapped to
	// themselves), in which Main may make a mount namespace: what an
	// ordinary user needs for the private view; root makes one without.
	userNS bool
}

// Wrap turns "start path with argv" into "start llms (self), which
// confines itself with r, then execs path with argv". The rules travel in
// an inherited memory file — never in the environment the program
// inherits, and not on the command line, where a large rule set would
// exceed the kernel's limit on one argument. self is the llms executable
// (os.Executable()); selfName is the argv[0] to give it.
func Wrap(r *Rules, self, selfName, path string, argv []string) (*Wrapped, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("sandbox: program path %q is not absolute", path)
	}
	enc, err := r.Encode()
	if err != nil {
		return nil, err
	}
	f, err := rulesFile(enc)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		argv = []string{path}
	}
	args := append([]string{selfName, ExecArg, fmt.Sprintf("--rules-fd=%d", rulesFD), path}, argv...)
	return &Wrapped{Path: self, Args: args, Rules: f, userNS: r.View != nil && namespaces.Load() && os.Geteuid() != 0}, nil
}

// Start starts the wrapped program with base's environment, directory,
// standard streams and SysProcAttr, and returns the started command. When
// the kernel refuses a user namespace (off, or not allowed here), it
// starts it without one: Main then keeps the shared view, and says so.
func (w *Wrapped) Start(base *exec.Cmd) (*exec.Cmd, error) {
	start := func(userNS bool) (*exec.Cmd, error) {
		cmd := &exec.Cmd{Path: w.Path, Args: w.Args, Env: base.Env, Dir: base.Dir,
			Stdin: base.Stdin, Stdout: base.Stdout, Stderr: base.Stderr,
			ExtraFiles: append([]*os.File{w.Rules}, base.ExtraFiles...)}
		sys := syscall.SysProcAttr{}
		if base.SysProcAttr != nil {
			sys = *base.SysProcAttr
		}
		if userNS {
			// The same ids inside, so that the agent is who it was; and
			// CAP_SYS_ADMIN of the new namespace kept across the exec of
			// llms (ambient), for Main to make its mount namespace with.
			// Main drops it, with every other capability, before the
			// agent runs.
			uid, gid := os.Geteuid(), os.Getegid()
			sys.Cloneflags |= syscall.CLONE_NEWUSER
			sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
			sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
			sys.GidMappingsEnableSetgroups = false
			sys.AmbientCaps = append(sys.AmbientCaps, unix.CAP_SYS_ADMIN)
			// The child's id maps are written by this process through
			// /proc/CHILD, which a process that is not dumpable (llms
			// never is) cannot open: dumpable for the moment of the
			// start. It holds nothing then that a process of the same
			// user could not read from the store's files itself, and
			// the core size limit is 0 (NoCoreDumps).
			if dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && dumpable != 1 {
				if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err == nil {
					defer unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
				}
			}
		}
		cmd.SysProcAttr = &sys
		return cmd, cmd.Start()
	}
	cmd, err := start(w.userNS)
	if err != nil && w.userNS && userNSRefused(err) {
		return start(false)
	}
	return cmd, err
}

// userNSRefused tells the errors with which clone refuses a new user
// namespace: not allowed (EPERM, EACCES), none left or the limit 0
// (ENOSPC, EUSERS), not built in (EINVAL).
func userNSRefused(err error) bool {
	for _, e := range []error{syscall.EPERM, syscall.EACCES, syscall.ENOSPC, syscall.EUSERS, syscall.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// namespaces is false when a test forces the view without namespaces.
var namespaces atomic.Bool

func init() { namespaces.Store(true) }

// SetNamespacesForTest(false) makes Wrap and Main make no namespace, as on
// a kernel that refuses them; true restores the default.
func SetNamespacesForTest(on bool) { namespaces.Store(on) }

// rulesFile is a memory file holding data, at offset 0.
func rulesFile(data string) (*os.File, error) {
	fd, err := unix.MemfdCreate(rulesName, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("sandbox: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), rulesName)
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: writing the rules: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Main runs the ExecArg entry point with the arguments after ExecArg:
// --rules-fd=3 PATH ARGV0 ARGV…. It reads and closes the rules descriptor,
// confines the process and execs PATH with the process's own environment;
// it returns only on failure, with 126 (the program could not be run, or
// the sandbox could not be set up) or 127 (not found), after one line on
// stderr that names the path, never the arguments or the environment.
func Main(args []string, stderr io.Writer) int {
	if len(args) < 3 || args[0] != fmt.Sprintf("--rules-fd=%d", rulesFD) {
		fmt.Fprintln(stderr, "llms: "+ExecArg+": expected --rules-fd=3 PATH ARGV0 [ARGS…]")
		return 126
	}
	// Descriptor 3 must be the memory file Wrap made, not something this
	// process opened there itself because nothing was passed.
	f := os.NewFile(rulesFD, "rules")
	data, err := []byte(nil), error(nil)
	if name, lerr := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", rulesFD)); lerr != nil || !strings.HasPrefix(name, "/memfd:"+rulesName+" ") {
		err = errors.New("descriptor 3 is not the rules file")
	} else {
		data, err = io.ReadAll(io.LimitReader(f, maxEncoded+1))
	}
	f.Close() // the program must not inherit it
	if err != nil {
		fmt.Fprintf(stderr, "llms: reading the sandbox rules: %v\n", err)
		return 126
	}
	// Nor any descriptor the launcher inherited without close-on-exec (a
	// shell's `exec 7< file`, a stray one of a terminal or an IDE):
	// Landlock judges a file when it is opened, so a descriptor opened
	// outside the sandbox would read a hidden file inside it. Every kernel
	// with Landlock (5.13) has close_range's CLOEXEC flag (5.11).
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintf(stderr, "llms: closing inherited descriptors: %v\n", err)
		return 126
	}
	r, err := Decode(string(data))
	if err != nil {
		fmt.Fprintf(stderr, "llms: %s\n", err)
		return 126
	}
	return Exec(r, args[1], args[2:], os.Environ(), stderr)
}

// startDeathSignal is the parent-death signal this process was started
// with, and startParent its parent then. Package variables are initialised
// on the main thread, the one the signal was set on: the kernel keeps it
// per thread and gives none to the threads a Go program starts later, so
// a program exec'd from one of those would outlive its launcher.
var startDeathSignal, startParent = parentDeathSignal(), os.Getppid()

func parentDeathSignal() int {
	var sig int32
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0); err != nil {
		return 0
	}
	return int(sig)
}

// Exec confines the calling thread with r (Restrict) and execs path. It
// returns only on failure, with an exit status as Main describes. The
// program keeps the parent-death signal this process was started with,
// whichever thread execs it.
func Exec(r *Rules, path string, argv, env []string, stderr io.Writer) int {
	runtime.LockOSThread() // the signal and the confinement are this thread's
	if startDeathSignal != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(startDeathSignal), 0, 0, 0); err != nil {
			fmt.Fprintf(stderr, "llms: cannot keep the parent-death signal for %s: %v\n", path, err)
			return 126
		}
		if os.Getppid() != startParent {
			// The launcher died before the signal was set again.
			fmt.Fprintf(stderr, "llms: %s: the launcher has exited\n", path)
			return 126
		}
	}
	if r.View != nil {
		if note := enterView(r); note != "" {
			fmt.Fprintf(stderr, "llms: note: %s\n", note)
		}
	}
	if err := Restrict(r); err != nil {
		fmt.Fprintf(stderr, "llms: cannot sandbox %s: %v\n", path, err)
		return 126
	}
	err := syscall.Exec(path, argv, env)
	fmt.Fprintf(stderr, "llms: %s: %v\n", path, err)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
		return 127
	}
	return 126
}
