package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Restrict confines the calling OS thread for good: it is locked to the
// calling goroutine, loses every capability (and, when it may, its
// capability bounding set), gets no_new_privs, and enters a new Landlock
// domain made of r. It is meant for a process about to execve (see Exec):
// Landlock, no_new_privs and capabilities are per thread, and the program
// execve starts inherits the calling thread's.
//
// It refuses, changing nothing that matters, when the kernel offers a lower
// Landlock ABI than r was built for: it never applies fewer rights than
// the rules say.
func Restrict(r *Rules) error {
	p, err := Prepare(r)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Restrict()
}

// Prepared is a rule set compiled into a Landlock ruleset: its paths are
// opened once, by Prepare. The broker, which confines every child it
// starts, prepares the agent's rules at launch and calls Restrict for each
// child; every call still makes a new domain of its own. What a path names
// is fixed when it is prepared: a directory created or replaced later gets
// no rule (fail closed).
type Prepared struct {
	fd  int
	net bool // the network is restricted: the filters say so
}

// Prepare compiles r, refusing as Restrict does. Close releases it.
func Prepare(r *Rules) (*Prepared, error) {
	if r == nil || r.ABI < 1 {
		return nil, ErrNoLandlock
	}
	if have := ABI(); have < r.ABI {
		if have == 0 {
			return nil, ErrNoLandlock
		}
		return nil, fmt.Errorf("the rules need Landlock ABI %d and the kernel offers %d: refusing to apply fewer", r.ABI, have)
	}
	attr := ll.RulesetAttr{HandledAccessFS: handledFS(r.ABI), Scoped: handledScopes(r.ABI)}
	if r.Net != nil {
		attr.HandledAccessNet = handledNet(r.ABI)
	}
	// The kernel opens the ruleset close-on-exec: no child inherits it.
	fd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return nil, fmt.Errorf("landlock_create_ruleset: %w", err)
	}
	for _, rule := range r.Rules {
		if err := addRule(fd, rule); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	if attr.HandledAccessNet != 0 {
		for _, port := range r.Net.TCPPorts {
			pa := ll.NetPortAttr{AllowedAccess: ll.AccessNetConnectTCP, Port: uint64(port)}
			if err := ll.LandlockAddNetPortRule(fd, &pa, 0); err != nil {
				unix.Close(fd)
				return nil, fmt.Errorf("landlock_add_rule TCP port %d: %w", port, err)
			}
		}
	}
	return &Prepared{fd: fd, net: r.Net != nil}, nil
}

// Restrict confines the calling OS thread with p, for good, as the
// package-level Restrict does. It may be called from several threads at
// once.
func (p *Prepared) Restrict() error {
	if allowTIOCSTIForTest {
		return p.restrict(nil)
	}
	return p.restrict(func() error { return installFilter(p.net) })
}

// restrict confines the calling thread with p and the seccomp filter that
// install installs (none when nil).
func (p *Prepared) restrict(install func() error) error {
	runtime.LockOSThread() // never unlocked: this thread is confined
	if !keepCapsForTest {
		if err := dropCapabilities(); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if install != nil {
		if err := install(); err != nil {
			return err
		}
	}
	if err := ll.LandlockRestrictSelf(p.fd, 0); err != nil {
		return fmt.Errorf("landlock_restrict_self: %w", err)
	}
	return nil
}

// Close releases the ruleset; domains made from it stay.
func (p *Prepared) Close() error { return unix.Close(p.fd) }

// keepCapsForTest skips dropping capabilities. Only this package's tests
// set it, to show what a confined root that keeps CAP_SYS_PTRACE can do.
var keepCapsForTest bool

// allowTIOCSTIForTest skips the seccomp filter. Only this package's tests
// set it, to show that the kernel lets a confined process type into its
// terminal without it.
var allowTIOCSTIForTest bool

// addRule adds one rule. The path is opened without following a final
// symbolic link (a link placed there since the rules were built grants
// nothing) and a file that is gone is skipped: both fail closed.
func addRule(rulesetFD int, rule Rule) error {
	fd, err := unix.Open(rule.Path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			return nil
		}
		return fmt.Errorf("sandbox: opening %s: %w", rule.Path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("sandbox: stat %s: %w", rule.Path, err)
	}
	access := rule.Access
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil
	case unix.S_IFDIR:
	default:
		access &= fileRights
	}
	if access == 0 {
		return nil
	}
	attr := ll.PathBeneathAttr{ParentFd: fd, AllowedAccess: access}
	if err := ll.LandlockAddPathBeneathRule(rulesetFD, &attr, 0); err != nil {
		return fmt.Errorf("landlock_add_rule %s: %w", rule.Path, err)
	}
	return nil
}

// Securebits (linux/securebits.h): root gets no capabilities from execve,
// setuid transitions do not touch capabilities, none may become ambient;
// each locked so that it cannot be undone.
const (
	secNoRoot                = 1 << 0
	secNoRootLocked          = 1 << 1
	secNoSetuidFixup         = 1 << 2
	secNoSetuidFixupLocked   = 1 << 3
	secKeepCapsLocked        = 1 << 5
	secNoCapAmbientRaise     = 1 << 6
	secNoCapAmbientRaiseLock = 1 << 7
	lockedSecurebits         = secNoRoot | secNoRootLocked | secNoSetuidFixup | secNoSetuidFixupLocked |
		secKeepCapsLocked | secNoCapAmbientRaise | secNoCapAmbientRaiseLock
)

// dropCapabilities empties the calling thread's capability sets. With
// CAP_SETPCAP (root), it first empties the bounding set and locks the
// securebits, so that no later execve can give capabilities back;
// without it, there are none to give (and no_new_privs stops setuid and
// file capabilities).
func dropCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	if data[0].Effective&(1<<unix.CAP_SETPCAP) != 0 {
		last, err := lastCap()
		if err != nil {
			return err
		}
		for c := 0; c <= last; c++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", c, err)
			}
		}
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, lockedSecurebits, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_SECUREBITS): %w", err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %w", err)
	}
	data = [2]unix.CapUserData{}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// lastCap is read once: the kernel's highest capability number does not
// change while it runs, and every confinement needs it.
var lastCap = sync.OnceValues(readLastCap)

func readLastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("reading the last capability number: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || n > 63 {
		return 0, fmt.Errorf("unexpected /proc/sys/kernel/cap_last_cap %q", strings.TrimSpace(string(b)))
	}
	return n, nil
}
