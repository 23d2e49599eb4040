package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// runOnPTY runs the child on a new pseudo-terminal whose master end we
// hold: its output is read from the master, our input written to it.
func runOnPTY(ctx context.Context, s Spec) (code int, err error) {
	master, terminal, err := pty.Open()
	if err != nil {
		return exitCannotExec, fmt.Errorf("runner: opening a pseudo-terminal: %w", err)
	}
	if err := noFlowControl(terminal); err != nil {
		master.Close()
		terminal.Close()
		return exitCannotExec, fmt.Errorf("runner: setting up the pseudo-terminal: %w", err)
	}

	var stdinFd int
	stdinIsTerminal := false
	if s.Stdin != nil {
		stdinFd = int(s.Stdin.Fd())
		stdinIsTerminal = term.IsTerminal(stdinFd)
	}
	sizeFd := -1
	switch {
	case s.SizeFrom != nil:
		sizeFd = int(s.SizeFrom.Fd())
	case stdinIsTerminal:
		sizeFd = stdinFd
	}
	var resize []os.Signal
	if sizeFd >= 0 {
		resize = append(resize, syscall.SIGWINCH)
	}
	sigs, stopSignals := s.signals(resize...)
	defer stopSignals()
	if sizeFd >= 0 {
		// After catching SIGWINCH, so that no resize is missed.
		copySize(master, sizeFd)
	}

	if stdinIsTerminal {
		// Raw: every key, Ctrl-C included, goes to the child's terminal
		// as typed, and that terminal does the echoing and line editing.
		saved, err := term.MakeRaw(stdinFd)
		if err != nil {
			master.Close()
			terminal.Close()
			return exitCannotExec, fmt.Errorf("runner: putting the terminal in raw mode: %w", err)
		}
		defer func() {
			if restoreErr := term.Restore(stdinFd, saved); restoreErr != nil {
				err = errors.Join(err, fmt.Errorf("runner: restoring the terminal: %w", restoreErr))
			}
		}()
	}

	if s.Stdin != nil {
		// Started before the child: what is typed meanwhile waits in the
		// terminal for it.
		stopInput, err := RelayInput(master, stdinFd)
		if err != nil {
			master.Close()
			terminal.Close()
			return exitCannotExec, err
		}
		// Deferred after the terminal restore, so it runs first: nothing
		// reads our terminal once it is back in its own mode.
		defer stopInput()
	}

	// A new session with the terminal as its controlling terminal: the
	// child gets job control and keyboard signals from it, not from ours.
	sys := &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	child, release, err := start(&s, []*os.File{terminal, terminal, terminal}, sys)
	// Ours must go so that the master reads end of file (EIO) once the
	// child and everything it started have closed the terminal.
	terminal.Close()
	if err != nil {
		master.Close()
		return startFailureCode(err), err
	}
	defer release()

	watch := &treeWatch{child: child}
	out := newCopier(func() verdict {
		if flowControl(master) {
			return never
		}
		return watch.verdict()
	})
	out.start(s.Stdout, master, "output") // closes master when done
	relay := func(sig os.Signal) {
		if sig == syscall.SIGWINCH {
			if sizeFd >= 0 {
				copySize(master, sizeFd)
			}
			return
		}
		signalChild(child, sig)
	}
	return finish(ctx, child, true, sigs, relay, out)
}

// noFlowControl turns software flow control off on a new terminal: with
// IXON on, ^S typed there stops the child's output in the middle of a
// write, and the idle release could show what came before (quiet.go).
// ^S and ^Q then reach the child as bytes, as in most shells' settings.
func noFlowControl(terminal *os.File) error {
	return withFd(terminal, func(fd int) error {
		attrs, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return err
		}
		attrs.Iflag &^= unix.IXON | unix.IXOFF | unix.IXANY
		return unix.IoctlSetTermios(fd, unix.TCSETS, attrs)
	})
}

// copySize gives the child's terminal the size of ours. A failure leaves
// the previous size, which is cosmetic, so it is not reported.
func copySize(master *os.File, from int) {
	size, err := unix.IoctlGetWinsize(from, unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	_ = withFd(master, func(fd int) error {
		return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, size)
	})
}

// RelayInput copies from descriptor in to master, the child's terminal (or
// a pipe to it), in the background until in ends or stop is called. It
// polls in together with a wake-up pipe instead of blocking in read, so
// that stop really stops it: a reader left behind would swallow whatever
// is typed after the child is gone. When in ends, a terminal in line mode
// is sent its EOF character.
func RelayInput(master *os.File, in int) (stop func(), err error) {
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("runner: relaying input: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pumpInput(master, in, wake[0])
	}()
	return func() {
		unix.Close(wake[1]) // wakes the poll with POLLHUP
		<-done
		unix.Close(wake[0])
	}, nil
}

func pumpInput(master *os.File, in, wake int) {
	buf := make([]byte, 32<<10)
	fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}, {Fd: int32(wake), Events: unix.POLLIN}}
	atLineStart := true
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(in, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if n <= 0 {
			// End of input (or an unreadable input, which ends it too).
			sendEOF(master, atLineStart)
			return
		}
		if _, err := master.Write(buf[:n]); err != nil {
			return
		}
		atLineStart = buf[n-1] == '\n'
	}
}

// sendEOF tells the child that its input has ended, as typing the EOF
// character (Ctrl-D) would. That character ends input only at the start of
// a line; elsewhere it just hands over the partial line, so a second one is
// sent then. A child that made its terminal raw reads bytes, not lines:
// no byte means end of file to it, and it is sent nothing.
func sendEOF(master *os.File, atLineStart bool) {
	var eof byte
	err := withFd(master, func(fd int) error {
		attrs, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return err
		}
		if attrs.Lflag&unix.ICANON == 0 {
			return errRawTerminal
		}
		eof = attrs.Cc[unix.VEOF]
		return nil
	})
	if err != nil {
		return
	}
	eofs := []byte{eof, eof}
	if atLineStart {
		eofs = eofs[:1]
	}
	_, _ = master.Write(eofs)
}

var errRawTerminal = errors.New("terminal is not in canonical mode")
