package runner

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Idle must mean that the child is idle, not that someone else is slow or
// made it pause: output released in the middle of a value would show the
// part before the pause. A process that can put bytes into the child's
// output may also be able to starve the child of CPU, stop it, or stop
// its terminal's output. So the child counts as quiet only when every
// byte it wrote has been read and no thread of it or of any process below
// it can run: each is asleep (S), idle (I), or dead (Z, X). Running or
// waiting for a CPU (R), in uninterruptible sleep (D), stopped (T, t),
// parked (P), paging (W) or any other state puts the release off. A
// process that left the tree (re-parented after its parent exited) is not
// watched; once the child itself has exited, nothing is released by
// idleness any more, only by position and at the end of the output.

// drained reports whether nothing written to src is waiting to be read.
// A child blocked on a full pipe, or a terminal whose buffer is full, is
// not idle: after a blocked write downstream, the copy reads again before
// the next release.
func drained(src *os.File) bool {
	n := 0
	err := withFd(src, func(fd int) error {
		var err error
		n, err = unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD: pipes answer it too
		return err
	})
	return err == nil && n == 0
}

// maxTree bounds the processes looked at; a larger tree is taken as busy.
const maxTree = 4096

// childAsleep looks at the child's threads and those of every process
// below it (through /proc/PID/task/TID/children) and reports quiet, busy,
// or never once the child has exited. The signal 0, sent through the
// child's pidfd after the walk, fails once the child has been reaped: its
// pid, which may then be reused, still named it during the walk.
func childAsleep(child *os.Process) verdict {
	asleep, ok := threadsAsleep(child.Pid)
	switch {
	case !ok || child.Signal(syscall.Signal(0)) != nil:
		return never
	case !asleep:
		return busy
	}
	return quiet
}

// threadsAsleep walks the tree from pid. ok is false when pid itself is
// gone or has exited (a zombie).
func threadsAsleep(pid int) (asleep, ok bool) {
	todo := []int{pid}
	for seen := 0; len(todo) > 0; seen++ {
		if seen == maxTree {
			return false, true
		}
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		dir := "/proc/" + strconv.Itoa(p) + "/task/"
		tasks, err := os.ReadDir(dir)
		if err != nil {
			if p == pid {
				return false, false
			}
			continue // a descendant that exited meanwhile
		}
		for _, task := range tasks {
			stat, err := os.ReadFile(dir + task.Name() + "/stat")
			if err != nil {
				continue // a thread that exited meanwhile
			}
			state := threadState(stat)
			if p == pid && task.Name() == strconv.Itoa(pid) && (state == 'Z' || state == 'X') {
				return false, false
			}
			switch state {
			case 'S', 'I', 'Z', 'X':
			default:
				return false, true
			}
			children, err := os.ReadFile(dir + task.Name() + "/children")
			if err != nil {
				return false, true // cannot see below: not known to be asleep
			}
			for _, f := range bytes.Fields(children) {
				if child, err := strconv.Atoi(string(f)); err == nil {
					todo = append(todo, child)
				}
			}
		}
	}
	return true, true
}

// threadState is the state letter of a /proc/PID/task/TID/stat line: the
// field after the command name, which is in parentheses and may itself
// hold parentheses and spaces.
func threadState(stat []byte) byte {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return '?'
	}
	return stat[i+2]
}

// flowControl reports whether the terminal whose master is given has
// software flow control on (IXON): typing ^S there stops the child's
// output, the child then sleeps in the middle of a write, and idleness
// proves nothing. TCGETS on a master reads the terminal's settings. The
// runner turns IXON off on the terminals it creates; a child that turns it
// back on gets no idle release for the rest of its run.
func flowControl(master *os.File) bool {
	on := true
	_ = withFd(master, func(fd int) error {
		attrs, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err == nil {
			on = attrs.Iflag&unix.IXON != 0
		}
		return err
	})
	return on
}
