package agentsock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/llm-secrets/llms/internal/agentid"
	"github.com/llm-secrets/llms/internal/broker"
)

// Server serves the broker to the processes of one agent.
type Server struct {
	// Broker is the opened gate; it keeps the identity and the sealed
	// keys it has read, so requests do not decrypt them again.
	Broker *broker.Broker
	// Agent is the identity the launcher stamps on every request
	// (broker.Caller.StampedAgent): markers and AI_AGENT in the client's
	// environment change nothing.
	Agent string
	// Policy is the policy read at launch; no policy file is read again.
	Policy *broker.Policy
	// LaunchToken is the id of the token the launcher minted for the
	// agent ("" when none): requests under any other token are refused
	// (broker.Caller.LaunchToken). The launcher always sets it; nil, which
	// accepts any token of the store, is for tests of the protocol.
	LaunchToken *string
	// Launch is the id of this launch (broker.Caller.Launch): the agent's
	// token carries it in a launch caveat, which no other verifier
	// accepts. Empty accepts no launch-bound token.
	Launch string
	// Root is the launcher's pid: only its descendants are served — the
	// agent and what it starts, and orphans, which the agent's guard (a
	// child of the launcher) or the launcher reaps as a subreaper. 0 is
	// this process.
	Root int
	// Confine puts each child the broker starts in a confinement of its
	// own, a new Landlock domain beside the agent's (runner.Spec.Confine).
	// nil starts children unconfined.
	Confine func() error
	// Writable are the trees the agent may write (the sandbox's), where a
	// program is never a pinned one (broker.ExecRequest.Writable).
	Writable []string
	// LaunchEnv are the launch's credential proxy and CA variables, which
	// every child gets, a pinned program too (broker.ExecRequest.LaunchEnv).
	LaunchEnv []string
	// ConnectedFor, when set, names the process for which the launcher
	// connected conn (agent mode's supervisor performs the agent's
	// connect, so SO_PEERCRED names the launcher), with a pidfd pinning it
	// (the server closes it); ok false when it made no such connection.
	ConnectedFor func(conn *net.UnixConn) (pid, pidfd int, ok bool)
	// Log receives one line per refused connection or malformed request
	// (never a value); nil discards them.
	Log func(string)
	// MaxInFlight bounds the requests served at once (0:
	// DefaultMaxInFlight); a connection accepted beyond it waits its turn
	// (queue.go). Each running child holds threads of this process, and a
	// broker that ran out of them would die with its launcher's
	// supervision.
	MaxInFlight int
	// MaxWaiting bounds the connections waiting their turn (0:
	// DefaultMaxWaiting, or fewer where this process may open few
	// descriptors); one more is refused at once.
	MaxWaiting int
	// MaxWait is how long a connection may wait with no request ending
	// (0: DefaultMaxWait) before it is refused.
	MaxWait time.Duration

	// peerUID (nil: ours) and procRoot are the peer check's; tests
	// change them.
	peerUID  *int
	procRoot string
}

// requestTimeout bounds how long a connected client may take to send its
// request.
const requestTimeout = 30 * time.Second

// DefaultMaxInFlight is MaxInFlight's default: far more children than an
// agent runs at once, far fewer threads than the Go runtime's limit
// (10,000, past which the process dies).
const DefaultMaxInFlight = 256

// Listen makes the socket at path, readable and writable by its owner only
// (it should also sit in a directory only the owner can enter).
func Listen(path string) (*net.UnixListener, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Serve answers connections on l until ctx ends; it then closes l, kills
// the children still running (their requests end with ctx) and returns
// once every connection is done. A malformed request ends only its own
// connection.
func (s *Server) Serve(ctx context.Context, l *net.UnixListener) error {
	// Fail closed: without a stamp the broker would detect the agent from
	// what the client says, and without the launch-time policy it would
	// read policy files the agent can write.
	switch {
	case s.Broker == nil:
		return errors.New("agentsock: Server.Broker is nil")
	case s.Agent == "":
		return errors.New("agentsock: Server.Agent is empty: the launcher stamps the agent's identity")
	case s.Policy == nil:
		return errors.New("agentsock: Server.Policy is nil: the policy is read at launch")
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	q := newQueue(orDefault(s.MaxInFlight, DefaultMaxInFlight), orDefault(s.MaxWaiting, defaultWaiting()))
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sweep(ctx, q, &wg)
	}()
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			s.logf("accept: %v", err)
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		// The peer is named now, while the launcher still remembers for
		// whom it connected; whether it may be served is checked when its
		// turn comes.
		w, err := s.identify(conn)
		if err == nil {
			var run bool
			if run, err = q.admit(w); err != nil {
				w.peer.close()
			} else if run {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.serveInTurn(ctx, q, w)
				}()
			}
		}
		if err != nil {
			s.logf("refused a connection: %v", err)
			s.refuse(&wg, conn, err)
		}
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// serveInTurn serves w, then, in the slot w held, each waiter the queue
// hands on, until none waits. Once ctx has ended, what it is handed is
// closed unserved.
func (s *Server) serveInTurn(ctx context.Context, q *queue, w waiter) {
	for ok := true; ok; w, ok = q.next() {
		if ctx.Err() == nil {
			s.serveConn(ctx, w.conn, w.peer)
		}
		w.close()
	}
}

// sweep drops the waiters whose client hung up and refuses those that
// waited MaxWait with no request ending, until ctx ends; it then closes
// those still waiting, unserved.
func (s *Server) sweep(ctx context.Context, q *queue, wg *sync.WaitGroup) {
	maxWait := orDefault(s.MaxWait, DefaultMaxWait)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, w := range q.close() {
				w.close()
			}
			return
		case now := <-t.C:
			expired, dropped := q.sweep(now.Add(-maxWait))
			if dropped > 0 {
				s.logf("dropped %d waiting connection(s) whose client went away", dropped)
			}
			for _, w := range expired {
				w.peer.close()
				s.refuse(wg, w.conn, fmt.Errorf("none of the %d requests being served has ended in %v; try again when one ends", q.running, maxWait))
			}
		}
	}
}

// refuse tells a connection why it is not served, and closes it.
func (s *Server) refuse(wg *sync.WaitGroup, conn *net.UnixConn, err error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer conn.Close()
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		replyError(conn, err)
	}()
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(fmt.Sprintf(format, args...))
	}
}

// reply sends one reply; a client that is gone cannot be told anything.
func reply(conn *net.UnixConn, r Reply) {
	_ = writeFrame(conn, r)
}

func replyError(conn *net.UnixConn, err error) {
	reply(conn, Reply{Error: errorOf(err)})
}

// serveConn answers one connection, from p: one request.
func (s *Server) serveConn(ctx context.Context, conn *net.UnixConn, p peer) {
	pid, err := s.checkPeer(p)
	if err != nil {
		s.logf("refused a connection: %v", err)
		replyError(conn, err)
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	var req Request
	files, err := readFrame(conn, &req, stdioFds)
	if err == nil {
		err = req.check()
	}
	if err == nil && req.Op == OpExec && len(files) != stdioFds {
		err = protocolf("exec passes stdin, stdout and stderr (%d descriptors were passed)", len(files))
	}
	if err == nil && req.Op != OpExec && len(files) != 0 {
		err = protocolf("%s passes no descriptors", req.Op)
	}
	defer closeAll(files)
	if err != nil {
		s.logf("pid %d: %v", pid, err)
		replyError(conn, err)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	c := &broker.Caller{
		Token: req.Token, TokenGiven: req.TokenGiven, Cwd: req.Cwd, PID: pid,
		StampedAgent: s.Agent, LaunchToken: s.LaunchToken, Launch: s.Launch, Policy: s.Policy, ProcRoot: s.procRoot,
		LookupEnv: func(string) (string, bool) { return "", false }, Via: req.Via,
		// The repository is read as the agent would read it: a .git file
		// naming a hidden directory finds nothing there.
		ReadConfined: s.Confine,
	}
	switch req.Op {
	case OpDescribe:
		acc, err := s.Broker.DescribeAccess(c)
		if err != nil {
			replyError(conn, err)
			return
		}
		reply(conn, Reply{Describe: describeReply(acc)})
	case OpAudit:
		es, err := s.Broker.AuditRecent(c, broker.AuditRecentRequest{Limit: req.Audit.Limit})
		if err != nil {
			replyError(conn, err)
			return
		}
		reply(conn, Reply{Audit: auditReply(es)})
	case OpAsk:
		r, err := s.Broker.RequestSecret(c, broker.AskRequest{Name: req.Ask.Name, Reason: req.Ask.Reason})
		if err != nil {
			replyError(conn, err)
			return
		}
		reply(conn, Reply{Ask: askReply(r)})
	case OpPeek:
		p, err := s.Broker.Peek(c, broker.PeekRequest{Name: req.Peek.Name})
		if err != nil {
			replyError(conn, err)
			return
		}
		reply(conn, Reply{Peek: peekReply(p)})
	case OpList:
		res, err := s.Broker.List(c, broker.ListRequest{WithTimes: req.List.Times})
		if err != nil {
			replyError(conn, err)
			return
		}
		reply(conn, Reply{List: listReply(res.Entries)})
	case OpExec:
		c.LookupRepoAhead()
		s.exec(ctx, conn, c, req.Exec, files)
	}
}

// relayed are the signals a client may ask to relay.
var relayed = map[syscall.Signal]bool{
	syscall.SIGINT: true, syscall.SIGTERM: true, syscall.SIGHUP: true, syscall.SIGQUIT: true,
	syscall.SIGUSR1: true, syscall.SIGUSR2: true, syscall.SIGWINCH: true,
}

// exec runs one exec request. While the child runs, the connection
// carries the client's signals; if it breaks (the client died), the child
// is killed.
func (s *Server) exec(ctx context.Context, conn *net.UnixConn, c *broker.Caller, args *ExecArgs, files []*os.File) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 16)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer cancel()
		for {
			var ctl Control
			if _, err := readFrame(conn, &ctl, 0); err != nil {
				return
			}
			sig := syscall.Signal(ctl.Signal)
			if !relayed[sig] {
				continue // not one llms relays: ignored, as a local llms would
			}
			select {
			case sigs <- sig:
			case <-done:
				return
			}
		}
	}()
	stdin, stdout, stderr := files[0], files[1], files[2]
	pty := args.PTY && term.IsTerminal(int(stdout.Fd()))
	inject := make([]broker.Injection, len(args.Inject))
	for i, in := range args.Inject {
		inject[i] = broker.Injection(in)
	}
	req := broker.ExecRequest{Inject: inject, Argv: args.Argv, Env: args.Env, Dir: c.Cwd,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, PTY: pty, NoRedact: args.NoRedact,
		Warn:    func(w string) { reply(conn, Reply{Warn: w}) },
		Confine: s.Confine, Signals: sigs, Writable: s.Writable, LaunchEnv: s.LaunchEnv,
	}
	if pty {
		req.SizeFrom = stdout
	}
	if args.Dir != "" {
		// The child starts there; caveats still judge Cwd's repository.
		req.Dir, req.ConfineDir = args.Dir, true
	}
	req.Unattended = c.Via != ""
	if !pty && !req.Unattended && term.IsTerminal(int(stdin.Fd())) {
		// A child that reads the client's terminal must be in the
		// terminal's foreground group, the client's, or the kernel stops
		// it; the client then leaves keyboard signals to the kernel.
		if pgid, ok := sameSessionGroup(c.PID); ok {
			req.JoinGroup = pgid
			reply(conn, Reply{InYourGroup: true})
		}
	}
	code, err := s.Broker.Exec(ctx, c, req)
	if err != nil {
		// As a local llms: a failure wins over the child's status.
		replyError(conn, err)
		return
	}
	reply(conn, Reply{Exit: &code})
}

// sameSessionGroup is the process group of pid when pid is in our session
// (a group in another session cannot be joined).
func sameSessionGroup(pid int) (int, bool) {
	sid, err := unix.Getsid(pid)
	if err != nil {
		return 0, false
	}
	ours, err := unix.Getsid(0)
	if err != nil || sid != ours {
		return 0, false
	}
	pgid, err := unix.Getpgid(pid)
	return pgid, err == nil && pgid > 0
}

// peer is the process at the other end of a connection: its pid, and a
// pidfd pinning it (-1 where the kernel gives none).
type peer struct {
	pid, pidfd int
}

func (p peer) close() {
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
	}
}

// identify names the peer of a connection just accepted, of our user (a
// connection the launcher made for the agent names the agent's process),
// and makes the connection a waiter.
func (s *Server) identify(conn *net.UnixConn) (waiter, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return waiter{}, err
	}
	var cred *unix.Ucred
	fd, pidfd := -1, -1
	var credErr error
	err = raw.Control(func(sfd uintptr) {
		fd = int(sfd)
		cred, credErr = unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr == nil {
			// Kernels from 6.5 name the peer by a pidfd too, which cannot
			// come to mean another process.
			if p, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEERPIDFD); err == nil {
				pidfd = p
			}
		}
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return waiter{}, fmt.Errorf("%w: cannot identify the peer: %v", broker.ErrDenied, err)
	}
	p := peer{pid: int(cred.Pid), pidfd: pidfd}
	uid := os.Getuid()
	if s.peerUID != nil {
		uid = *s.peerUID
	}
	if int(cred.Uid) != uid {
		p.close()
		return waiter{}, fmt.Errorf("%w: the peer runs as uid %d, not %d", broker.ErrDenied, cred.Uid, uid)
	}
	if p.pid == os.Getpid() && s.ConnectedFor != nil {
		p.close() // the launcher's
		var ok bool
		if p.pid, p.pidfd, ok = s.ConnectedFor(conn); !ok {
			return waiter{}, fmt.Errorf("%w: a connection from the launcher, made for no process of the agent's", broker.ErrDenied)
		}
	}
	return waiter{conn: conn, fd: fd, peer: p, since: time.Now()}, nil
}

// checkPeer allows a connection only from a process that descends from
// Root (identify checked its user), and returns its pid.
func (s *Server) checkPeer(p peer) (int, error) {
	root := s.Root
	if root == 0 {
		root = os.Getpid()
	}
	if !agentid.Descends(s.procRoot, p.pid, root) {
		return 0, fmt.Errorf("%w: process %d is not one of the agent's", broker.ErrDenied, p.pid)
	}
	// The walk read /proc by pid: if the peer exited meanwhile, that pid
	// may have named another process.
	if p.pidfd >= 0 && unix.PidfdSendSignal(p.pidfd, 0, nil, 0) != nil {
		return 0, fmt.Errorf("%w: process %d exited while it was checked", broker.ErrDenied, p.pid)
	}
	return p.pid, nil
}
