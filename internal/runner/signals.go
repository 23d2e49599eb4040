package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals relayed to the child. Catching them is also what
// keeps llms alive while the child decides what they mean.
var forwarded = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// catchSignals starts catching the forwarded signals and extra ones. It is
// called before the child starts, so that no signal can kill llms and
// orphan the child in between; signals caught early wait in the channel.
func catchSignals(extra ...os.Signal) chan os.Signal {
	sigs := make(chan os.Signal, 16)
	for _, sig := range append(forwarded, extra...) {
		// Catching an ignored signal would un-ignore it for the child too.
		if !signal.Ignored(sig) {
			signal.Notify(sigs, sig)
		}
	}
	return sigs
}

// CatchSignals catches the signals Run relays, and extra, until stop is
// called: for a front end that forwards them to a child someone else
// starts (the agent-mode client). Ignored signals stay ignored.
func CatchSignals(extra ...os.Signal) (sigs <-chan os.Signal, stop func()) {
	c := catchSignals(extra...)
	return c, func() { signal.Stop(c) }
}

// signals returns the channel of signals to relay and a function that
// stops catching them: the caller's channel when Spec.Signals is set (extra
// is then not caught, the caller sends what it wants relayed), else the
// forwarded signals and extra caught from our process.
func (s *Spec) signals(extra ...os.Signal) (<-chan os.Signal, func()) {
	if s.Signals != nil {
		return s.Signals, func() {}
	}
	sigs := catchSignals(extra...)
	return sigs, func() { signal.Stop(sigs) }
}

// supervise relays caught signals with relay until the child exits, kills
// the child if ctx ends first, and returns the child's wait status. It does
// not stop catching: the caller does that once all output is copied, so a
// late signal cannot kill llms before the output is written.
func supervise(ctx context.Context, child *os.Process, sigs <-chan os.Signal, relay func(os.Signal), kill func()) (*os.ProcessState, error) {
	type result struct {
		state *os.ProcessState
		err   error
	}
	exited := make(chan result, 1)
	go func() {
		state, err := child.Wait()
		exited <- result{state, err}
	}()
	var ctxErr error
	done := ctx.Done()
	for {
		select {
		case sig := <-sigs:
			relay(sig)
		case <-done:
			ctxErr = ctx.Err()
			done = nil
			// An error means the child is already gone: Wait reports it.
			kill()
		case r := <-exited:
			if r.err != nil {
				return nil, errors.Join(fmt.Errorf("runner: waiting for the child: %w", r.err), ctxErr)
			}
			return r.state, ctxErr
		}
	}
}

// signalChild sends sig to the child. Go signals through a pidfd, so a
// child that has already exited and been reaped cannot be confused with a
// new process reusing its pid; the error for that case is ignored.
func signalChild(child *os.Process, sig os.Signal) {
	_ = child.Signal(sig)
}

// relayWithoutPTY forwards sig, except a keyboard signal the kernel has
// already delivered to the child (see the package documentation).
func relayWithoutPTY(child *os.Process) func(os.Signal) {
	return func(sig os.Signal) {
		if (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && keyboardReachedChild(child.Pid) {
			return
		}
		signalChild(child, sig)
	}
}

// keyboardReachedChild reports whether our process group is the
// foreground group of our controlling terminal and the child is still in
// it: a keyboard signal then went to the whole group, child included. A
// child that moved to a group of its own (an interactive shell does) gets
// the keyboard's signals without us, and any we receive came from elsewhere.
func keyboardReachedChild(pid int) bool {
	if !InForeground() {
		return false
	}
	// Were the child reaped meanwhile and its pid reused, the answer would
	// not matter: signalChild goes through a pidfd and reaches no one.
	childGroup, err := unix.Getpgid(pid)
	return err == nil && childGroup == unix.Getpgrp()
}

// InForeground reports whether our process group is the foreground group of
// our controlling terminal: a keyboard signal then went to every process in
// the group.
func InForeground() bool {
	fd, err := unix.Open("/dev/tty", unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false // no controlling terminal
	}
	defer unix.Close(fd)
	foreground, err := unix.IoctlGetUint32(fd, unix.TIOCGPGRP)
	return err == nil && int(foreground) == unix.Getpgrp()
}
