package sandbox

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
// process has started.
type Wrapped struct {
	Path  string
	Args  []string
	Rules *os.File
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
	return &Wrapped{Path: self, Args: args, Rules: f}, nil
}

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
