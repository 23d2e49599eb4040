package runner

import (
	"bufio"
	"bytes"
	"maps"
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
// byte it wrote has been read and, at two looks recheck apart, no thread
// of it or of any process below it could run — each asleep (S), idle (I),
// or dead (Z, X) — and none ran in between: the count of its context
// switches is unchanged. Running or waiting for a CPU (R), uninterruptible
// sleep (D), stopped (T, t), parked (P), paging (W) or any other state
// puts the release off. Two looks, because reading the threads one after
// another is no snapshot: a runtime that hands its work from one thread
// to another could look asleep thread by thread. A process that left the
// tree (re-parented after its parent exited) is not watched; once the
// child itself has exited, nothing is released by idleness any more, only
// by position and at the end of the output.

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

// maxTree bounds the threads looked at; a larger tree is taken as busy.
const maxTree = 4096

// treeWatch looks at the child's tree (through /proc/PID/task/TID/status
// and children) and keeps what it saw.
type treeWatch struct {
	child *os.Process
	last  map[int]uint64 // each thread's context switches at the last look, if all were asleep
}

// verdict is quiet when the tree is asleep now and was, unchanged, at the
// last look; never once the child has exited. The signal 0, sent through
// the child's pidfd after the look, fails once the child has been reaped:
// its pid, which may then be reused, still named it during the look.
func (w *treeWatch) verdict() verdict {
	now, ok := lookAtTree(w.child.Pid)
	if !ok || w.child.Signal(syscall.Signal(0)) != nil {
		return never
	}
	same := now != nil && w.last != nil && maps.Equal(now, w.last)
	w.last = now
	if !same {
		return busy
	}
	return quiet
}

// lookAtTree returns the context switches of every thread of pid and of
// the processes below it, or nil if one of them is not asleep. ok is false
// when pid itself is gone or has exited (a zombie).
func lookAtTree(pid int) (switches map[int]uint64, ok bool) {
	switches = map[int]uint64{}
	todo := []int{pid}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		dir := "/proc/" + strconv.Itoa(p) + "/task/"
		tasks, err := os.ReadDir(dir)
		if err != nil {
			if p == pid {
				return nil, false
			}
			continue // a descendant that exited meanwhile
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			status, err := os.ReadFile(dir + task.Name() + "/status")
			if err != nil {
				continue // a thread that exited meanwhile
			}
			state, n := threadStatus(status)
			if tid == pid && (state == 'Z' || state == 'X') {
				return nil, false
			}
			switch state {
			case 'S', 'I', 'Z', 'X':
			default:
				return nil, true
			}
			if switches[tid] = n; len(switches) > maxTree {
				return nil, true
			}
			children, err := os.ReadFile(dir + task.Name() + "/children")
			if err != nil {
				return nil, true // cannot see below: not known to be asleep
			}
			for _, f := range bytes.Fields(children) {
				if child, err := strconv.Atoi(string(f)); err == nil {
					todo = append(todo, child)
				}
			}
		}
	}
	return switches, true
}

// threadStatus reads a /proc/PID/task/TID/status file: the state letter
// and the number of context switches, voluntary and not.
func threadStatus(status []byte) (state byte, switches uint64) {
	state = '?'
	lines := bufio.NewScanner(bytes.NewReader(status))
	for lines.Scan() {
		name, value, ok := bytes.Cut(lines.Bytes(), []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case !ok || len(value) == 0:
		case string(name) == "State":
			state = value[0]
		case string(name) == "voluntary_ctxt_switches" || string(name) == "nonvoluntary_ctxt_switches":
			n, err := strconv.ParseUint(string(value), 10, 64)
			if err != nil {
				return '?', 0
			}
			switches += n
		}
	}
	return state, switches
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
