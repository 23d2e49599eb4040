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
		case bpfJa:
			pc += int(in.K)
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
	prog, err := sandboxFilter()
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
