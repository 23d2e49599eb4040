package sandbox

import (
	"net"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestChildReachesNoListenerOfTheAgent: a program the broker runs for the
// agent holds values; a server the agent listens on is one the agent reads,
// so for the program only its own tree's listeners count — else a pinned
// client pointed at the agent's server hands it the credential.
func TestChildReachesNoListenerOfTheAgent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0") // the agent's server: this process is the agent's tree
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var st unix.Stat_t
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	self, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Skip("no pidfd:", err)
	}
	s := &Supervisor{rootFD: self, conns: map[uint64]pinned{}, holders: map[uint32]holder{}}
	defer unix.Close(self)
	s.root.Store(int64(os.Getpid()))
	if !s.holdsSocket(uint32(st.Ino), nil) {
		t.Fatal("the agent's own listener is not found in its tree: the test proves nothing")
	}

	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	cfd, err := unix.PidfdOpen(child.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cfd)
	if s.holdsSocket(uint32(st.Ino), &procTree{root: child.Process.Pid, rootFD: cfd}) {
		t.Error("a broker child may connect to a listener of the agent's tree")
	}
}
