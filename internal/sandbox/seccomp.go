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
// with EPERM, on every descriptor; every other system call is allowed.

// Classic BPF opcodes (linux/filter.h).
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6].
// An ioctl's request is an unsigned int: the low 32 bits of args[1] (little
// endian), which is all the kernel reads of it.
const (
	offNr   = 0
	offArch = 4
	offArg1 = 16 + 8
)

// ioctlNrs are the ioctl system call numbers of each audit arch a process
// of this build can run as (native, and 32-bit compat).
func ioctlNrs() map[uint32][]uint32 {
	switch runtime.GOARCH {
	case "amd64":
		// x32 shares the x86_64 arch and sets bit 30 in the number.
		return map[uint32][]uint32{unix.AUDIT_ARCH_X86_64: {16, 0x40000000 | 514}, unix.AUDIT_ARCH_I386: {54}}
	case "arm64":
		return map[uint32][]uint32{unix.AUDIT_ARCH_AARCH64: {29}, unix.AUDIT_ARCH_ARM: {54}}
	}
	return nil
}

// terminalFilter is built once per process.
var terminalFilter = sync.OnceValues(buildTerminalFilter)

// buildTerminalFilter assembles the BPF program: for each known arch, an ioctl whose
// request is TIOCSTI or TIOCLINUX returns EPERM; anything else is allowed.
func buildTerminalFilter() ([]unix.SockFilter, error) {
	nrs := ioctlNrs()
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
		for _, nr := range nrs[a] {
			prog = append(prog, insn{code: bpfJeqK, k: nr, jt: "request"})
		}
		prog = append(prog, insn{code: bpfJa, jumpLabel: "allow"})
		if i < len(archs)-1 {
			prog = append(prog, insn{code: bpfLdWAbs, k: offArch, label: next})
		}
	}
	prog = append(prog,
		insn{code: bpfLdWAbs, k: offArg1, label: "request"},
		insn{code: bpfJeqK, k: unix.TIOCSTI, jt: "deny"},
		insn{code: bpfJeqK, k: unix.TIOCLINUX, jt: "deny"},
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

// denyTerminalInjection installs the filter on the calling thread (no_new_privs
// must be set).
func denyTerminalInjection() error {
	filter, err := terminalFilter()
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
