package sandbox

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// runBPF interprets the classic BPF program on a seccomp_data, as the kernel
// would (the few opcodes the filter uses).
func runBPF(t *testing.T, prog []unix.SockFilter, nr, arch uint32, args [3]uint64) uint32 {
	t.Helper()
	return runBPF4(t, prog, nr, arch, [4]uint64{args[0], args[1], args[2]})
}

// runBPF4 is runBPF with a fourth argument (sendto's flags).
func runBPF4(t *testing.T, prog []unix.SockFilter, nr, arch uint32, args [4]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case bpfLdWAbs:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case bpfJeqK:
			if acc == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfJsetK:
			if acc&in.K != 0 {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfAndK:
			acc &= in.K
		case bpfRetK:
			return in.K
		default:
			t.Fatalf("unexpected opcode %#x at %d", in.Code, pc)
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

func TestSandboxFilter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table below is amd64's")
	}
	prog, err := sandboxFilter(false, false)
	if err != nil {
		t.Fatal(err)
	}
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	for _, c := range []struct {
		name      string
		nr, arch  uint32
		args      [3]uint64
		want      uint32
		wantLabel string
	}{
		{"x86_64 ioctl TIOCSTI", 16, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TIOCSTI}, deny, "deny"},
		{"x86_64 ioctl TIOCLINUX", 16, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TIOCLINUX}, deny, "deny"},
		{"x86_64 ioctl TIOCSTI, high bits set", 16, unix.AUDIT_ARCH_X86_64, [3]uint64{0, 1<<32 | unix.TIOCSTI}, deny, "deny"},
		{"x32 ioctl TIOCSTI", 0x40000000 | 514, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TIOCSTI}, deny, "deny"},
		{"i386 ioctl TIOCSTI", 54, unix.AUDIT_ARCH_I386, [3]uint64{0, unix.TIOCSTI}, deny, "deny"},
		{"x86_64 ioctl TCGETS", 16, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TCGETS}, allow, "allow"},
		{"x86_64 ioctl TIOCGWINSZ", 16, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TIOCGWINSZ}, allow, "allow"},
		{"x86_64 write, arg1 = TIOCSTI", 1, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.TIOCSTI}, allow, "allow"},
		{"i386 nr 16 (lchown), arg1 = TIOCSTI", 16, unix.AUDIT_ARCH_I386, [3]uint64{0, unix.TIOCSTI}, allow, "allow"},
		{"x86_64 prlimit64 of another process, setting", 302, unix.AUDIT_ARCH_X86_64, [3]uint64{4242, unix.RLIMIT_CPU, 0x7ffd0000}, deny, "deny"},
		{"x86_64 prlimit64 of another process, pointer above 4 GiB", 302, unix.AUDIT_ARCH_X86_64, [3]uint64{4242, unix.RLIMIT_CPU, 1 << 40}, deny, "deny"},
		{"x32 prlimit64 of another process, setting", 0x40000000 | 302, unix.AUDIT_ARCH_X86_64, [3]uint64{4242, unix.RLIMIT_CPU, 0x7ffd0000}, deny, "deny"},
		{"i386 prlimit64 of another process, setting", 340, unix.AUDIT_ARCH_I386, [3]uint64{4242, unix.RLIMIT_CPU, 0xffd0000}, deny, "deny"},
		{"x86_64 prlimit64 of another process, reading", 302, unix.AUDIT_ARCH_X86_64, [3]uint64{4242, unix.RLIMIT_CPU, 0}, allow, "allow"},
		{"x86_64 prlimit64 of itself, setting", 302, unix.AUDIT_ARCH_X86_64, [3]uint64{0, unix.RLIMIT_CPU, 0x7ffd0000}, allow, "allow"},
		{"x86_64 setrlimit", 160, unix.AUDIT_ARCH_X86_64, [3]uint64{unix.RLIMIT_CPU, 0x7ffd0000}, allow, "allow"},
		{"x86_64 keyctl", 250, unix.AUDIT_ARCH_X86_64, [3]uint64{unix.KEYCTL_READ}, deny, "deny"},
		{"x86_64 add_key", 248, unix.AUDIT_ARCH_X86_64, [3]uint64{}, deny, "deny"},
		{"x86_64 request_key", 249, unix.AUDIT_ARCH_X86_64, [3]uint64{}, deny, "deny"},
		{"x32 keyctl", 0x40000000 | 250, unix.AUDIT_ARCH_X86_64, [3]uint64{unix.KEYCTL_READ}, deny, "deny"},
		{"i386 keyctl", 288, unix.AUDIT_ARCH_I386, [3]uint64{unix.KEYCTL_READ}, deny, "deny"},
		{"i386 nr 250 (fadvise64), not keyctl", 250, unix.AUDIT_ARCH_I386, [3]uint64{}, allow, "allow"},
		{"unknown arch", 16, 0x1234, [3]uint64{0, unix.TIOCSTI}, allow, "allow"},
	} {
		if got := runBPF(t, prog, c.nr, c.arch, c.args); got != c.want {
			t.Errorf("%s: %#x, want %s", c.name, got, c.wantLabel)
		}
	}
	t.Logf("%d instructions", len(prog))
}

const atFDCWD = 1<<64 - 100 // AT_FDCWD as the kernel sees the register

func TestAgentFilter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table below is amd64's")
	}
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	notify := uint32(unix.SECCOMP_RET_USER_NOTIF)
	x86, i386 := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386)
	type tc struct {
		name     string
		nr, arch uint32
		args     [3]uint64
		want     uint32 // below ABI 6
		from6    uint32 // from ABI 6, where it differs; 0: the same
	}
	for _, c := range []tc{
		{"connect", 42, x86, [3]uint64{3, 0x7ffd0000, 110}, notify, 0},
		{"i386 connect", 362, i386, [3]uint64{3, 0xffd0000, 110}, notify, 0},
		{"socket AF_UNIX stream", 41, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, allow, 0},
		{"socket AF_UNIX seqpacket", 41, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_SEQPACKET}, allow, 0},
		{"socket AF_UNIX dgram", 41, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK}, deny, 0},
		{"socket AF_UNIX raw (a datagram socket)", 41, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_RAW}, deny, 0},
		{"socketpair AF_UNIX dgram", 53, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, deny, 0},
		{"socketpair AF_UNIX stream", 53, x86, [3]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, allow, 0},
		{"socket AF_INET dgram", 41, x86, [3]uint64{unix.AF_INET, unix.SOCK_DGRAM}, allow, 0},
		{"i386 socket AF_UNIX dgram", 359, i386, [3]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, deny, 0},
		{"i386 socketcall connect", 102, i386, [3]uint64{3, 0xffd0000}, enosys, 0},
		{"i386 socketcall socket", 102, i386, [3]uint64{1, 0xffd0000}, enosys, 0},
		{"i386 socketcall sendmsg", 102, i386, [3]uint64{16, 0xffd0000}, allow, 0},
		{"open O_RDWR", 2, x86, [3]uint64{0x7ffd0000, unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC}, notify, 0},
		{"openat O_RDWR", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_RDWR}, notify, 0},
		{"openat O_RDONLY", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_RDONLY}, allow, 0},
		{"openat O_WRONLY|O_CREAT", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_WRONLY | unix.O_CREAT}, allow, 0},
		{"openat O_RDWR|O_CREAT", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_RDWR | unix.O_CREAT}, allow, 0},
		{"openat O_RDWR|O_TMPFILE", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_RDWR | unix.O_TMPFILE}, allow, 0},
		{"openat O_PATH", 257, x86, [3]uint64{atFDCWD, 0x7ffd0000, unix.O_PATH | unix.O_RDWR}, allow, 0},
		{"i386 open O_RDWR|O_LARGEFILE", 5, i386, [3]uint64{0xffd0000, unix.O_RDWR | 0x8000}, notify, 0},
		{"openat2", 437, x86, [3]uint64{atFDCWD, 0x7ffd0000, 0x7ffd1000}, notify, 0},
		{"io_uring_setup", 425, x86, [3]uint64{8, 0x7ffd0000}, enosys, 0},
		{"io_uring_enter", 426, x86, [3]uint64{3}, enosys, 0},
		{"i386 io_uring_setup", 425, i386, [3]uint64{8, 0xffd0000}, enosys, 0},
		{"seccomp with a listener", 317, x86, [3]uint64{unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC, 0x7ffd0000}, deny, 0},
		{"seccomp without", 317, x86, [3]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x7ffd0000}, allow, 0},
		{"x32 connect", x32Bit | 42, x86, [3]uint64{3, 0x7ffd0000, 110}, enosys, 0},
		{"x32 read", x32Bit, x86, [3]uint64{0, 0x7ffd0000, 1}, enosys, 0},
		{"kill", 62, x86, [3]uint64{4242, uint64(unix.SIGSTOP)}, notify, allow},
		{"tgkill", 234, x86, [3]uint64{4242, 4243, uint64(unix.SIGURG)}, notify, allow},
		{"tkill", 200, x86, [3]uint64{4243, uint64(unix.SIGURG)}, notify, allow},
		{"rt_sigqueueinfo", 129, x86, [3]uint64{4242, 10, 0x7ffd0000}, notify, allow},
		{"rt_tgsigqueueinfo", 297, x86, [3]uint64{4242, 4243, 10}, notify, allow},
		{"pidfd_send_signal", 424, x86, [3]uint64{5, 9}, notify, allow},
		{"i386 kill", 37, i386, [3]uint64{4242, uint64(unix.SIGSTOP)}, notify, allow},
		{"fcntl F_SETOWN", 72, x86, [3]uint64{3, unix.F_SETOWN, 4242}, notify, allow},
		{"fcntl F_SETOWN_EX", 72, x86, [3]uint64{3, unix.F_SETOWN_EX, 0x7ffd0000}, notify, allow},
		{"fcntl F_GETFL", 72, x86, [3]uint64{3, unix.F_GETFL}, allow, 0},
		{"i386 fcntl64 F_SETOWN", 221, i386, [3]uint64{3, unix.F_SETOWN, 4242}, notify, allow},
		{"ioctl FIOSETOWN", 16, x86, [3]uint64{3, 0x8901, 0x7ffd0000}, notify, allow},
		{"ioctl SIOCSPGRP", 16, x86, [3]uint64{3, unix.SIOCSPGRP, 0x7ffd0000}, notify, allow},
		{"ioctl TIOCSTI", 16, x86, [3]uint64{0, unix.TIOCSTI}, deny, 0},
		{"prlimit64 of another process", 302, x86, [3]uint64{4242, unix.RLIMIT_CPU, 0x7ffd0000}, deny, 0},
		{"keyctl", 250, x86, [3]uint64{unix.KEYCTL_READ}, deny, 0},
		{"prctl PR_SET_DUMPABLE 0", 157, x86, [3]uint64{unix.PR_SET_DUMPABLE, 0}, unix.SECCOMP_RET_ERRNO, 0},
		{"prctl PR_SET_DUMPABLE 1", 157, x86, [3]uint64{unix.PR_SET_DUMPABLE, 1}, allow, 0},
		{"prctl PR_SET_NAME", 157, x86, [3]uint64{unix.PR_SET_NAME, 0}, allow, 0},
		{"i386 prctl PR_SET_DUMPABLE 0", 172, i386, [3]uint64{unix.PR_SET_DUMPABLE, 0}, unix.SECCOMP_RET_ERRNO, 0},
		{"read", 0, x86, [3]uint64{0, 0x7ffd0000, 1}, allow, 0},
		{"write", 1, x86, [3]uint64{1, 0x7ffd0000, 1}, allow, 0},
	} {
		for _, signals := range []bool{true, false} {
			prog, err := agentFilter(signals, false)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if !signals && c.from6 != 0 {
				want = c.from6
			}
			if got := runBPF(t, prog, c.nr, c.arch, c.args); got != want {
				t.Errorf("%s (signals mediated %v): %#x, want %#x", c.name, signals, got, want)
			}
		}
	}
	// The children's filter mediates nothing.
	prog, err := sandboxFilter(false, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]uint32{{42, x86}, {62, x86}, {425, x86}, {2, x86}} {
		if got := runBPF(t, prog, c[0], c[1], [3]uint64{unix.AF_UNIX, unix.O_RDWR, unix.O_RDWR}); got != allow {
			t.Errorf("children's filter: nr %d: %#x, want allow", c[0], got)
		}
	}
	a, err := agentFilter(true, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent filter: %d instructions; children's: %d", len(a), len(prog))
}

// TestNetFilters: where the network is restricted, the agent's filter and
// the children's allow only TCP internet sockets (and Unix and netlink
// ones), refuse TCP Fast Open and the socketcall forms that hide their
// arguments; where it is not, nothing changes.
func TestNetFilters(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table below is amd64's")
	}
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	noproto := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPROTONOSUPPORT))
	nofamily := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EAFNOSUPPORT))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	x86, i386 := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386)
	for _, c := range []struct {
		name     string
		nr, arch uint32
		args     [4]uint64
		want     uint32 // restricted; unrestricted: allow, but for the agent's own refusals
	}{
		{"socket AF_INET stream", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK}, allow},
		{"socket AF_INET6 stream TCP", 41, x86, [4]uint64{unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP}, allow},
		{"socket AF_INET dgram (UDP, QUIC, DNS)", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_DGRAM}, eperm},
		{"socket AF_INET6 dgram", 41, x86, [4]uint64{unix.AF_INET6, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, unix.IPPROTO_UDP}, eperm},
		{"socket AF_INET dgram ICMP (ping)", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP}, eperm},
		{"socket AF_INET raw", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW}, eperm},
		{"socket AF_INET SOCK_PACKET", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_PACKET}, eperm},
		{"socket AF_INET seqpacket (SCTP)", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP}, eperm},
		{"socket AF_INET stream SCTP", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP}, noproto},
		{"socket AF_INET6 stream MPTCP", 41, x86, [4]uint64{unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_MPTCP}, noproto},
		{"socket AF_INET stream, protocol high bits", 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_STREAM, 1 << 32}, allow},
		{"socket AF_PACKET", 41, x86, [4]uint64{unix.AF_PACKET, unix.SOCK_RAW}, nofamily},
		{"socket AF_VSOCK", 41, x86, [4]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, nofamily},
		{"socket AF_BLUETOOTH", 41, x86, [4]uint64{unix.AF_BLUETOOTH, unix.SOCK_STREAM}, nofamily},
		{"socket AF_NETLINK", 41, x86, [4]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, allow},
		{"socket AF_UNIX stream", 41, x86, [4]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, allow},
		{"i386 socket AF_INET dgram", 359, i386, [4]uint64{unix.AF_INET, unix.SOCK_DGRAM}, eperm},
		{"sendto MSG_FASTOPEN", 44, x86, [4]uint64{3, 0x7ffd0000, 5, unix.MSG_FASTOPEN | unix.MSG_NOSIGNAL}, eperm},
		{"sendto", 44, x86, [4]uint64{3, 0x7ffd0000, 5, unix.MSG_NOSIGNAL}, allow},
		{"sendmsg MSG_FASTOPEN", 46, x86, [4]uint64{3, 0x7ffd0000, unix.MSG_FASTOPEN}, eperm},
		{"sendmsg", 46, x86, [4]uint64{3, 0x7ffd0000, unix.MSG_DONTWAIT}, allow},
		{"sendmmsg MSG_FASTOPEN", 307, x86, [4]uint64{3, 0x7ffd0000, 2, unix.MSG_FASTOPEN}, eperm},
		{"i386 sendto MSG_FASTOPEN", 369, i386, [4]uint64{3, 0xffd0000, 5, unix.MSG_FASTOPEN}, eperm},
		{"i386 sendmsg MSG_FASTOPEN", 370, i386, [4]uint64{3, 0xffd0000, unix.MSG_FASTOPEN}, eperm},
		{"i386 socketcall sendto", 102, i386, [4]uint64{11, 0xffd0000}, enosys},
		{"i386 socketcall sendmsg", 102, i386, [4]uint64{16, 0xffd0000}, enosys},
		{"i386 socketcall sendmmsg", 102, i386, [4]uint64{20, 0xffd0000}, enosys},
		{"i386 socketcall socket", 102, i386, [4]uint64{1, 0xffd0000}, enosys},
		{"i386 socketcall recvmsg", 102, i386, [4]uint64{17, 0xffd0000}, allow},
		{"x32 socket", x32Bit | 41, x86, [4]uint64{unix.AF_INET, unix.SOCK_DGRAM}, enosys},
	} {
		for _, kind := range []filterKind{{}, {agent: true}, {child: true}} {
			restricted := kind
			restricted.net = true
			r, err := filterFor(restricted)
			if err != nil {
				t.Fatal(err)
			}
			open, err := filterFor(kind)
			if err != nil {
				t.Fatal(err)
			}
			if got := runBPF4(t, r, c.nr, c.arch, c.args); got != c.want {
				t.Errorf("%s (%+v, restricted): %#x, want %#x", c.name, kind, got, c.want)
			}
			// Unrestricted, the unsupervised children's filter allows
			// every one of these; the agent's and a supervised child's
			// refuse x32 and socketcall's socket whatever the network.
			want := allow
			if (kind.agent || kind.child) && (c.arch == i386 && c.nr == 102 && c.args[0] == 1 || c.nr&x32Bit != 0) {
				want = enosys
			}
			if got := runBPF4(t, open, c.nr, c.arch, c.args); got != want {
				t.Errorf("%s (%+v, unrestricted): %#x, want %#x", c.name, kind, got, want)
			}
		}
	}
}

// TestSupervisedChildFilter: a broker child in agent mode sends its
// connects to the supervisor and cannot go around it (a Unix datagram
// socket, io_uring, a notifying filter of its own, socketcall's connect,
// x32); what else the agent's filter mediates stays the kernel's.
func TestSupervisedChildFilter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table below is amd64's")
	}
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	notify, allow := uint32(unix.SECCOMP_RET_USER_NOTIF), uint32(unix.SECCOMP_RET_ALLOW)
	x86, i386 := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386)
	for _, c := range []struct {
		name     string
		nr, arch uint32
		args     [4]uint64
		want     uint32
	}{
		{"connect", 42, x86, [4]uint64{3, 0x7ffd0000, 16}, notify},
		{"i386 connect", 362, i386, [4]uint64{3, 0xffd0000, 16}, notify},
		{"i386 socketcall connect", 102, i386, [4]uint64{3, 0xffd0000}, enosys},
		{"x32 connect", x32Bit | 42, x86, [4]uint64{3, 0x7ffd0000, 16}, enosys},
		{"socket AF_UNIX dgram", 41, x86, [4]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, eperm},
		{"socketpair AF_UNIX dgram", 53, x86, [4]uint64{unix.AF_UNIX, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC}, eperm},
		{"socket AF_UNIX stream", 41, x86, [4]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, allow},
		{"socket AF_UNIX seqpacket", 41, x86, [4]uint64{unix.AF_UNIX, unix.SOCK_SEQPACKET}, allow},
		{"io_uring_setup", 425, x86, [4]uint64{8, 0x7ffd0000}, enosys},
		{"seccomp NEW_LISTENER", 317, x86, [4]uint64{unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x7ffd0000}, eperm},
		{"seccomp filter", 317, x86, [4]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, 0x7ffd0000}, allow},
		// The agent's alone: terminals, signals, dumpability.
		{"open O_RDWR", 2, x86, [4]uint64{0x7ffd0000, unix.O_RDWR}, allow},
		{"kill", 62, x86, [4]uint64{1, 9}, allow},
		{"prctl PR_SET_DUMPABLE 0", 157, x86, [4]uint64{unix.PR_SET_DUMPABLE, 0}, allow},
		{"ioctl TIOCSTI", 16, x86, [4]uint64{0, unix.TIOCSTI}, eperm},
	} {
		for _, net := range []bool{false, true} {
			prog, err := sandboxFilter(net, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := runBPF4(t, prog, c.nr, c.arch, c.args); got != c.want {
				t.Errorf("%s (net restricted %v): %#x, want %#x", c.name, net, got, c.want)
			}
		}
	}
}
