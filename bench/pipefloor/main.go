//go:build ignore

// Command pipefloor runs a command with its stdout on a 1 MiB pipe and
// copies the pipe to its own stdout through a 1 MiB buffer: the data path
// of `llms exec` (internal/runner enlarges its pipes the same way) without
// the redactor. bench/cat.sh times it as the floor of any program that sits
// on a child's output.
//
//	go build -o pipefloor bench/pipefloor/main.go
//	pipefloor cat BIGFILE > /dev/null
//
// The build tag keeps it out of `go list ./...`; build it by file name.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

const size = 1 << 20

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pipefloor CMD [ARG...]")
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pipefloor:", err)
		os.Exit(1)
	}
}

func run(argv []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	// As in internal/runner, a refusal (the per-user pipe limit) only
	// makes the copy slower.
	_, _ = unix.FcntlInt(r.Fd(), unix.F_SETPIPE_SZ, size)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, w, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w.Close()
	// Plain Reader and Writer: no splice or sendfile shortcut, the bytes
	// pass through user space as they do in llms.
	_, copyErr := io.CopyBuffer(struct{ io.Writer }{os.Stdout}, struct{ io.Reader }{r}, make([]byte, size))
	if err := cmd.Wait(); err != nil {
		return err
	}
	return copyErr
}
