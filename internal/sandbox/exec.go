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
// exec.Cmd.ExtraFiles; rulesName names the memory file. notifyFD, the
// second, is the socket a supervised program sends its seccomp listener
// on.
const (
	rulesFD   = 3
	notifyFD  = 4
	rulesName = "llms-sandbox-rules"
)

// Wrapped is how to start a program confined: start Path with Args, with
// Rules as descriptor 3 (exec.Cmd.ExtraFiles[0]) and, when the rules are
// Supervised, Notify as descriptor 4 (ExtraFiles[1]); close them once the
// process has started (Close), then hand it to Supervisor.Start.
type Wrapped struct {
	Path   string
	Args   []string
	Rules  *os.File
	Notify *os.File // nil unless supervised
	// UserNS: start it in a user namespace of its own, in which Main may
	// make the mount namespace of the rules' View (startInView): what an
	// ordinary user needs; root makes one without.
	UserNS bool

	supervisor *os.File // our end of Notify's socket pair
}

// ExtraFiles are the descriptors to give the program, from 3 on.
func (w *Wrapped) ExtraFiles() []*os.File {
	if w.Rules == nil {
		return nil
	}
	if w.Notify == nil {
		return []*os.File{w.Rules}
	}
	return []*os.File{w.Rules, w.Notify}
}

// Close closes what the program was given (this process's copies); the
// supervisor's end stays for Supervisor.Start.
func (w *Wrapped) Close() {
	for _, f := range []*os.File{w.Rules, w.Notify} {
		if f != nil {
			f.Close()
		}
	}
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
	w := &Wrapped{Path: self, Args: args, Rules: f, UserNS: r.View != nil && namespaces.Load() && os.Geteuid() != 0}
	if r.Supervised {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sandbox: socketpair: %w", err)
		}
		// The kernel stamps what the agent sends with its pid: the
		// supervisor learns which process is the agent from the listener's
		// message itself, whoever (the guard) started it.
		if err := unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
			f.Close()
			unix.Close(pair[0])
			unix.Close(pair[1])
			return nil, fmt.Errorf("sandbox: SO_PASSCRED: %w", err)
		}
		w.supervisor, w.Notify = os.NewFile(uintptr(pair[0]), "supervisor"), os.NewFile(uintptr(pair[1]), "notify")
	}
	return w, nil
}

// startInView starts the command build makes, in a new user namespace
// when userNS — uid and gid mapped to themselves, so that the program is
// who it was, and CAP_SYS_ADMIN of the namespace kept across the exec of
// llms (ambient) for Main to make its mount namespace with; Main drops it,
// with every other capability, before the agent runs. Where the kernel
// refuses the namespace (off, or not allowed here), it starts a fresh
// command without one: Main then keeps the shared view, and says so.
func startInView(build func() *exec.Cmd, userNS bool) (*exec.Cmd, error) {
	if userNS {
		cmd := build()
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		uid, gid := os.Geteuid(), os.Getegid()
		sys := cmd.SysProcAttr
		sys.Cloneflags |= syscall.CLONE_NEWUSER
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		sys.GidMappingsEnableSetgroups = false
		sys.AmbientCaps = append(sys.AmbientCaps, unix.CAP_SYS_ADMIN)
		// The child's id maps are written by this process through
		// /proc/CHILD, which a process that is not dumpable (llms never
		// is) cannot open: dumpable for the moment of the start. The
		// guard that starts the agent holds no key.
		if dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && dumpable != 1 {
			if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err == nil {
				defer unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
			}
		}
		err := cmd.Start()
		if err == nil || !userNSRefused(err) {
			return cmd, err
		}
	}
	cmd := build()
	return cmd, cmd.Start()
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
	notify := -1
	if r.Supervised {
		// Descriptor 4 must be the socket Wrap made: the listener goes
		// nowhere else.
		if _, err := unix.GetsockoptInt(notifyFD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
			fmt.Fprintln(stderr, "llms: descriptor 4 is not the supervisor's socket; refusing to run unsupervised")
			return 126
		}
		notify = notifyFD
	}
	return Exec(r, notify, args[1], args[2:], os.Environ(), stderr)
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
// whichever thread execs it. When r is Supervised, the program is the
// agent: it becomes the child subreaper of its own tree, gets the agent's
// filter, and the filter's listener is sent on descriptor notify and
// closed here.
func Exec(r *Rules, notify int, path string, argv, env []string, stderr io.Writer) int {
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
	if err := confine(r, notify); err != nil {
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

// confine restricts the calling thread with r; supervised (notify ≥ 0),
// with the agent's filter, whose listener it sends on notify.
func confine(r *Rules, notify int) error {
	if notify < 0 {
		return Restrict(r)
	}
	// Orphans of the agent's tree are adopted by the agent, not by the
	// launcher, beside the broker's children: the tree stays the agent's
	// descendants (the flag survives execve).
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	p, err := Prepare(r)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.restrict(func() error {
		listener, err := installAgentFilter(signalsMediated(r.ABI), r.Net != nil)
		if err != nil {
			return err
		}
		defer unix.Close(listener)
		if err := sendFD(notify, listener); err != nil {
			return fmt.Errorf("sending the seccomp listener: %w", err)
		}
		return unix.Close(notify)
	})
}
