package sandbox

import (
	"sync/atomic"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// MaxKnownABI is the newest Landlock ABI whose filesystem rights this
// package knows how to grant. A newer kernel is used at this level: the
// rules never name a right whose meaning we have not decided.
const MaxKnownABI = 9

// forcedABI, when not negative, replaces the kernel's answer. Only tests
// set it (SetABIForTest), to simulate a kernel without Landlock.
var forcedABI atomic.Int32

func init() { forcedABI.Store(-1) }

// SetABIForTest makes ABI report v; v < 0 restores the kernel's answer.
// Tests use ABI 0 to check that a kernel without Landlock is refused.
func SetABIForTest(v int) { forcedABI.Store(int32(v)) }

// ABI is the Landlock ABI version the kernel offers, capped at MaxKnownABI;
// 0 means no Landlock (not built in, or disabled at boot). A kernel whose
// signal scoping has a known bug (ABI 6 without its erratum fix) counts as
// ABI 5, as go-landlock does.
func ABI() int {
	if v := forcedABI.Load(); v >= 0 {
		return int(v)
	}
	v, err := ll.LandlockGetABIVersion()
	if err != nil || v < 0 {
		return 0
	}
	if v >= 6 {
		if errata, err := ll.LandlockGetErrata(); err != nil || errata&0x2 == 0 {
			v = 5
		}
	}
	return min(v, MaxKnownABI)
}

// Filesystem rights, grouped as the rule set grants them.
const (
	// readRights: read files, list directories, execute.
	readRights = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir
	// writeRights: everything that changes a tree, and "refer" so that a
	// rename or link between two writable places works. Device nodes cannot
	// be created (that also needs CAP_MKNOD, which the agent never has).
	writeRights = ll.AccessFSWriteFile | ll.AccessFSRemoveDir | ll.AccessFSRemoveFile |
		ll.AccessFSMakeDir | ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo |
		ll.AccessFSMakeSym | ll.AccessFSRefer | ll.AccessFSTruncate
	// createRights: make files and directories and write them, and
	// nothing that takes an entry away or puts one in another's place
	// (remove, rename; a link across directories needs "refer") or plants
	// what the user's programs would connect to or follow (a socket, a
	// FIFO, a symbolic link).
	createRights = ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSMakeReg | ll.AccessFSMakeDir
	// fileRights are the only ones Landlock accepts on a rule for a file
	// that is not a directory.
	fileRights = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile |
		ll.AccessFSTruncate | ll.AccessFSIoctlDev
)

// handledFS is every filesystem right ABI v knows: all of them are denied
// unless a rule grants them.
func handledFS(v int) uint64 {
	switch {
	case v <= 0:
		return 0
	case v == 1:
		return 1<<13 - 1
	case v == 2:
		return 1<<14 - 1
	case v <= 4:
		return 1<<15 - 1
	case v <= 8:
		return 1<<16 - 1
	default:
		return 1<<17 - 1
	}
}

// handledScopes is what ABI v can scope: from ABI 6, signals to and
// abstract Unix sockets of processes outside the domain.
func handledScopes(v int) uint64 {
	if v >= 6 {
		return ll.ScopeAbstractUnixSocket | ll.ScopeSignal
	}
	return 0
}

// handledNet is the network access a restricted network handles at ABI
// v: from ABI 4, connecting TCP sockets (binding stays free: the agent's
// own servers listen where they like).
func handledNet(v int) uint64 {
	if v >= 4 {
		return ll.AccessNetConnectTCP
	}
	return 0
}

// NetOpen lists, in words, what stays open on a restricted network
// (Rules.Net), the same at every Landlock ABI: the launcher prints it at
// every launch, and docs/SECURITY.md says the same.
func NetOpen() []string {
	m := []string{
		"no name lookups inside the sandbox but /etc/hosts (no UDP, so no DNS: the proxy resolves names)",
		"a server the agent starts listens where it likes: one on every address can be reached from the network",
	}
	// The same at every ABI: the launcher decides the connects of the
	// programs llms runs for the agent as it does the agent's
	// (children.go); from ABI 4 Landlock's TCP rule (the proxy's port)
	// stands behind that decision.
	return append(m, "programs llms runs for the agent (llms exec, run_with_secrets) connect only where the agent may: the launcher decides their connects by address too, at every Landlock ABI")
}

// Missing lists, in words, what agent mode promises that ABI v cannot
// enforce; empty from ABI 5. The launcher prints it at every launch.
// Signals, abstract Unix sockets (ABI 6) and Unix sockets by path (ABI 9)
// are not here: the supervisor guards them at every ABI.
func Missing(v int) []string {
	var m []string
	if v < 2 {
		m = append(m, "renames and links between directories are refused outright (needs ABI 2 to allow them where writes are allowed)")
	}
	if v < 3 {
		m = append(m, "truncate(2) of a readable file is not restricted (needs ABI 3)")
	}
	if v < 5 {
		m = append(m, "ioctl on device files is not restricted (needs ABI 5)")
	}
	return m
}
