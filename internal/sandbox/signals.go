package sandbox

import (
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/supervise"
)

// Below Landlock ABI 6 nothing scopes the agent's signals: it could stop
// (SIGSTOP) a child the broker started with a value, or kill the launcher
// — by pid, by its process group (the agent shares the launcher's),
// kill(-1), or SIGIO set to them with F_SETOWN. The supervisor lets
// signals reach the agent's tree only, as ABI 6 would.
//
// A signal to the caller's own process (or a thread of it) runs as made:
// that pid names the caller, stopped in the call, for as long as the call
// lasts. Any other is sent by the supervisor through a pidfd, opened
// before the process is judged and checked alive after, so that a pid
// that died and was reused in between — 32,768 pids go round fast —
// cannot turn the decision onto another process; "continue" would have the
// kernel look the number up again. Such a signal arrives as from
// sigqueue(3) (si_code SI_QUEUE) with the sender's pid and uid, not as from
// kill(2) (SI_USER): the kernel lets no process fake SI_USER for another.
// A signal for one thread of another process goes to that thread where
// the kernel has thread pidfds (6.9), else to its process.

// siginfo: si_signo, si_errno, si_code, then (64-bit layout) the union at
// 16: si_pid, si_uid.
const (
	siginfoSize = 128
	siQueue     = -1 // SI_QUEUE
	// siQueueCode is SI_QUEUE as the kernel's int holds it.
	siQueueCode = 1<<32 + siQueue
	siTkill     = -6 // SI_TKILL
	maxSignal   = 64
	ownerTID    = 0 // F_OWNER_TID
	ownerPID    = 1 // F_OWNER_PID
)

type siginfo [siginfoSize]byte

func (si *siginfo) raw() *unix.Siginfo { return (*unix.Siginfo)(unsafe.Pointer(si)) }
func (si *siginfo) code() int32        { return int32(binary.NativeEndian.Uint32(si[8:])) }

// queued is the siginfo of a signal the supervisor sends for process
// tgid.
func queued(sig, tgid int) *siginfo {
	var si siginfo
	ne := binary.NativeEndian
	ne.PutUint32(si[0:], uint32(sig))
	ne.PutUint32(si[8:], uint32(siQueueCode))
	ne.PutUint32(si[16:], uint32(tgid))
	ne.PutUint32(si[20:], uint32(os.Getuid()))
	return &si
}

// givenInfo reads the siginfo a caller passed for another process: the
// kernel refuses one that claims to come from kill or tgkill, and so does
// this. 32-bit callers' layout differs: refused.
func givenInfo(n *supervise.Notif, addr uint64, sig int, native bool) (*siginfo, supervise.Reply, bool) {
	if !native {
		return nil, supervise.Fail(unix.EPERM), false
	}
	var si siginfo
	if err := n.Read(addr, si[:]); err != nil {
		return nil, fail(err), false
	}
	if si.code() >= 0 || si.code() == siTkill {
		return nil, supervise.Fail(unix.EPERM), false
	}
	binary.NativeEndian.PutUint32(si[0:], uint32(sig))
	return &si, supervise.Reply{}, true
}

func validSignal(sig int) bool { return sig >= 0 && sig <= maxSignal }

// kill(pid, sig).
func (s *Supervisor) kill(n *supervise.Notif, _ bool) supervise.Reply {
	pid, sig := int32(n.Args[0]), int(int32(n.Args[1]))
	if !validSignal(sig) {
		return supervise.Fail(unix.EINVAL)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	switch {
	case int(pid) == tgid:
		return supervise.Continue()
	case pid > 0:
		return s.signalProcess(int(pid), sig, queued(sig, tgid))
	case pid == 0:
		pgid, err := unix.Getpgid(tgid)
		if err != nil {
			return fail(err)
		}
		return s.signalGroup(pgid, sig, queued(sig, tgid))
	case pid == -1:
		return s.signalAll(tgid, sig, queued(sig, tgid))
	case pid == math.MinInt32:
		return supervise.Fail(unix.ESRCH)
	default:
		return s.signalGroup(int(-pid), sig, queued(sig, tgid))
	}
}

// tkill(tid, sig).
func (s *Supervisor) tkill(n *supervise.Notif, _ bool) supervise.Reply {
	tid, sig := int(int32(n.Args[0])), int(int32(n.Args[1]))
	if tid <= 0 || !validSignal(sig) {
		return supervise.Fail(unix.EINVAL)
	}
	if tid == n.TID {
		return supervise.Continue()
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	owner, err := supervise.StatusField(tid, "Tgid")
	if err != nil {
		return supervise.Fail(unix.ESRCH)
	}
	return s.signalThread(owner, tid, sig, queued(sig, tgid))
}

// tgkill(tgid, tid, sig): for the caller's own process the kernel checks
// that tid is one of its threads, so it runs as made.
func (s *Supervisor) tgkill(n *supervise.Notif, _ bool) supervise.Reply {
	target, tid, sig := int(int32(n.Args[0])), int(int32(n.Args[1])), int(int32(n.Args[2]))
	if target <= 0 || tid <= 0 || !validSignal(sig) {
		return supervise.Fail(unix.EINVAL)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	if target == tgid {
		return supervise.Continue()
	}
	return s.signalThread(target, tid, sig, queued(sig, tgid))
}

// rt_sigqueueinfo(tgid, sig, info).
func (s *Supervisor) sigqueue(n *supervise.Notif, native bool) supervise.Reply {
	target, sig := int(int32(n.Args[0])), int(int32(n.Args[1]))
	if !validSignal(sig) {
		return supervise.Fail(unix.EINVAL)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	if target == tgid {
		return supervise.Continue()
	}
	si, r, ok := givenInfo(n, n.Args[2], sig, native)
	if !ok {
		return r
	}
	return s.signalProcess(target, sig, si)
}

// rt_tgsigqueueinfo(tgid, tid, sig, info).
func (s *Supervisor) tgsigqueue(n *supervise.Notif, native bool) supervise.Reply {
	target, tid, sig := int(int32(n.Args[0])), int(int32(n.Args[1])), int(int32(n.Args[2]))
	if target <= 0 || tid <= 0 || !validSignal(sig) {
		return supervise.Fail(unix.EINVAL)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	if target == tgid {
		return supervise.Continue()
	}
	si, r, ok := givenInfo(n, n.Args[3], sig, native)
	if !ok {
		return r
	}
	return s.signalThread(target, tid, sig, si)
}

// pidfd_send_signal(pidfd, sig, info, flags): the descriptor (a pidfd or
// a /proc/PID directory) is taken from the caller, so the process it
// names is the one judged and signalled.
func (s *Supervisor) pidfdSignal(n *supervise.Notif, native bool) supervise.Reply {
	fd, sig, flags := int(int32(n.Args[0])), int(int32(n.Args[1])), int(uint32(n.Args[3]))
	known := unix.PIDFD_SIGNAL_THREAD | unix.PIDFD_SIGNAL_THREAD_GROUP | unix.PIDFD_SIGNAL_PROCESS_GROUP
	if !validSignal(sig) || flags&^known != 0 {
		return supervise.Fail(unix.EINVAL)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	dup, err := n.TakeFD(fd)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(dup)
	target, ok := pidfdTarget(dup)
	if !ok {
		return supervise.Fail(unix.EBADF)
	}
	if target < 0 {
		return supervise.Fail(unix.ESRCH)
	}
	owner, err := supervise.StatusField(target, "Tgid")
	if err != nil {
		return supervise.Fail(unix.ESRCH)
	}
	if !s.inTree(owner) {
		return supervise.Fail(unix.EPERM)
	}
	if unix.PidfdSendSignal(dup, 0, nil, 0) != nil {
		return supervise.Fail(unix.ESRCH) // the pid was read after it exited
	}
	si := queued(sig, tgid)
	if n.Args[2] != 0 {
		var r supervise.Reply
		if si, r, ok = givenInfo(n, n.Args[2], sig, native); !ok {
			return r
		}
	}
	if flags&unix.PIDFD_SIGNAL_PROCESS_GROUP != 0 {
		pgid, err := unix.Getpgid(owner)
		if err != nil {
			return fail(err)
		}
		return s.signalGroup(pgid, sig, si)
	}
	if sig == 0 {
		return supervise.Return(0)
	}
	return result(unix.PidfdSendSignal(dup, unix.Signal(sig), si.raw(), flags))
}

// pidfdTarget is the pid a pidfd or /proc/PID directory descriptor names,
// -1 when that process has exited.
func pidfdTarget(fd int) (int, bool) {
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "Pid:"); ok {
				pid, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || pid == 0 {
					return 0, false
				}
				return max(pid, -1), true
			}
		}
	}
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	if rest, ok := strings.CutPrefix(link, "/proc/"); ok {
		if pid, err := strconv.Atoi(rest); err == nil && pid > 0 {
			return pid, true
		}
	}
	return 0, false
}

func result(err error) supervise.Reply {
	if err != nil {
		return fail(err)
	}
	return supervise.Return(0)
}

// signalProcess sends sig to process target (a thread's pid names its
// process, as for kill) if it is in the agent's tree.
func (s *Supervisor) signalProcess(target, sig int, si *siginfo) supervise.Reply {
	p, err := pin(target)
	if err == unix.EINVAL { // not a thread group leader: its process
		owner, serr := supervise.StatusField(target, "Tgid")
		if serr != nil {
			return supervise.Fail(unix.ESRCH)
		}
		p, err = pin(owner)
	}
	if err != nil {
		return fail(err)
	}
	defer p.close()
	if !s.inTree(p.pid) {
		return supervise.Fail(unix.EPERM)
	}
	if !p.alive() {
		return supervise.Fail(unix.ESRCH)
	}
	if sig == 0 {
		return supervise.Return(0)
	}
	return result(unix.PidfdSendSignal(p.pidfd, unix.Signal(sig), si.raw(), 0))
}

// signalThread sends sig to thread tid of process tgid, in the agent's
// tree.
func (s *Supervisor) signalThread(tgid, tid, sig int, si *siginfo) supervise.Reply {
	if owner, err := supervise.StatusField(tid, "Tgid"); err != nil || owner != tgid {
		return supervise.Fail(unix.ESRCH)
	}
	fd, err := unix.PidfdOpen(tid, supervise.PidfdThread)
	if err == unix.EINVAL { // before 6.9: its process
		return s.signalProcess(tgid, sig, si)
	}
	if err != nil {
		return fail(err)
	}
	defer unix.Close(fd)
	owner, err := supervise.StatusField(tid, "Tgid")
	if err != nil || owner != tgid || !s.inTree(tgid) {
		return supervise.Fail(unix.EPERM)
	}
	if unix.PidfdSendSignal(fd, 0, nil, 0) != nil {
		return supervise.Fail(unix.ESRCH)
	}
	if sig == 0 {
		return supervise.Return(0)
	}
	return result(unix.PidfdSendSignal(fd, unix.Signal(sig), si.raw(), unix.PIDFD_SIGNAL_THREAD))
}

// signalGroup sends sig to the members of process group pgid that are in
// the agent's tree: ABI 6's answer, where the others are out of scope.
func (s *Supervisor) signalGroup(pgid, sig int, si *siginfo) supervise.Reply {
	if pgid <= 0 {
		return supervise.Fail(unix.ESRCH)
	}
	sent := s.signalEach(func(pid int) bool {
		g, err := unix.Getpgid(pid)
		return err == nil && g == pgid
	}, sig, si)
	if sent {
		return supervise.Return(0)
	}
	if err := unix.Kill(-pgid, 0); err == unix.ESRCH {
		return supervise.Fail(unix.ESRCH)
	}
	return supervise.Fail(unix.EPERM)
}

// signalAll is kill(-1): every process of the tree but the caller's. The
// kernel answers 0 when it found any process at all, even one it could not
// signal, as ABI 6 does for those outside the domain.
func (s *Supervisor) signalAll(tgid, sig int, si *siginfo) supervise.Reply {
	s.signalEach(func(pid int) bool { return pid != tgid }, sig, si)
	return supervise.Return(0)
}

// signalEach sends sig to each live process of the tree that pick
// selects; it reports whether one got it.
func (s *Supervisor) signalEach(pick func(pid int) bool, sig int, si *siginfo) bool {
	sent := false
	for _, pid := range s.treePids() {
		p, err := pin(pid)
		if err != nil {
			continue
		}
		if pick(pid) && s.stillOurs(p) && (sig == 0 || unix.PidfdSendSignal(p.pidfd, unix.Signal(sig), si.raw(), 0) == nil) {
			sent = true
		}
		p.close()
	}
	return sent
}

// fcntl(fd, F_SETOWN/F_SETOWN_EX, owner): SIGIO goes to the caller's own
// process or thread, or to no one.
func (s *Supervisor) fcntl(n *supervise.Notif, _ bool) supervise.Reply {
	fd, cmd := int(int32(n.Args[0])), uint32(n.Args[1])
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	switch cmd {
	case unix.F_SETOWN:
		if owner := int(int32(n.Args[2])); owner == 0 || owner == tgid {
			return supervise.Continue()
		}
		return supervise.Fail(unix.EPERM)
	case unix.F_SETOWN_EX:
		// struct f_owner_ex {int type; pid_t pid;}: in memory, so the
		// supervisor sets it from its copy, on the caller's file.
		var ex [8]byte
		if err := n.Read(n.Args[2], ex[:]); err != nil {
			return fail(err)
		}
		typ, owner := int32(binary.NativeEndian.Uint32(ex[0:])), int(int32(binary.NativeEndian.Uint32(ex[4:])))
		if owner != 0 && !(typ == ownerPID && owner == tgid) && !(typ == ownerTID && owner == n.TID) {
			return supervise.Fail(unix.EPERM)
		}
		dup, err := n.TakeFD(fd)
		if err != nil {
			return fail(err)
		}
		defer unix.Close(dup)
		if _, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(dup), unix.F_SETOWN_EX, uintptr(unsafe.Pointer(&ex[0]))); e != 0 {
			return supervise.Fail(e)
		}
		return supervise.Return(0)
	}
	return supervise.Continue()
}

// ioctl(fd, FIOSETOWN/SIOCSPGRP, &owner): as F_SETOWN; the owner is in
// memory, so the supervisor sets it from its copy.
func (s *Supervisor) ioctlOwner(n *supervise.Notif) supervise.Reply {
	fd, req := int(int32(n.Args[0])), uint32(n.Args[1])
	if req != fioSetOwn && req != unix.SIOCSPGRP {
		return supervise.Continue()
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	var b [4]byte
	if err := n.Read(n.Args[2], b[:]); err != nil {
		return fail(err)
	}
	owner := int(int32(binary.NativeEndian.Uint32(b[:])))
	if owner != 0 && owner != tgid {
		return supervise.Fail(unix.EPERM)
	}
	dup, err := n.TakeFD(fd)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(dup)
	if req == unix.SIOCSPGRP {
		if _, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
			return supervise.Fail(unix.ENOTTY)
		}
	}
	if _, err := unix.FcntlInt(uintptr(dup), unix.F_SETOWN, owner); err != nil {
		return fail(err)
	}
	return supervise.Return(0)
}
