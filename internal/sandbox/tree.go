package sandbox

import (
	"bytes"
	"errors"
	"fmt"
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

// NoCoreDumps keeps every process this one starts from now on — the
// agent, and the children the broker starts with values in their
// environment — from leaving memory in a core dump: the agent could make
// a child dump (a relayed SIGQUIT, Ctrl-\ on its terminal, input that
// crashes it; it may raise the child's soft core limit with prlimit) and
// read the file, written where the child runs, or by the system's crash
// handler. The core size limit goes to 0, hard limit included, which no
// process without CAP_SYS_RESOURCE can raise; and the core dump filter
// (/proc/PID/coredump_filter, inherited and kept across execve) to 0, so
// that a crash handler behind a pipe, to which the kernel sends a core
// whatever the limit, gets no memory either.
//
// llms runs non-dumpable, which makes its /proc files root's: an ordinary
// user could not write the filter. The process is dumpable for the moment
// of the write, so call this before any key is read.
func NoCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("setting the core size limit to 0: %w", err)
	}
	dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("prctl(PR_GET_DUMPABLE): %w", err)
	}
	if dumpable != 1 {
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
		}
		defer unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
	if err := os.WriteFile("/proc/self/coredump_filter", []byte("0\n"), 0); err != nil {
		return fmt.Errorf("setting the core dump filter to 0: %w", err)
	}
	return nil
}

// EndTree kills (SIGKILL) every descendant of the calling process and
// reaps them, until none is left or the deadline passes; it returns how
// many processes it killed. Every process in the tree is found through
// /proc, so a process that made a session or group of its own is found
// too. It reaps with wait4(-1): call it only when nothing else of this
// process waits for a child.
//
// The tree is frozen before it is killed: every process found is stopped
// (SIGSTOP), and the tree listed again, until a listing finds none that
// has not stopped. A stopped process cannot fork, so a process that keeps
// replacing itself — fork, exit, fork again, never the same pid for long —
// is caught; killed one listing at a time it would outrun the killing and
// outlive the agent.
func EndTree(deadline time.Duration) int {
	self := os.Getpid()
	killed := map[int]bool{}
	end := time.Now().Add(deadline)
	for {
		reap()
		live, exited := descendants(self)
		// A process that exited but is not reaped yet may have handed on
		// to a child created since the listing: done only when the tree
		// is empty.
		if (len(live) == 0 && !exited) || time.Now().After(end) {
			return len(killed)
		}
		frozen := map[int]bool{}
		for !time.Now().After(end) {
			running := false
			for _, p := range live {
				if !frozen[p.pid] {
					_ = unix.Kill(p.pid, unix.SIGSTOP)
					frozen[p.pid] = true
				}
				running = running || !p.stopped
			}
			if !running && !exited {
				break
			}
			reap()
			live, exited = descendants(self)
		}
		for pid := range frozen {
			if unix.Kill(pid, unix.SIGKILL) == nil {
				killed[pid] = true
			}
		}
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

// treeProc is a live (not zombie) process of the tree.
type treeProc struct {
	pid     int
	stopped bool // stopped or traced: it runs no code
}

// descendants lists the processes below pid that have not exited, and
// reports whether a child of pid has exited and is not reaped yet. It follows each
// process's children files (/proc/PID/task/TID/children), which take
// microseconds, and lists all of /proc where the kernel has none.
func descendants(pid int) (live []treeProc, exited bool) {
	children := childrenFiles
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err != nil {
		children = scanChildren()
	}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children(p) {
			switch st := procState(c); st {
			case 0: // gone
			case 'Z', 'X':
				// Only a child of ours that exited can have handed on: the
				// children of one deeper down were re-parented to us (a
				// subreaper) as it exited, and are listed; its parent, if
				// frozen, will never reap it.
				exited = exited || p == pid
			default:
				live = append(live, treeProc{pid: c, stopped: st == 'T' || st == 't'})
			}
			queue = append(queue, c)
		}
	}
	return live, exited
}

// childrenFiles lists pid's children from its threads' children files.
func childrenFiles(pid int) []int {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range bytes.Fields(b) {
			if c, err := strconv.Atoi(string(f)); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// scanChildren reads every process's parent from /proc, once.
func scanChildren() func(int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	return func(pid int) []int { return children[pid] }
}

// procState is pid's state letter from /proc/PID/stat, 0 when it is gone.
func procState(pid int) byte {
	st, _, _ := procStat(pid)
	return st
}

// procStat reads pid's state and parent from /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+4 > len(stat) {
		return 0, 0, false
	}
	fields := bytes.Fields(stat[i+2:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], ppid, true
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
