package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/supervise"
)

// The supervisor is the launcher's half of the agent's filter: it answers
// the calls the filter sends it (docs/adr/0029) — and the connects of the
// programs the broker runs for the agent (children.go). What it guards is what
// existed outside the sandbox — the user's Unix sockets, terminals and
// processes — while what the agent makes itself keeps working: its own
// servers, its own terminals, signals within its own tree.
//
//   - connect: performed by the supervisor on the agent's socket (taken
//     with pidfd_getfd) with the address read once from the agent's
//     memory, never "continued": the kernel would read the address, and
//     the descriptor table, again. A Unix socket by path or abstract name
//     is reachable when it is the broker's, one the user named with
//     --allow-socket, or one a process of the agent's tree listens on;
//     anything else is refused (EACCES; ECONNREFUSED when nothing
//     listens). An internet address is decided by the egress rules
//     (egress.go). AF_UNSPEC (a disconnect) and AF_NETLINK are connected
//     as asked; other families only with --allow-net.
//   - open of /dev/pts/N read-write: when a process of the agent's tree
//     holds the master of N, the supervisor opens the peer from that master
//     (TIOCGPTPEER) and puts it into the caller's table; every other open
//     runs as made, and Landlock, which allows no terminal under /dev/pts
//     but the launcher's own, decides.
//   - below Landlock ABI 6, which scopes signals: the kill family reaches
//     only the agent's tree — a process group or kill(-1) only its members
//     there — and SIGIO only the calling process.
//
// The agent's tree is the agent and its descendants: __sandbox-exec makes
// the agent a child subreaper, so that an orphan of the tree is adopted
// by the agent, never by the launcher, where the broker's children live.

// Supervisor answers one agent's mediated calls.
type Supervisor struct {
	signals bool     // mediate the kill family (below ABI 6)
	allowed []fileID // the broker's socket and --allow-socket's
	names   []string // --allow-socket's, as given
	broker  fileID   // the broker's socket
	root    atomic.Int64
	rootFD  int // a pidfd of the agent: its pid names it only while it lives
	srv     *supervise.Server
	egress  Egress           // what TCP/IP reaches (egress.go)
	tcp     []netip.AddrPort // AllowTCP's

	mu sync.Mutex
	// For whom each connection to the broker was made: the agent's
	// socket's inode, and the caller, pinned.
	conns map[uint64]pinned
	// Where a listening socket of the tree was last found: its inode, and
	// the holder (pinned) and descriptor, checked again before use.
	holders map[uint32]holder
	// The listeners of the broker's children (children.go), served until
	// their last process is gone or Close.
	children map[*supervise.Server]struct{}
	closed   bool
}

// holder is a process of the tree holding a socket at descriptor fd.
type holder struct {
	p  pinned
	fd int
}

// maxHolders bounds the holders remembered (each holds a pidfd).
const maxHolders = 64

// maxConns bounds the broker connections remembered until the broker
// accepts them (each holds a pidfd). One the agent closes before the
// broker accepts it is never asked for: without a bound, a loop of
// connect and close would spend the launcher's descriptors.
const maxConns = 1024

// ErrBadSocket: an --allow-socket path that is not absolute or not a
// Unix socket.
var ErrBadSocket = errors.New("--allow-socket")

// NewSupervisor prepares the supervisor of an agent confined by r, which
// lets the agent reach the Unix sockets allow names (--allow-socket:
// absolute paths, each a socket now) beside its own. Each is pinned to the
// file it names now: a file put in its place later is not allowed. It
// refuses where the kernel would not let it look into the agent's
// processes (Yama's ptrace_scope).
func NewSupervisor(r *Rules, allow []string) (*Supervisor, error) {
	if err := ptraceScopeAllows(); err != nil {
		return nil, err
	}
	s := &Supervisor{signals: signalsMediated(r.ABI), rootFD: -1, conns: map[uint64]pinned{}, holders: map[uint32]holder{},
		children: map[*supervise.Server]struct{}{}}
	for _, p := range allow {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("%w %s: the path must be absolute (or start with ~/)", ErrBadSocket, p)
		}
		p = filepath.Clean(p)
		if err := s.AllowSocket(p); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrBadSocket, p, errors.Unwrap(err))
		}
		s.names = append(s.names, p)
	}
	return s, nil
}

// AllowBroker lets the agent connect to the broker's socket at path,
// pinned to the file it names now; ConnectedFor then names the caller of
// each connection.
func (s *Supervisor) AllowBroker(path string) error {
	if err := s.AllowSocket(path); err != nil {
		return err
	}
	s.broker = s.allowed[len(s.allowed)-1]
	return nil
}

// rememberConn records that the supervisor connects the socket ino for
// the process p, for ConnectedFor; s.mu is held. When the record is full,
// one is dropped (its connection, if the broker still accepts it, is then
// refused: the agent's own loss).
func (s *Supervisor) rememberConn(ino uint64, p pinned) {
	if old, ok := s.conns[ino]; ok {
		old.close()
		delete(s.conns, ino)
	}
	for k, old := range s.conns {
		if len(s.conns) < maxConns {
			break
		}
		old.close()
		delete(s.conns, k)
	}
	s.conns[ino] = p
}

// ConnectedFor names the agent's process for which the supervisor made
// the connection conn accepted on the broker's socket (whose SO_PEERCRED
// names the launcher, which connected it), and a pidfd pinning it, which
// the caller closes.
func (s *Supervisor) ConnectedFor(conn *net.UnixConn) (pid, pidfd int, ok bool) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, -1, false
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return 0, -1, false
	}
	peer, err := unixPeer(uint32(st.Ino))
	if err != nil {
		return 0, -1, false
	}
	s.mu.Lock()
	p, ok := s.conns[uint64(peer)]
	delete(s.conns, uint64(peer))
	s.mu.Unlock()
	if !ok {
		return 0, -1, false
	}
	return p.pid, p.pidfd, true
}

// AllowSocket lets the agent connect to the Unix socket at path, pinned to
// the file it names now.
func (s *Supervisor) AllowSocket(path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fmt.Errorf("sandbox: socket %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fmt.Errorf("sandbox: socket %s: %w", path, errors.New("not a Unix socket"))
	}
	s.allowed = append(s.allowed, fileID{dev: st.Dev, ino: st.Ino})
	return nil
}

// AllowedSockets are the --allow-socket paths, for the launch message and
// the audit line.
func (s *Supervisor) AllowedSockets() []string { return s.names }

// ptraceScopeAllows: the supervisor reads the agent's memory and takes its
// descriptors, which Yama's ptrace_scope 2 leaves to CAP_SYS_PTRACE and 3
// to no one. (1, the usual, allows it: the launcher is an ancestor of every
// process of the tree.)
func ptraceScopeAllows() error {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return nil // no Yama
	}
	scope, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if scope < 2 || (scope == 2 && hasCapability(unix.CAP_SYS_PTRACE)) {
		return nil
	}
	return fmt.Errorf("agent mode reads the agent's system calls as a debugger would, which kernel.yama.ptrace_scope=%d forbids to this process; set it to 1 (sysctl kernel.yama.ptrace_scope=1)", scope)
}

// hasCapability reports whether capability c is in this process's
// effective set.
func hasCapability(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// signalsMediated: from ABI 6 Landlock scopes signals itself.
func signalsMediated(abi int) bool { return abi < 6 }

// Start receives the agent's listener from w (sent by __sandbox-exec
// before it execs the agent, which keeps its pid: the kernel's stamp on
// the message names the agent) and starts answering its calls. It fails
// when the agent exited without sending it.
func (s *Supervisor) Start(w *Wrapped) error {
	if w.supervisor == nil {
		return errors.New("sandbox: the agent was not wrapped for a supervisor")
	}
	listener, agent, err := receiveFD(w.supervisor)
	w.supervisor.Close()
	if err == nil {
		// Whatever came is the filter's listener, or nothing is served.
		if link, lerr := os.Readlink("/proc/self/fd/" + strconv.Itoa(listener)); lerr != nil || link != "anon_inode:seccomp notify" {
			unix.Close(listener)
			err = errors.New("not a seccomp listener")
		}
	}
	if err != nil {
		return fmt.Errorf("sandbox: receiving the agent's seccomp listener: %w", err)
	}
	if s.rootFD, err = unix.PidfdOpen(agent, 0); err != nil {
		unix.Close(listener)
		return fmt.Errorf("sandbox: pidfd of the agent: %w", err)
	}
	s.root.Store(int64(agent))
	srv, err := supervise.Serve(listener, s.handlers())
	if err != nil {
		return err
	}
	s.srv = srv
	return nil
}

// Close stops the supervisor: every mediated call of whatever is left of
// the tree, or of a broker child's, fails with ENOSYS.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	s.closed = true
	children := make([]*supervise.Server, 0, len(s.children))
	for srv := range s.children {
		srv.Close()
		children = append(children, srv)
	}
	for ino, p := range s.conns {
		p.close()
		delete(s.conns, ino)
	}
	for ino, h := range s.holders {
		h.p.close()
		delete(s.holders, ino)
	}
	s.mu.Unlock()
	var err error
	if s.srv != nil {
		err = s.srv.Close()
	}
	// A handler still running (a blocking connect) answers into the
	// closed listener; what it uses is closed after it.
	go func() {
		if s.srv != nil {
			s.srv.Wait()
		}
		for _, srv := range children {
			srv.Wait()
		}
		if s.rootFD >= 0 {
			unix.Close(s.rootFD)
		}
	}()
	return err
}

// handlers maps each arch's mediated calls to their handlers.
func (s *Supervisor) handlers() map[supervise.Key]supervise.Handler {
	h := map[supervise.Key]supervise.Handler{}
	for arch, c := range callTable() {
		native := arch == unix.AUDIT_ARCH_X86_64 || arch == unix.AUDIT_ARCH_AARCH64
		set := func(nrs []uint32, f supervise.Handler) {
			for _, nr := range nrs {
				h[supervise.Key{Arch: arch, Nr: nr}] = f
			}
		}
		set(c.connect, s.connect)
		set(c.open, func(n *supervise.Notif) supervise.Reply { return s.open(n, -1, 0, 1) })
		set(c.openat, func(n *supervise.Notif) supervise.Reply { return s.open(n, 0, 1, 2) })
		set(c.openat2, s.openat2)
		if s.signals {
			// kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo,
			// pidfd_send_signal: callTable's order.
			for i, f := range []func(*supervise.Notif, bool) supervise.Reply{s.kill, s.tkill, s.tgkill, s.sigqueue, s.tgsigqueue, s.pidfdSignal} {
				set(c.signal[i:i+1], func(n *supervise.Notif) supervise.Reply { return f(n, native) })
			}
			set(c.fcntl, func(n *supervise.Notif) supervise.Reply { return s.fcntl(n, native) })
			set(c.ioctl, s.ioctlOwner)
		}
	}
	return h
}

// fail turns a handler's error into the caller's errno: what the kernel
// said, EPERM when the supervisor may not look into the caller (a process
// that made itself non-dumpable, when the launcher is not root).
func fail(err error) supervise.Reply {
	var e unix.Errno
	if errors.As(err, &e) && e != unix.ESRCH {
		return supervise.Fail(e)
	}
	return supervise.Fail(unix.EPERM)
}

// receiveFD receives one descriptor sent with SCM_RIGHTS on c, and the
// sender's pid from the credentials the kernel adds (c has SO_PASSCRED).
func receiveFD(c *os.File) (fd, pid int, err error) {
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4)+unix.CmsgSpace(unix.SizeofUcred))
	for {
		_, oobn, _, _, err := unix.Recvmsg(int(c.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, 0, err
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return -1, 0, errors.New("no descriptor received")
		}
		var fds []int
		for i := range msgs {
			if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
				pid = int(cred.Pid)
			} else if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
				fds = append(fds, got...)
			}
		}
		if len(fds) != 1 || pid <= 0 {
			for _, f := range fds {
				unix.Close(f)
			}
			return -1, 0, errors.New("no descriptor received from a known process")
		}
		return fds[0], pid, nil
	}
}

// sendFD sends fd with SCM_RIGHTS on the descriptor c.
func sendFD(c, fd int) error {
	return unix.Sendmsg(c, []byte{'L'}, unix.UnixRights(fd), nil, 0)
}

// ---- the agent's tree ----

// procTree is a process and its descendants: the agent's tree, or a
// broker child's (children.go). rootFD, a pidfd, pins the root.
type procTree struct{ root, rootFD int }

// tree is the agent's tree.
func (s *Supervisor) tree() procTree { return procTree{int(s.root.Load()), s.rootFD} }

// inTree reports whether pid is the agent or descends from it.
func (s *Supervisor) inTree(pid int) bool { return s.tree().contains(pid) }

// contains reports whether pid is the root or descends from it, following
// parents through /proc. Callers pin the process with a pidfd first and
// check that it is still alive after: a pid read by number may otherwise
// name another process by then. Once the root has been reaped its pid
// may name another process: the tree is then empty (the agent's orphans
// are the launcher's, which ends them).
func (t procTree) contains(pid int) bool {
	for depth := 0; pid > 1 && depth < 4096; depth++ {
		if pid == t.root {
			return unix.PidfdSendSignal(t.rootFD, 0, nil, 0) == nil
		}
		_, ppid, ok := procStat(pid)
		if !ok {
			return false
		}
		pid = ppid
	}
	return false
}

// treePids lists the agent and its live descendants.
func (s *Supervisor) treePids() []int {
	root := int(s.root.Load())
	pids := []int{root}
	live, _ := descendants(root)
	for _, p := range live {
		pids = append(pids, p.pid)
	}
	return pids
}

// pinned is a process of the tree held by a pidfd.
type pinned struct {
	pid, pidfd int
}

// pin opens a pidfd for pid; the caller closes it.
func pin(pid int) (pinned, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return pinned{}, err
	}
	return pinned{pid, fd}, nil
}

func (p pinned) close()      { unix.Close(p.pidfd) }
func (p pinned) alive() bool { return unix.PidfdSendSignal(p.pidfd, 0, nil, 0) == nil }

// stillOurs: after a decision that read /proc by pid, the pinned process
// is alive (so the pid named it throughout) and in the agent's tree.
func (s *Supervisor) stillOurs(p pinned) bool { return s.tree().holds(p) }

// holds: the pinned process is alive and in t.
func (t procTree) holds(p pinned) bool { return t.contains(p.pid) && p.alive() }

// walk calls visit with the root and each live descendant, parents
// first, until visit returns true; it reports whether one did. A walk
// that finds what it looks for early reads no further children files.
func (t procTree) walk(visit func(pid int) bool) bool {
	root := t.root
	children := childrenFiles
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d/children", root, root)); err != nil {
		children = scanChildren()
	}
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		if st := procState(queue[0]); st == 0 || st == 'Z' || st == 'X' {
			continue
		}
		if visit(queue[0]) {
			return true
		}
		queue = append(queue, children(queue[0])...)
	}
	return false
}

// eachFD calls f with every descriptor's link target of every process
// of t, the process pinned, until f returns true; it returns the
// process f stopped at (the caller closes it), and whether it did.
func (t procTree) eachFD(f func(p pinned, fd int, link string) bool) (found pinned, ok bool) {
	t.walk(func(pid int) bool {
		p, err := pin(pid)
		if err != nil {
			return false
		}
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fd, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			link, err := os.Readlink(dir + e.Name())
			if err == nil && f(p, fd, link) {
				if t.holds(p) {
					found, ok = p, true
				} else {
					p.close()
				}
				return true
			}
		}
		p.close()
		return false
	})
	return found, ok
}

// heldWhereFound reports whether the holder remembered for socket ino
// still holds it (its descriptor's link is want) and is still the tree's.
func (s *Supervisor) heldWhereFound(ino uint32, want string) bool {
	s.mu.Lock()
	defer s.mu.Unlock() // the pidfd is closed only under the lock
	h, ok := s.holders[ino]
	if !ok {
		return false
	}
	link, err := os.Readlink("/proc/" + strconv.Itoa(h.p.pid) + "/fd/" + strconv.Itoa(h.fd))
	return err == nil && link == want && s.stillOurs(h.p)
}

// holdsSocket reports whether a process of the agent's tree holds the
// socket with inode ino — or, when also is set (a broker child's tree), a
// process of that tree only: the child holds values, and a server of the
// agent's is one the agent reads, so a client the agent points at it (a
// pinned psql, curl) would hand it the credential.
func (s *Supervisor) holdsSocket(ino uint32, also *procTree) bool {
	if also != nil {
		want := "socket:[" + strconv.FormatUint(uint64(ino), 10) + "]"
		p, ok := also.eachFD(func(_ pinned, _ int, link string) bool { return link == want })
		if ok {
			p.close()
		}
		return ok
	}
	return s.treeHoldsSocket(ino)
}

// treeHoldsSocket reports whether a process of the tree holds the socket
// with inode ino: where it was found last time, else anywhere in the tree
// (a walk that reads every descriptor of every process until it finds it).
func (s *Supervisor) treeHoldsSocket(ino uint32) bool {
	want := "socket:[" + strconv.FormatUint(uint64(ino), 10) + "]"
	if s.heldWhereFound(ino, want) {
		return true
	}
	var fd int
	p, ok := s.tree().eachFD(func(_ pinned, n int, link string) bool { fd = n; return link == want })
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, was := s.holders[ino]; was {
		cur.p.close()
		delete(s.holders, ino)
	}
	if !ok {
		return false
	}
	if len(s.holders) >= maxHolders {
		for k, old := range s.holders {
			old.p.close()
			delete(s.holders, k)
			break
		}
	}
	s.holders[ino] = holder{p, fd}
	return true
}

// ---- connect ----

// sockaddrMax is sizeof(struct sockaddr_storage): the kernel refuses a
// longer address.
const sockaddrMax = 128

func (s *Supervisor) connect(n *supervise.Notif) supervise.Reply { return s.connectFor(n, nil) }

// connectFor decides a connect of the agent's tree (also nil) or of a
// broker child's tree (also: that tree, whose listeners count as its own
// beside the agent's).
func (s *Supervisor) connectFor(n *supervise.Notif, also *procTree) supervise.Reply {
	fd, addrp, alen := int(int32(n.Args[0])), n.Args[1], int(int32(n.Args[2]))
	if alen < 0 || alen > sockaddrMax {
		return supervise.Fail(unix.EINVAL)
	}
	addr := make([]byte, alen)
	if err := n.Read(addrp, addr); err != nil {
		return fail(err)
	}
	sock, err := n.TakeFD(fd)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(sock)
	if alen < 2 {
		return connectRaw(sock, addr) // the kernel's EINVAL
	}
	switch binary.NativeEndian.Uint16(addr) {
	case unix.AF_UNIX:
		return s.connectUnix(n, sock, addr, also)
	case unix.AF_INET, unix.AF_INET6:
		return s.connectInet(sock, addr, also)
	case unix.AF_UNSPEC, unix.AF_NETLINK:
		// A disconnect; the kernel's own sockets.
		return connectRaw(sock, addr)
	}
	if s.egress.Open {
		return connectRaw(sock, addr)
	}
	return supervise.Fail(unix.EAFNOSUPPORT)
}

// connectRaw connects sock to the address in addr, as given, and answers
// with the kernel's result (EINPROGRESS for a non-blocking socket: the
// agent's own, since the descriptor is shared).
func connectRaw(sock int, addr []byte) supervise.Reply {
	var e unix.Errno
	if len(addr) == 0 {
		_, _, e = unix.Syscall(unix.SYS_CONNECT, uintptr(sock), 0, 0)
	} else {
		_, _, e = unix.Syscall(unix.SYS_CONNECT, uintptr(sock), uintptr(unsafe.Pointer(&addr[0])), uintptr(len(addr)))
	}
	if e != 0 {
		return supervise.Fail(e)
	}
	return supervise.Return(0)
}

// connectUnix decides a Unix address and connects what it decided on.
func (s *Supervisor) connectUnix(n *supervise.Notif, sock int, addr []byte, also *procTree) supervise.Reply {
	path := addr[2:]
	if len(path) == 0 {
		return connectRaw(sock, addr) // the kernel's EINVAL
	}
	if path[0] == 0 {
		return s.connectAbstract(sock, addr, also)
	}
	if i := slices.Index(path, 0); i >= 0 {
		path = path[:i]
	}
	file, err := openSocketPath(n, string(path))
	if err != nil {
		return fail(err)
	}
	defer unix.Close(file)
	if !n.Valid() {
		return supervise.Fail(unix.EPERM)
	}
	var st unix.Stat_t
	if err := unix.Fstat(file, &st); err != nil {
		return fail(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return supervise.Fail(unix.ECONNREFUSED)
	}
	id := fileID{dev: st.Dev, ino: st.Ino}
	if !slices.Contains(s.allowed, id) {
		if r, ok := s.refuseUnlessTree(func(l unixListener) bool { return l.boundTo(id) }, also); !ok {
			return r
		}
	}
	// Through the descriptor that was checked: what is connected is the
	// file that was decided on, wherever the path leads by now.
	via := binary.NativeEndian.AppendUint16(nil, unix.AF_UNIX)
	via = append(via, "/proc/self/fd/"+strconv.Itoa(file)+"\x00"...)
	if id != s.broker {
		return connectRaw(sock, via)
	}
	// The broker learns whom the connection is for before it can accept
	// it: its SO_PEERCRED names the launcher.
	var sst unix.Stat_t
	if err := unix.Fstat(sock, &sst); err != nil {
		return fail(err)
	}
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	caller, err := pin(tgid)
	if err != nil {
		return fail(err)
	}
	s.mu.Lock()
	s.rememberConn(sst.Ino, caller)
	s.mu.Unlock()
	r := connectRaw(sock, via)
	if !r.Succeeded() {
		s.mu.Lock()
		if p, ok := s.conns[sst.Ino]; ok && p == caller {
			delete(s.conns, sst.Ino)
			caller.close()
		}
		s.mu.Unlock()
	}
	return r
}

// openSocketPath opens path as connect(2) would find it for the calling
// thread, as an O_PATH descriptor. It follows
// symbolic links but no /proc magic link (/proc/PID/{fd/N,cwd,root}, and
// so /proc/self/… and /dev/fd/…): those would be resolved as the
// supervisor, which may look into processes the agent may not. Such a
// path is refused.
func openSocketPath(n *supervise.Notif, path string) (int, error) {
	// From the caller's root (RESOLVE_IN_ROOT: "/" and ".." stop there) or
	// its working directory.
	base, resolve := "/root", uint64(unix.RESOLVE_IN_ROOT)
	if !strings.HasPrefix(path, "/") {
		base, resolve = "/cwd", 0
	}
	dir, err := unix.Open("/proc/"+strconv.Itoa(n.TID)+base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dir)
	if !n.Valid() {
		return -1, supervise.ErrGone
	}
	fd, err := unix.Openat2(dir, path, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve | unix.RESOLVE_NO_MAGICLINKS})
	if err == unix.ELOOP {
		// A magic link, or a loop of symbolic links: refused either way.
		return -1, unix.EACCES
	}
	return fd, err
}

// connectAbstract connects to an abstract name the agent's tree listens
// on. Below Landlock ABI 6 nothing else scopes abstract sockets, and at
// any ABI this connect is the supervisor's, outside the agent's domain.
func (s *Supervisor) connectAbstract(sock int, addr []byte, also *procTree) supervise.Reply {
	name := addr[2:]
	if r, ok := s.refuseUnlessTree(func(l unixListener) bool { return slices.Equal(l.abstract, name) }, also); !ok {
		return r
	}
	return connectRaw(sock, addr)
}

// refuseUnlessTree is ok when a listening socket that match selects is
// held by a process of the agent's tree (or of also); else the refusal: ECONNREFUSED
// when none listens at all (as the kernel would say: a client then knows
// the server is gone, as tmux does to start its own), EACCES when a
// process outside the tree listens.
func (s *Supervisor) refuseUnlessTree(match func(unixListener) bool, also *procTree) (supervise.Reply, bool) {
	ls, err := unixListeners()
	if err != nil {
		return supervise.Fail(unix.EACCES), false
	}
	listening := false
	for _, l := range ls {
		if match(l) {
			listening = true
			if s.holdsSocket(l.ino, also) {
				return supervise.Reply{}, true
			}
		}
	}
	if !listening {
		return supervise.Fail(unix.ECONNREFUSED), false
	}
	return supervise.Fail(unix.EACCES), false
}

// ---- open ----

// pathMax is PATH_MAX, the NUL included.
const pathMax = 4096

// open mediates open and openat (dirArg -1: relative to the working
// directory): a read-write open, creating nothing, of a terminal whose
// master the agent's tree holds gets that terminal's peer.
func (s *Supervisor) open(n *supervise.Notif, dirArg, pathArg, flagsArg int) supervise.Reply {
	return s.openFlags(n, dirArg, pathArg, uint64(uint32(n.Args[flagsArg])))
}

// openat2(dirfd, path, how, size): the flags are in struct open_how.
func (s *Supervisor) openat2(n *supervise.Notif) supervise.Reply {
	if n.Args[3] < 8 {
		return supervise.Continue()
	}
	how := make([]byte, 8)
	if err := n.Read(n.Args[2], how); err != nil {
		return supervise.Continue()
	}
	return s.openFlags(n, 0, 1, binary.NativeEndian.Uint64(how))
}

func (s *Supervisor) openFlags(n *supervise.Notif, dirArg, pathArg int, flags uint64) supervise.Reply {
	if flags&unix.O_ACCMODE != unix.O_RDWR || flags&(unix.O_CREAT|unix.O_PATH|unix.O_DIRECTORY) != 0 {
		return supervise.Continue()
	}
	path, err := n.ReadString(n.Args[pathArg], pathMax)
	if err != nil {
		return supervise.Continue()
	}
	index, ok := s.ptsIndex(n, dirArg, path)
	if !ok {
		return supervise.Continue()
	}
	peer, err := s.treePeer(index, int(flags&unix.O_NONBLOCK))
	if err != nil {
		return supervise.Continue() // Landlock's rules decide
	}
	defer unix.Close(peer)
	return n.InjectFD(peer, flags&unix.O_CLOEXEC != 0)
}

// ptsIndex is N when path, made absolute against the caller's working
// directory or dirfd and cleaned, is /dev/pts/N. A path that reaches a
// terminal through a symbolic link is not recognised: it is opened as made,
// and Landlock refuses it.
func (s *Supervisor) ptsIndex(n *supervise.Notif, dirArg int, path string) (int, bool) {
	if !strings.HasPrefix(path, "/") {
		link := "/proc/" + strconv.Itoa(n.TID) + "/cwd"
		if dirArg >= 0 {
			if dirfd := int32(n.Args[dirArg]); dirfd != unix.AT_FDCWD {
				link = "/proc/" + strconv.Itoa(n.TID) + "/fd/" + strconv.Itoa(int(dirfd))
			}
		}
		base, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(base, "/") || !n.Valid() {
			return 0, false
		}
		path = filepath.Join(base, path)
	}
	rest, ok := strings.CutPrefix(filepath.Clean(path), "/dev/pts/")
	if !ok {
		return 0, false
	}
	index, err := strconv.Atoi(rest)
	if err != nil || index < 0 || strconv.Itoa(index) != rest {
		return 0, false
	}
	return index, true
}

// oLargefile is O_LARGEFILE as a 64-bit kernel sets it on every open of a
// 64-bit process (x/sys names it 0 there).
var oLargefile = map[string]int{"amd64": 0x8000, "arm64": 0x20000}[runtime.GOARCH]

// treePeer opens the peer of terminal index, from the master a process of
// the agent's tree holds: never by path, so that a terminal that took the
// same number since cannot be reached.
func (s *Supervisor) treePeer(index, nonblock int) (int, error) {
	var peer = -1
	var lastErr error = unix.ENOENT
	want := "tty-index:\t" + strconv.Itoa(index)
	p, ok := s.tree().eachFD(func(p pinned, fd int, link string) bool {
		if link != "/dev/ptmx" && link != "/dev/pts/ptmx" {
			return false
		}
		info, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/fdinfo/" + strconv.Itoa(fd))
		if err != nil || !slices.Contains(strings.Split(string(info), "\n"), want) {
			return false
		}
		master, err := unix.PidfdGetfd(p.pidfd, fd, 0)
		if err != nil {
			lastErr = err
			return false
		}
		defer unix.Close(master)
		if got, err := unix.IoctlGetInt(master, unix.TIOCGPTN); err != nil || got != index {
			return false
		}
		// The flags an open(2) of the path would give the file; close-on-
		// exec is the descriptor's, set before a child can be forked.
		syscall.ForkLock.RLock()
		fd2, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|oLargefile|nonblock))
		if e == 0 {
			unix.CloseOnExec(int(fd2))
		}
		syscall.ForkLock.RUnlock()
		if e != 0 {
			lastErr = e
			return false
		}
		peer = int(fd2)
		return true
	})
	if !ok {
		if peer >= 0 {
			unix.Close(peer) // its holder left the tree meanwhile
		}
		return -1, lastErr
	}
	p.close()
	return peer, nil
}
