package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's structures (linux/seccomp.h). seccomp_data: the system
// call as the filter saw it.
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

type notifRaw struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Data  seccompData
}

type notifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

type notifAddFD struct {
	ID         uint64
	Flags      uint32
	SrcFD      uint32
	NewFD      uint32
	NewFDFlags uint32
}

// The ioctls: RECV and SEND are in x/sys; ID_VALID and ADDFD are
// _IOW('!', 2, __u64) and _IOW('!', 3, struct seccomp_notif_addfd).
const (
	ioctlRecv    = unix.SECCOMP_IOCTL_NOTIF_RECV
	ioctlSend    = unix.SECCOMP_IOCTL_NOTIF_SEND
	ioctlIDValid = 0x40082102
	ioctlAddFD   = 0x40182103

	flagContinue = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	addFDSend    = unix.SECCOMP_ADDFD_FLAG_SEND // 5.14
)

// PidfdThread is pidfd_open's PIDFD_THREAD (6.9): a pidfd for one thread;
// older kernels refuse it with EINVAL.
const PidfdThread = unix.O_EXCL

func init() {
	// The sizes the ioctl numbers encode.
	if unsafe.Sizeof(notifRaw{}) != 80 || unsafe.Sizeof(notifResp{}) != 24 || unsafe.Sizeof(notifAddFD{}) != 24 {
		panic("supervise: seccomp structure sizes")
	}
}

// MaxInFlight bounds the notifications handled at once. Each can hold an
// OS thread of the supervisor (a blocking connect), and a Go program ends
// past 10,000 threads; past the bound the next call waits in the kernel.
const MaxInFlight = 512

// Key names a system call: its audit arch (AUDIT_ARCH_*) and number.
type Key struct {
	Arch uint32
	Nr   uint32
}

// A Handler decides one call. It must not keep n after returning.
type Handler func(n *Notif) Reply

// Reply is a handler's answer.
type Reply struct {
	kind  replyKind
	val   int64
	errno syscall.Errno
}

type replyKind int

const (
	replyValue replyKind = iota
	replyErrno
	replyContinue
	replySent // InjectFD answered already
)

// Return makes the call return v.
func Return(v int64) Reply { return Reply{kind: replyValue, val: v} }

// Fail makes the call fail with e.
func Fail(e syscall.Errno) Reply { return Reply{kind: replyErrno, errno: e} }

// Succeeded reports whether r makes the call succeed (a value, an
// injected descriptor, or a call continued).
func (r Reply) Succeeded() bool { return r.kind != replyErrno }

// Continue lets the kernel run the call as the caller made it. The kernel
// reads the caller's memory again then, so continue only a call whose
// decision rests on its argument values.
func Continue() Reply { return Reply{kind: replyContinue} }

// Notif is one notification: the calling thread, stopped in the call.
type Notif struct {
	ID   uint64
	TID  int // the calling thread, in the supervisor's pid namespace
	Arch uint32
	Nr   uint32
	Args [6]uint64

	srv   *Server
	pidfd int // of the caller (its thread where the kernel can), once opened
	tgid  int
}

// ErrGone: the notification no longer stands (the thread was killed or
// interrupted), so what was read may belong to another thread.
var ErrGone = errors.New("the call is no longer pending")

// Valid reports whether the notification still stands: the thread is
// still stopped in this call, so the TID still names it.
func (n *Notif) Valid() bool {
	id := n.ID
	return n.srv.ioctl(ioctlIDValid, unsafe.Pointer(&id)) == nil
}

// Read fills buf from the caller's memory at addr, then checks that the
// call still stands. The caller may change that memory at any moment: use
// the copy, never read it again.
func (n *Notif) Read(addr uint64, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	got, err := n.readSome(addr, buf)
	if err != nil {
		return err
	}
	if got != len(buf) {
		return unix.EFAULT
	}
	if !n.Valid() {
		return ErrGone
	}
	return nil
}

// readSome reads what it can from addr, stopping at an unmapped page.
func (n *Notif) readSome(addr uint64, buf []byte) (int, error) {
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	got, err := unix.ProcessVMReadv(n.TID, local, remote, 0)
	if err != nil {
		return 0, err
	}
	return got, nil
}

// ReadString reads a NUL-terminated string of at most max bytes (the NUL
// included) at addr, a page at a time, then checks that the call still
// stands. ENAMETOOLONG when there is no NUL within max.
func (n *Notif) ReadString(addr uint64, max int) (string, error) {
	const page = 4096
	var out []byte
	for len(out) < max {
		chunk := page - int(addr%page)
		chunk = min(chunk, max-len(out))
		buf := make([]byte, chunk)
		got, err := n.readSome(addr, buf)
		if err != nil {
			return "", err
		}
		if got == 0 {
			return "", unix.EFAULT
		}
		if i := bytes.IndexByte(buf[:got], 0); i >= 0 {
			out = append(out, buf[:i]...)
			if !n.Valid() {
				return "", ErrGone
			}
			return string(out), nil
		}
		out = append(out, buf[:got]...)
		addr += uint64(got)
	}
	return "", unix.ENAMETOOLONG
}

// Tgid is the caller's process (thread group) id.
func (n *Notif) Tgid() (int, error) {
	if n.tgid != 0 {
		return n.tgid, nil
	}
	tgid, err := StatusField(n.TID, "Tgid")
	if err != nil {
		return 0, err
	}
	if !n.Valid() {
		return 0, ErrGone
	}
	n.tgid = tgid
	return tgid, nil
}

// StatusField reads a numeric field ("Tgid", "PPid") of /proc/PID/status.
func StatusField(pid int, name string) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(k) == name {
			return strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}

// callerPidfd opens a pidfd for the caller: for its thread where the
// kernel can (6.9), so that the descriptor table read is the calling
// thread's; else for its process.
func (n *Notif) callerPidfd() (int, error) {
	if n.pidfd >= 0 {
		return n.pidfd, nil
	}
	fd, err := unix.PidfdOpen(n.TID, PidfdThread)
	if errors.Is(err, unix.EINVAL) {
		var tgid int
		if tgid, err = n.Tgid(); err == nil {
			fd, err = unix.PidfdOpen(tgid, 0)
		}
	}
	if err != nil {
		return -1, err
	}
	n.pidfd = fd
	return fd, nil
}

// TakeFD duplicates the caller's descriptor fd into this process
// (pidfd_getfd, close-on-exec): the same open file, which the caller can
// no longer swap for another by dup2 once it is taken. The caller must
// close it.
func (n *Notif) TakeFD(fd int) (int, error) {
	if fd < 0 || fd > 1<<30 {
		return -1, unix.EBADF
	}
	pidfd, err := n.callerPidfd()
	if err != nil {
		return -1, err
	}
	got, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, err
	}
	if !n.Valid() {
		unix.Close(got)
		return -1, ErrGone
	}
	return got, nil
}

// InjectFD puts a copy of fd into the caller's descriptor table and makes
// the call return its number, in one step where the kernel can (5.14).
// cloexec sets close-on-exec on the copy.
func (n *Notif) InjectFD(fd int, cloexec bool) Reply {
	add := notifAddFD{ID: n.ID, SrcFD: uint32(fd)}
	if cloexec {
		add.NewFDFlags = unix.O_CLOEXEC
	}
	if !n.srv.noAddFDSend.Load() {
		add.Flags = addFDSend
		err := n.srv.ioctl(ioctlAddFD, unsafe.Pointer(&add))
		if err == nil {
			return Reply{kind: replySent}
		}
		if !errors.Is(err, unix.EINVAL) {
			return Fail(errnoOf(err, unix.EBADF))
		}
		// Before 5.14 the flag is unknown: add, then answer.
		n.srv.noAddFDSend.Store(true)
		add.Flags = 0
	}
	newfd, err := n.srv.ioctlRet(ioctlAddFD, unsafe.Pointer(&add))
	if err != nil {
		return Fail(errnoOf(err, unix.EBADF))
	}
	return Return(int64(newfd))
}

func errnoOf(err error, def syscall.Errno) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return def
}

// Server serves one listener.
type Server struct {
	handlers map[Key]Handler

	mu     sync.RWMutex // held to use fd; Close takes it to close fd
	fd     int
	closed bool

	closeOnce sync.Once
	closeErr  error

	stop        int // eventfd that wakes the loop for Close
	inFlight    chan struct{}
	running     sync.WaitGroup // handlers
	noAddFDSend atomic.Bool
	done        chan struct{}
	err         error // the loop's, once done is closed
}

// Serve takes ownership of listener, the filter's listener descriptor,
// and handles its notifications on a goroutine until Close, or until no
// process is left that the filter confines.
func Serve(listener int, handlers map[Key]Handler) (*Server, error) {
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(listener)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	s := &Server{handlers: handlers, fd: listener, stop: stop,
		inFlight: make(chan struct{}, MaxInFlight), done: make(chan struct{})}
	go func() {
		s.err = s.loop()
		close(s.done)
	}()
	return s, nil
}

// Done is closed when the loop has ended; Err then says why, nil when it
// was closed or nothing confined is left.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the loop's error, once Done is closed.
func (s *Server) Err() error { return s.err }

func (s *Server) loop() error {
	for {
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}, {Fd: int32(s.stop), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("supervise: poll: %w", err)
		}
		if fds[1].Revents != 0 {
			return nil
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
				return nil // nothing confined by the filter is left
			}
			continue
		}
		var raw notifRaw
		if err := s.ioctl(ioctlRecv, unsafe.Pointer(&raw)); err != nil {
			// ENOENT: the caller was interrupted between poll and here.
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("supervise: receiving a notification: %w", err)
		}
		s.inFlight <- struct{}{}
		s.running.Add(1)
		go s.handle(raw)
	}
}

func (s *Server) handle(raw notifRaw) {
	defer func() { <-s.inFlight; s.running.Done() }()
	n := &Notif{ID: raw.ID, TID: int(raw.PID), Arch: raw.Data.Arch, Nr: uint32(raw.Data.Nr), Args: raw.Data.Args, srv: s, pidfd: -1}
	reply := Fail(unix.EPERM)
	func() {
		defer func() {
			if recover() != nil {
				reply = Fail(unix.EPERM)
			}
		}()
		h, ok := s.handlers[Key{n.Arch, n.Nr}]
		if !ok {
			reply = Fail(unix.ENOSYS)
			return
		}
		reply = h(n)
	}()
	if n.pidfd >= 0 {
		unix.Close(n.pidfd)
	}
	if reply.kind == replySent {
		return
	}
	resp := notifResp{ID: n.ID}
	switch reply.kind {
	case replyValue:
		resp.Val = reply.val
	case replyErrno:
		resp.Error = -int32(reply.errno)
	case replyContinue:
		resp.Flags = flagContinue
	}
	// ENOENT: the caller was killed or interrupted meanwhile.
	_ = s.ioctl(ioctlSend, unsafe.Pointer(&resp))
}

// Wait returns once the loop has ended and no handler runs; call it after
// Close, before releasing what handlers use.
func (s *Server) Wait() {
	<-s.done
	s.running.Wait()
}

// Close stops receiving and closes the listener: every call still
// waiting, and every later one, fails with ENOSYS. Handlers still running
// find their answer refused.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		one := uint64(1)
		unix.Write(s.stop, (*[8]byte)(unsafe.Pointer(&one))[:])
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		unix.Close(s.stop)
		s.closeErr = unix.Close(s.fd)
	})
	return s.closeErr
}

func (s *Server) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, err := s.ioctlRet(req, arg)
	return err
}

func (s *Server) ioctlRet(req uintptr, arg unsafe.Pointer) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return -1, unix.EBADF
	}
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), req, uintptr(arg))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
