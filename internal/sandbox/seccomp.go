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
// are refused too, as container runtimes do. Every other system call is
// allowed.

// Classic BPF opcodes (linux/filter.h).
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6].
// An ioctl's request is an unsigned int and prlimit64's pid a pid_t: the
// low 32 bits of their argument (little endian), which is all the kernel
// reads of them. prlimit64's new limit is a pointer: both halves.
const (
	offNr       = 0
	offArch     = 4
	offArg0     = 16
	offArg1     = 16 + 8
	offArg2     = 16 + 2*8
	offArg2High = 16 + 2*8 + 4
)

// syscallNrs are the numbers of the filtered system calls for one audit
// arch.
type syscallNrs struct{ ioctl, prlimit, keyring []uint32 }

// filteredNrs are the filtered system calls' numbers for each audit arch a
// process of this build can run as (native, and 32-bit compat).
func filteredNrs() map[uint32]syscallNrs {
	switch runtime.GOARCH {
	case "amd64":
		// x32 shares the x86_64 arch and sets bit 30 in the number.
		return map[uint32]syscallNrs{
			unix.AUDIT_ARCH_X86_64: {ioctl: []uint32{16, 0x40000000 | 514}, prlimit: []uint32{302, 0x40000000 | 302},
				keyring: []uint32{248, 249, 250, 0x40000000 | 248, 0x40000000 | 249, 0x40000000 | 250}},
			unix.AUDIT_ARCH_I386: {ioctl: []uint32{54}, prlimit: []uint32{340}, keyring: []uint32{286, 287, 288}},
		}
	case "arm64":
		return map[uint32]syscallNrs{
			unix.AUDIT_ARCH_AARCH64: {ioctl: []uint32{29}, prlimit: []uint32{261}, keyring: []uint32{217, 218, 219}},
			unix.AUDIT_ARCH_ARM:     {ioctl: []uint32{54}, prlimit: []uint32{369}, keyring: []uint32{309, 310, 311}},
		}
	}
	return nil
}

// sandboxFilter is built once per process.
var sandboxFilter = sync.OnceValues(buildFilter)

// buildFilter assembles the BPF program: for each known arch, an ioctl
// whose request is TIOCSTI or TIOCLINUX, a prlimit64 that sets another
// process's limits, and the key ring calls return EPERM; anything else is
// allowed.
func buildFilter() ([]unix.SockFilter, error) {
	nrs := filteredNrs()
	if nrs == nil {
		return nil, fmt.Errorf("no seccomp filter for %s: refusing to sandbox without one", runtime.GOARCH)
	}
	type insn struct {
		code      uint16
		k         uint32
		jt, jf    string // labels; "" is the next instruction
		jumpLabel string // for ja
		label     string
	}
	var prog []insn
	archs := slices.Sorted(maps.Keys(nrs)) // a fixed order, a reproducible program
	prog = append(prog, insn{code: bpfLdWAbs, k: offArch})
	for i, a := range archs {
		next := fmt.Sprintf("arch%d", i+1)
		if i == len(archs)-1 {
			next = "allow"
		}
		prog = append(prog, insn{code: bpfJeqK, k: a, jf: next})
		prog = append(prog, insn{code: bpfLdWAbs, k: offNr})
		for _, nr := range nrs[a].ioctl {
			prog = append(prog, insn{code: bpfJeqK, k: nr, jt: "request"})
		}
		for _, nr := range nrs[a].prlimit {
			prog = append(prog, insn{code: bpfJeqK, k: nr, jt: "prlimit"})
		}
		for _, nr := range nrs[a].keyring {
			prog = append(prog, insn{code: bpfJeqK, k: nr, jt: "deny"})
		}
		prog = append(prog, insn{code: bpfJa, jumpLabel: "allow"})
		if i < len(archs)-1 {
			prog = append(prog, insn{code: bpfLdWAbs, k: offArch, label: next})
		}
	}
	prog = append(prog,
		insn{code: bpfLdWAbs, k: offArg1, label: "request"},
		insn{code: bpfJeqK, k: unix.TIOCSTI, jt: "deny"},
		insn{code: bpfJeqK, k: unix.TIOCLINUX, jt: "deny", jf: "allow"},
		// prlimit64(pid, resource, new, old): pid 0 is the caller.
		insn{code: bpfLdWAbs, k: offArg0, label: "prlimit"},
		insn{code: bpfJeqK, k: 0, jt: "allow"},
		insn{code: bpfLdWAbs, k: offArg2},
		insn{code: bpfJeqK, k: 0, jf: "deny"},
		insn{code: bpfLdWAbs, k: offArg2High},
		insn{code: bpfJeqK, k: 0, jf: "deny"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ALLOW, label: "allow"},
		insn{code: bpfRetK, k: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM), label: "deny"},
	)
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
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
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		var err error
		if in.jumpLabel != "" {
			to, ok := at[in.jumpLabel]
			if !ok || to <= i {
				return nil, fmt.Errorf("seccomp program: bad jump to %s", in.jumpLabel)
			}
			f.K = uint32(to - i - 1)
		}
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

// installFilter installs the filter on the calling thread (no_new_privs
// must be set).
func installFilter() error {
	filter, err := sandboxFilter()
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
