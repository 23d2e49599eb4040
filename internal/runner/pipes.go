package runner

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// runWithPipes runs the child with our stdin and a pipe for each of its
// output streams.
func runWithPipes(ctx context.Context, s Spec) (int, error) {
	stdin := s.Stdin
	if stdin == nil {
		// A closed descriptor 0 would be reused by the child's first open.
		devNull, err := os.Open(os.DevNull)
		if err != nil {
			return exitCannotExec, fmt.Errorf("runner: %w", err)
		}
		defer devNull.Close()
		stdin = devNull
	}
	stdoutR, stdoutW, err := outputPipe()
	if err != nil {
		return exitCannotExec, err
	}
	stderrR, stderrW, err := outputPipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return exitCannotExec, err
	}

	sigs, stop := s.signals()
	defer stop()
	group := (s.NewGroup || s.Signals != nil) && s.JoinGroup == 0
	var sys *syscall.SysProcAttr
	switch {
	case s.JoinGroup != 0:
		sys = &syscall.SysProcAttr{Setpgid: true, Pgid: s.JoinGroup}
	case group:
		sys = &syscall.SysProcAttr{Setpgid: true}
	}
	child, release, err := start(&s, []*os.File{stdin, stdoutW, stderrW}, sys)
	// The child has its own copies of the write ends. Ours must go, or the
	// read ends would never reach end of file.
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return startFailureCode(err), err
	}
	defer release()

	watch := &treeWatch{child: child}
	out := newCopier(watch.verdict)
	out.start(s.Stdout, stdoutR, "stdout")
	out.start(s.Stderr, stderrR, "stderr")
	relay := relayWithoutPTY(child)
	if s.Signals != nil {
		relay = func(sig os.Signal) { signalChild(child, sig) }
	}
	return finish(ctx, child, group, sigs, relay, out)
}

// outputPipe makes a pipe for one output stream of the child.
func outputPipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("runner: %w", err)
	}
	// A pipe bigger than the 64 KiB default moves bulk output with fewer
	// wakeups. Linux may refuse (the per-user pipe memory limit); the
	// default then works, only slower, so the error is not fatal.
	_ = withFd(r, func(fd int) error {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, copyBufferSize)
		return err
	})
	return r, w, nil
}
