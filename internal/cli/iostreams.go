package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
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
			return readSecret(int(os.Stdin.Fd()), os.Stderr, prompt)
		},
	}
}

// readSecret reads a line from the terminal fd with echo off. The prompt
// is shown only once echo is off: a value typed as soon as it appears must
// not be echoed (term.ReadPassword turns echo off after the caller has
// prompted, leaving a moment in which typed characters are shown).
func readSecret(fd int, prompt io.Writer, text string) ([]byte, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	fmt.Fprint(prompt, text)
	defer fmt.Fprintln(prompt)
	var line []byte
	var b [1]byte
	for {
		n, err := unix.Read(fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			if err == nil && len(line) == 0 {
				err = io.EOF
			}
			return line, err
		}
		if b[0] == '\n' {
			return line, nil
		}
		if b[0] != '\r' {
			line = append(line, b[0])
		}
	}
}

// errNoTerminal explains how to proceed without a terminal.
var errNoTerminal = errors.New("standard input is not a terminal")

// askYes asks on the terminal; without one it refuses, saying how to
// proceed.
func askYes(io *IOStreams, question, purpose string) (bool, error) {
	if !io.StdinTTY {
		return false, usagef("refusing %s without confirmation: standard input is not a terminal; pass --yes", purpose)
	}
	fprintf(io.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(io.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fprintf(io.ErrOut, "nothing changed\n")
		return false, nil
	}
	return true, nil
}
