package sandbox

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/supervise"
)

// The programs the broker runs for the agent (llms exec, run_with_secrets)
// hold secret values in their environment: they are the processes that
// could send one away. Their connects are decided as the agent's are, by
// the same code and the same egress rules, at every Landlock ABI: the
// filter each one starts under sends connect to the launcher
// (SECCOMP_RET_USER_NOTIF), which connects, outside every domain, what it
// allows — a Unix socket that is the broker's, --allow-socket's, or
// listened on by the program's own tree; a TCP/IP address that is the
// proxy's, an allowed IP literal, or a local listener held by the
// program's own tree. Not the agent's listeners: the agent reads what
// reaches them, and the program holds values. The filter also keeps the program from escaping the
// decision: no Unix datagram socket (it sends to a path without connect),
// no filter of its own that takes notifications (the kernel sends a call
// to the newest listener), no io_uring (whose connect no filter sees), no
// socketcall connect, no x32 call.
//
// Each program gets a filter, and a listener, of its own: it is installed
// on the launcher's thread that starts it (Confine), so every process the
// listener hears from is that program or a descendant — filters are
// inherited and never removed. The listener's loop ends by itself when the
// last of them is gone. A program's tree, whose listeners are its own, is
// found from the caller: its ancestor that the launcher started (or, the
// launcher being a subreaper, adopted), and that one's descendants.

// Confine returns what confines the calling thread with p, as
// p.Restrict does, under a filter whose connects this supervisor decides:
// the broker's confinement of each child it starts, in agent mode.
func (s *Supervisor) Confine(p *Prepared) func() error {
	return func() error {
		return p.restrict(func() error {
			filter, err := sandboxFilter(p.net, true)
			if err != nil {
				return err
			}
			listener, err := installListening(filter)
			if err != nil {
				return err
			}
			return s.serveChild(listener)
		})
	}
}

// serveChild answers the connects the filter behind listener sends, until
// nothing it confines is left or the supervisor closes.
func (s *Supervisor) serveChild(listener int) error {
	h := map[supervise.Key]supervise.Handler{}
	for arch, c := range callTable() {
		for _, nr := range c.connect {
			h[supervise.Key{Arch: arch, Nr: nr}] = s.childConnect
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		unix.Close(listener)
		return errors.New("sandbox: the supervisor is closed")
	}
	srv, err := supervise.Serve(listener, h)
	if err != nil {
		return err
	}
	s.children[srv] = struct{}{}
	go func() {
		srv.Wait()
		srv.Close() // releases the listener
		s.mu.Lock()
		delete(s.children, srv)
		s.mu.Unlock()
	}()
	return nil
}

// childConnect decides a connect of a broker child's tree.
func (s *Supervisor) childConnect(n *supervise.Notif) supervise.Reply {
	tgid, err := n.Tgid()
	if err != nil {
		return fail(err)
	}
	own, ok := launcherChild(tgid)
	if !ok {
		// Its tree is gone from under it: only the agent's listeners and
		// what the rules allow count.
		return s.connectFor(n, nil)
	}
	defer unix.Close(own.rootFD)
	return s.connectFor(n, &own)
}

// launcherChild is the tree of the ancestor of pid (pid itself included)
// that is a child of this process, its root pinned; false when pid does
// not descend from this process.
func launcherChild(pid int) (procTree, bool) {
	self := os.Getpid()
	for depth := 0; pid > 1 && depth < 4096; depth++ {
		_, ppid, ok := procStat(pid)
		if !ok {
			return procTree{}, false
		}
		if ppid != self {
			pid = ppid
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return procTree{}, false
		}
		// Pinned after its parent was read: still ours, so the pid named
		// the same process throughout.
		if _, ppid, ok := procStat(pid); !ok || ppid != self {
			unix.Close(fd)
			return procTree{}, false
		}
		return procTree{root: pid, rootFD: fd}, true
	}
	return procTree{}, false
}
