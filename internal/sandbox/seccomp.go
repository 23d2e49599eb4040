package sandbox

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The terminal is shared with the agent, and a terminal can be told to
// type: TIOCSTI pushes bytes into its input queue (the user's shell reads
// them after the agent exits, outside any sandbox), TIOCLINUX does the
// same through a virtual console's selection. Landlock cannot refuse an
// ioctl on a descriptor opened before the sandbox (the inherited stdin),
// and many kernels still allow TIOCSTI without privilege
// (dev.tty.legacy_tiocsti=1). So a seccomp filter refuses both requests
// with EPERM, on every descriptor.
//
// Landlock scopes signals, but not resource limits: a process of the same
// uid may change another's with prlimit, no ptrace needed, and the kernel
// then signals for it — a CPU limit kills the launcher (its agent's tree
// then runs on unsupervised and its token is never revoked) or any other
// process of the user; a file limit keeps the launcher from writing the
// audit log or revoking the token. So the filter also refuses prlimit64
// when it would set another process's limits (a pid other than 0 and a new
// limit given); reading them, and setting one's own, stay allowed.
//
// The kernel's key rings are not namespaced, nor scoped by Landlock: the
// user's keyring (and the session's) holds what the user's other
// programs keep there — Kerberos tickets, disk and network passphrases —
// readable by any process of the uid. So keyctl, add_key and request_key
// are refused too, as container runtimes do.
//
// That is the whole filter of the children the broker starts outside
// agent mode's supervision (the git llms runs), with the restricted
// network's part below where it is restricted. In agent mode a broker
// child's also sends connect to the launcher, which decides it as the
// agent's, and refuses what would go around that (children.go). The
// agent's adds what the launcher's supervisor mediates (supervisor.go, and
// docs/adr/0029): connect, the opening of terminals, and below Landlock
// ABI 6 the calls that send a signal, are answered by the launcher
// (SECCOMP_RET_USER_NOTIF); Unix datagram sockets (which send to a path
// without connect) cannot be made; io_uring, which performs system calls
// no filter sees, is absent (ENOSYS); a filter of the agent's own cannot
// take notifications (its supervisor could let through what ours refuses);
// prctl(PR_SET_DUMPABLE, 0) succeeds without effect, since the supervisor
// reads the memory and descriptors of the agent's processes as a debugger
// would, which a non-dumpable process refuses to a supervisor that is not
// root (ssh-agent and llms itself make themselves so; the agent's tree is
// one party, and its core dumps are off, see NoCoreDumps); and x32 system
// calls, numbered apart, are refused. i386 socketcall,
// which hides its arguments in memory, may not make, connect or pair
// sockets (ENOSYS); 32-bit programs use the direct calls since Linux 4.3.
//
// Where the network is restricted (agent mode without --allow-net:
// Rules.Net), both filters keep a process to the one kind of internet
// socket whose every destination passes a connect that the supervisor
// decides (for the agent and for the broker's children; from ABI 4
// Landlock's TCP rule stands behind it): socket(AF_INET/AF_INET6) only of SOCK_STREAM with
// protocol 0 or IPPROTO_TCP (UDP, QUIC, ICMP, raw and SOCK_PACKET get
// EPERM; MPTCP and SCTP, which connect other ways and which Landlock's TCP
// rule does not cover, EPROTONOSUPPORT, on which programs fall back to
// TCP), no family but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK
// (EAFNOSUPPORT: AF_VSOCK reaches the hypervisor's host, AF_PACKET,
// AF_BLUETOOTH, AF_TIPC… other networks), no TCP Fast Open (sendto,
// sendmsg and sendmmsg with MSG_FASTOPEN connect without connect(2):
// EPERM), no i386 socketcall socket or send (its arguments are in memory:
// ENOSYS), and no x32 call (ENOSYS).

// Classic BPF opcodes (linux/filter.h).
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfAndK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// offArg3 is the fourth argument: the flags of sendto and sendmmsg.
const offArg3 = 16 + 3*8

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6].
// An ioctl's request, fcntl's command, open's flags, socket's domain and
// type and prlimit64's pid are ints: the low 32 bits of their argument
// (little endian), which is all the kernel reads of them. prlimit64's new
// limit is a pointer: both halves.
const (
	offNr       = 0
	offArch     = 4
	offArg0     = 16
	offArg1     = 16 + 8
	offArg2     = 16 + 2*8
	offArg2High = 16 + 2*8 + 4
)

// Filter results.
const (
	retAllow  = unix.SECCOMP_RET_ALLOW
	retNotify = unix.SECCOMP_RET_USER_NOTIF
	retEPERM  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	// Refusals of the restricted network.
	retEPROTONOSUPPORT = unix.SECCOMP_RET_ERRNO | uint32(unix.EPROTONOSUPPORT)
	retEAFNOSUPPORT    = unix.SECCOMP_RET_ERRNO | uint32(unix.EAFNOSUPPORT)
	// retSuccess returns 0 without running the call.
	retSuccess = unix.SECCOMP_RET_ERRNO
)

// Values the filter compares that the x/sys constants do not name, or
// name per arch.
const (
	fioSetOwn       = 0x8901 // FIOSETOWN
	seccompListener = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	socketcallSock  = 1 // SYS_SOCKET, SYS_CONNECT, SYS_SOCKETPAIR of socketcall(2)
	socketcallConn  = 3
	socketcallPair  = 8
	socketcallSend  = 11 // SYS_SENDTO, SYS_SENDMSG, SYS_SENDMMSG
	socketcallSmsg  = 16
	socketcallSmmsg = 20
	x32Bit          = 0x40000000
)

// archCalls are one audit arch's system call numbers.
type archCalls struct {
	ioctl, prlimit, keyring []uint32
	// What the agent's filter adds.
	connect, socket, socketcall, open, openat, openat2, ioUring, seccomp, prctl []uint32
	signal, fcntl                                                               []uint32 // below ABI 6
	// The restricted network's: sendto and sendmmsg (flags in the fourth
	// argument), sendmsg (the third).
	send3, send2 []uint32
	// Open flags: O_DIRECTORY differs between arches.
	oDirectory uint32
}

// callTable is the table for each audit arch a process of this build can
// run as (native, and 32-bit compat). Numbers from the kernel's tables
// (x/sys's zsysnum_linux_*.go).
func callTable() map[uint32]archCalls {
	switch runtime.GOARCH {
	case "amd64":
		// x32 shares the x86_64 arch and sets bit 30 in the number: the
		// children's filter names its calls too, the agent's refuses x32.
		return map[uint32]archCalls{
			unix.AUDIT_ARCH_X86_64: {ioctl: []uint32{16, x32Bit | 514}, prlimit: []uint32{302, x32Bit | 302},
				keyring: []uint32{248, 249, 250, x32Bit | 248, x32Bit | 249, x32Bit | 250},
				connect: []uint32{42}, socket: []uint32{41, 53}, send3: []uint32{44, 307}, send2: []uint32{46}, open: []uint32{2}, openat: []uint32{257},
				openat2: []uint32{437}, ioUring: []uint32{425, 426, 427}, seccomp: []uint32{317}, prctl: []uint32{157},
				signal: []uint32{62, 200, 234, 129, 297, 424}, fcntl: []uint32{72}, oDirectory: 0x10000},
			unix.AUDIT_ARCH_I386: {ioctl: []uint32{54}, prlimit: []uint32{340}, keyring: []uint32{286, 287, 288},
				connect: []uint32{362}, socket: []uint32{359, 360}, send3: []uint32{369, 345}, send2: []uint32{370}, socketcall: []uint32{102}, open: []uint32{5},
				openat: []uint32{295}, openat2: []uint32{437}, ioUring: []uint32{425, 426, 427}, seccomp: []uint32{354}, prctl: []uint32{172},
				signal: []uint32{37, 238, 270, 178, 335, 424}, fcntl: []uint32{55, 221}, oDirectory: 0x10000},
		}
	case "arm64":
		return map[uint32]archCalls{
			unix.AUDIT_ARCH_AARCH64: {ioctl: []uint32{29}, prlimit: []uint32{261}, keyring: []uint32{217, 218, 219},
				connect: []uint32{203}, socket: []uint32{198, 199}, send3: []uint32{206, 269}, send2: []uint32{211}, openat: []uint32{56}, openat2: []uint32{437},
				ioUring: []uint32{425, 426, 427}, seccomp: []uint32{277}, prctl: []uint32{167},
				signal: []uint32{129, 130, 131, 138, 240, 424}, fcntl: []uint32{25}, oDirectory: 0x4000},
			unix.AUDIT_ARCH_ARM: {ioctl: []uint32{54}, prlimit: []uint32{369}, keyring: []uint32{309, 310, 311},
				connect: []uint32{283}, socket: []uint32{281, 288}, send3: []uint32{290, 374}, send2: []uint32{296}, open: []uint32{5}, openat: []uint32{322},
				openat2: []uint32{437}, ioUring: []uint32{425, 426, 427}, seccomp: []uint32{383}, prctl: []uint32{172},
				signal: []uint32{37, 238, 268, 178, 363, 424}, fcntl: []uint32{55, 221}, oDirectory: 0x4000},
		}
	}
	return nil
}

// filterKind says which filter to build.
type filterKind struct {
	agent   bool // the supervised agent's, not a broker child's
	signals bool // the agent's signals are mediated (below ABI 6)
	net     bool // the network is restricted (Rules.Net)
	// child: a broker child in agent mode, whose connects the launcher's
	// supervisor decides (children.go).
	child bool
}

// Each filter is built once per process.
var filters sync.Map // filterKind -> []unix.SockFilter

func filterFor(k filterKind) ([]unix.SockFilter, error) {
	if f, ok := filters.Load(k); ok {
		return f.([]unix.SockFilter), nil
	}
	f, err := buildFilter(k)
	if err == nil {
		filters.Store(k, f)
	}
	return f, err
}

// sandboxFilter is the filter of a broker child (the one Restrict
// installs); net: the network is restricted; supervised: its connects are
// the supervisor's (Supervisor.Confine).
func sandboxFilter(net, supervised bool) ([]unix.SockFilter, error) {
	return filterFor(filterKind{net: net, child: supervised})
}

// agentFilter is the supervised agent's filter.
func agentFilter(signals, net bool) ([]unix.SockFilter, error) {
	return filterFor(filterKind{agent: true, signals: signals, net: net})
}

// buildFilter assembles the BPF program: per arch, the system calls of
// archCalls that the kind filters, each to its block; anything else is
// allowed. Every block ends in a return, and the labels are per arch,
// so that no conditional jump spans more than the 255 instructions BPF
// allows.
func buildFilter(kind filterKind) ([]unix.SockFilter, error) {
	table := callTable()
	if table == nil {
		return nil, fmt.Errorf("no seccomp filter for %s: refusing to sandbox without one", runtime.GOARCH)
	}
	a := &bpfAsm{}
	archs := slices.Sorted(maps.Keys(table)) // a fixed order, a reproducible program
	a.ld(offArch)
	for _, arch := range archs {
		a.jeq(arch, fmt.Sprintf("%x", arch), "")
	}
	a.ret(retAllow)
	// mediated: connect is the supervisor's (the agent's, a supervised
	// child's); sockets: socket() is judged.
	mediated := kind.agent || kind.child
	sockets := mediated || kind.net
	for _, arch := range archs {
		c, l := table[arch], func(s string) string { return fmt.Sprintf("%x.%s", arch, s) }
		a.label(fmt.Sprintf("%x", arch))
		a.ld(offNr)
		if sockets && arch == unix.AUDIT_ARCH_X86_64 {
			a.jset(x32Bit, l("enosys"), "")
		}
		to := func(nrs []uint32, block string) {
			for _, nr := range nrs {
				a.jeq(nr, l(block), "")
			}
		}
		to(c.ioctl, "ioctl")
		to(c.prlimit, "prlimit")
		to(c.keyring, "eperm")
		if sockets {
			to(c.socket, "socket")
			to(c.socketcall, "socketcall")
		}
		if kind.net {
			to(c.send3, "send3")
			to(c.send2, "send2")
		}
		if mediated {
			to(c.connect, "notify")
			to(c.ioUring, "enosys")
			to(c.seccomp, "seccomp")
		}
		if kind.agent {
			to(c.open, "open1")
			to(c.openat, "open2")
			to(c.openat2, "notify")
			to(c.prctl, "prctl")
			if kind.signals {
				to(c.signal, "notify")
				to(c.fcntl, "fcntl")
			}
		}
		a.ret(retAllow)

		a.label(l("ioctl"))
		a.ld(offArg1)
		a.jeq(unix.TIOCSTI, l("eperm"), "")
		a.jeq(unix.TIOCLINUX, l("eperm"), "")
		if kind.agent && kind.signals {
			a.jeq(fioSetOwn, l("notify"), "")
			a.jeq(unix.SIOCSPGRP, l("notify"), "")
		}
		a.ret(retAllow)

		// prlimit64(pid, resource, new, old): pid 0 is the caller.
		a.label(l("prlimit"))
		a.ld(offArg0)
		a.jeq(0, l("allow"), "")
		a.ld(offArg2)
		a.jeq(0, "", l("eperm"))
		a.ld(offArg2High)
		a.jeq(0, l("allow"), l("eperm"))

		if sockets {
			// socket(domain, type, protocol) and socketpair. The agent's
			// and a supervised child's:
			// Unix sockets only of the connected kinds (SOCK_RAW is a
			// datagram socket there). A restricted network's: internet
			// sockets only of TCP, and only the families above.
			a.label(l("socket"))
			a.ld(offArg0)
			if kind.net {
				a.jeq(unix.AF_INET, l("inet"), "")
				a.jeq(unix.AF_INET6, l("inet"), "")
				a.jeq(unix.AF_NETLINK, l("allow"), "")
			}
			switch {
			case mediated && kind.net:
				a.jeq(unix.AF_UNIX, l("unix"), l("eafnosupport"))
			case mediated:
				a.jeq(unix.AF_UNIX, l("unix"), l("allow"))
			default:
				a.jeq(unix.AF_UNIX, l("allow"), l("eafnosupport"))
			}
			if mediated {
				a.label(l("unix"))
				a.ld(offArg1)
				a.and(0xf) // SOCK_TYPE_MASK: the flags live above
				a.jeq(unix.SOCK_STREAM, l("allow"), "")
				a.jeq(unix.SOCK_SEQPACKET, l("allow"), l("eperm"))
			}
			if kind.net {
				a.label(l("inet"))
				a.ld(offArg1)
				a.and(0xf)
				a.jeq(unix.SOCK_STREAM, "", l("eperm"))
				a.ld(offArg2)
				a.jeq(0, l("allow"), "")
				a.jeq(unix.IPPROTO_TCP, l("allow"), "")
				a.ret(retEPROTONOSUPPORT)
				a.label(l("eafnosupport"))
				a.ret(retEAFNOSUPPORT)
			}

			// i386 socketcall hides its arguments in memory: what the
			// filter would judge cannot be made through it.
			a.label(l("socketcall"))
			a.ld(offArg0)
			if kind.net {
				a.jeq(socketcallSend, l("enosys"), "")
				a.jeq(socketcallSmsg, l("enosys"), "")
				a.jeq(socketcallSmmsg, l("enosys"), "")
			}
			a.jeq(socketcallSock, l("enosys"), "")
			if mediated {
				a.jeq(socketcallConn, l("enosys"), "")
			}
			a.jeq(socketcallPair, l("enosys"), l("allow"))
		}
		if kind.net {
			// TCP Fast Open: a send with MSG_FASTOPEN connects.
			a.label(l("send3"))
			a.ld(offArg3)
			a.jset(unix.MSG_FASTOPEN, l("eperm"), l("allow"))
			a.label(l("send2"))
			a.ld(offArg2)
			a.jset(unix.MSG_FASTOPEN, l("eperm"), l("allow"))
		}
		if kind.agent {
			// open(path, flags) and openat(dirfd, path, flags): only
			// read-write opens that create nothing can open a terminal's
			// peer the way the supervisor answers; the rest are Landlock's.
			openMask := uint32(unix.O_ACCMODE | unix.O_CREAT | unix.O_PATH | c.oDirectory)
			for _, o := range []struct {
				label string
				off   uint32
			}{{"open1", offArg1}, {"open2", offArg2}} {
				a.label(l(o.label))
				a.ld(o.off)
				a.and(openMask)
				a.jeq(unix.O_RDWR, l("notify"), l("allow"))
			}

			// prctl(PR_SET_DUMPABLE, 0) succeeds and changes nothing.
			a.label(l("prctl"))
			a.ld(offArg0)
			a.jeq(unix.PR_SET_DUMPABLE, "", l("allow"))
			a.ld(offArg1)
			a.jeq(0, "", l("allow"))
			a.ret(retSuccess)

			if kind.signals {
				// fcntl(fd, F_SETOWN/F_SETOWN_EX, …): whom SIGIO goes to.
				a.label(l("fcntl"))
				a.ld(offArg1)
				a.jeq(unix.F_SETOWN, l("notify"), "")
				a.jeq(unix.F_SETOWN_EX, l("notify"), l("allow"))
			}
		}
		if mediated {
			// seccomp(op, flags, args): no filter of the process's own
			// may take notifications — the kernel sends a call to the
			// newest filter's listener, whose supervisor could let
			// through what ours refuses.
			a.label(l("seccomp"))
			a.ld(offArg1)
			a.jset(seccompListener, l("eperm"), l("allow"))
			a.label(l("notify"))
			a.ret(retNotify)
		}
		if sockets {
			a.label(l("enosys"))
			a.ret(retENOSYS)
		}
		a.label(l("allow"))
		a.ret(retAllow)
		a.label(l("eperm"))
		a.ret(retEPERM)
	}
	return a.assemble()
}

// bpfAsm assembles classic BPF with symbolic jump targets.
type bpfAsm struct{ prog []bpfInsn }

type bpfInsn struct {
	code   uint16
	k      uint32
	jt, jf string // labels; "" is the next instruction
	label  string // set: not an instruction, the label of the next one
}

func (a *bpfAsm) emit(in bpfInsn)              { a.prog = append(a.prog, in) }
func (a *bpfAsm) ld(off uint32)                { a.emit(bpfInsn{code: bpfLdWAbs, k: off}) }
func (a *bpfAsm) and(k uint32)                 { a.emit(bpfInsn{code: bpfAndK, k: k}) }
func (a *bpfAsm) jeq(k uint32, jt, jf string)  { a.emit(bpfInsn{code: bpfJeqK, k: k, jt: jt, jf: jf}) }
func (a *bpfAsm) jset(k uint32, jt, jf string) { a.emit(bpfInsn{code: bpfJsetK, k: k, jt: jt, jf: jf}) }
func (a *bpfAsm) ret(k uint32)                 { a.emit(bpfInsn{code: bpfRetK, k: k}) }
func (a *bpfAsm) label(l string)               { a.emit(bpfInsn{label: l}) }
func (a *bpfAsm) assemble() ([]unix.SockFilter, error) {
	// Labels mark the next real instruction.
	var prog []bpfInsn
	at := map[string]int{}
	for _, in := range a.prog {
		if in.label != "" {
			if _, dup := at[in.label]; dup {
				return nil, fmt.Errorf("seccomp program: label %s twice", in.label)
			}
			at[in.label] = len(prog)
			continue
		}
		prog = append(prog, in)
	}
	rel := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := at[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("seccomp program: bad jump to %s", label)
		}
		return uint8(to - from - 1), nil
	}
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp program: %d instructions", len(prog))
	}
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		var err error
		if f.Jt, err = rel(i, in.jt); err != nil {
			return nil, err
		}
		if f.Jf, err = rel(i, in.jf); err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// installFilter installs a broker child's filter on the calling thread
// (no_new_privs must be set); net: the network is restricted.
func installFilter(net bool) error {
	filter, err := sandboxFilter(net, false)
	if err != nil {
		return err
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_SECCOMP): %w", err)
	}
	runtime.KeepAlive(filter)
	return nil
}

// installAgentFilter installs the agent's filter on the calling thread (no
// new privs must be set) and returns the descriptor of its listener,
// close-on-exec, for the supervisor.
func installAgentFilter(signals, net bool) (int, error) {
	filter, err := agentFilter(signals, net)
	if err != nil {
		return -1, err
	}
	return installListening(filter)
}

// installListening installs filter on the calling thread (no new privs
// must be set) and returns the descriptor of its listener, close-on-exec.
func installListening(filter []unix.SockFilter) (int, error) {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	fd, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, seccompListener, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if e != 0 {
		return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER): %w (agent mode needs seccomp user notification, Linux 5.0)", e)
	}
	return int(fd), nil
}
