package sandbox

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// BecomeSubreaper makes the calling process the child subreaper of its
// tree: a process the agent leaves behind (a daemon that double-forked, a
// background job of a shell that exited) is re-parented here rather than
// to init, so that EndTree can find and end it.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// EndTree kills (SIGKILL) every descendant of the calling process and
// reaps them, until none is left or the deadline passes; it returns how
// many processes it killed. Every process in the tree is found through
// /proc, so a process that made a session or group of its own is found
// too. It reaps with wait4(-1): call it only when nothing else of this
// process waits for a child.
func EndTree(deadline time.Duration) int {
	self := os.Getpid()
	killed := map[int]bool{}
	end := time.Now().Add(deadline)
	for {
		reap()
		live := descendants(self)
		if len(live) == 0 || time.Now().After(end) {
			return len(killed)
		}
		for _, pid := range live {
			if unix.Kill(pid, unix.SIGKILL) == nil {
				killed[pid] = true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reap collects every child that has exited.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || errors.Is(err, unix.ECHILD) {
			return
		}
	}
}

// descendants lists the processes below pid that have not exited (zombies
// are left to reap).
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	zombie := map[int]bool{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+4 > len(stat) {
			continue
		}
		fields := bytes.Fields(stat[i+2:])
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(string(fields[1]))
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], p)
		zombie[p] = string(fields[0]) == "Z"
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !zombie[c] {
				out = append(out, c)
			}
			queue = append(queue, c)
		}
	}
	return out
}

// Confined reports whether this process looks like it runs inside agent
// mode's sandbox: its rules never let "/" be listed (the hidden paths are
// beneath it), which outside a Landlock domain is always allowed.
func Confined() bool {
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		return false
	}
	return errors.Is(err, unix.EACCES)
}
