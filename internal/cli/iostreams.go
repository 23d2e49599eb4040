package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the command's view of the terminal, injected so commands
// run in tests without one.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// StdinFile is the child's stdin for exec (nil: no stdin).
	StdinFile *os.File

	StdinTTY, StdoutTTY bool
	// StderrTTY: progress may be drawn on standard error.
	StderrTTY bool

	// ReadSecret reads a line from the terminal without echo.
	ReadSecret func(prompt string) ([]byte, error)
}

// SystemIO is the process's real terminal.
func SystemIO() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		StdinFile: os.Stdin,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		ReadSecret: func(prompt string) ([]byte, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return b, err
		},
	}
}

// errNoTerminal explains how to proceed without a terminal.
var errNoTerminal = errors.New("standard input is not a terminal")
