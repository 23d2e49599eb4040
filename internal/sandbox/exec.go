package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// ExecArg is the hidden first argument that makes llms confine itself and
// then execve a program: `llms __sandbox-exec RULES PATH ARGV0 ARGV…`.
// cmd/llms dispatches it before anything else runs.
const ExecArg = "__sandbox-exec"

// Wrap turns "start path with argv" into "start llms (self), which
// confines itself with r, then execs path with argv". The rules travel on
// the command line, never in the environment the program inherits. self is
// the llms executable (os.Executable()); selfName is the argv[0] to give it.
func Wrap(r *Rules, self, selfName, path string, argv []string) (string, []string, error) {
	enc, err := r.Encode()
	if err != nil {
		return "", nil, err
	}
	if !filepath.IsAbs(path) {
		return "", nil, fmt.Errorf("sandbox: program path %q is not absolute", path)
	}
	if len(argv) == 0 {
		argv = []string{path}
	}
	return self, append([]string{selfName, ExecArg, enc, path}, argv...), nil
}

// Main runs the ExecArg entry point with the arguments after ExecArg:
// RULES PATH ARGV0 ARGV…. It confines the process and execs PATH with the
// process's own environment; it returns only on failure, with 126 (the
// program could not be run, or the sandbox could not be set up) or 127
// (not found), after one line on stderr that names the path, never the
// arguments or the environment.
func Main(args []string, stderr io.Writer) int {
	if len(args) < 3 {
		fmt.Fprintln(stderr, "llms: "+ExecArg+": expected RULES PATH ARGV0 [ARGS…]")
		return 126
	}
	r, err := Decode(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "llms: %s\n", err)
		return 126
	}
	return Exec(r, args[1], args[2:], os.Environ(), stderr)
}

// Exec confines the calling thread with r (Restrict) and execs path. It
// returns only on failure, with an exit status as Main describes.
func Exec(r *Rules, path string, argv, env []string, stderr io.Writer) int {
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
