package agentsock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"

	"github.com/llm-secrets/llms/internal/audit"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/runner"
)

// Client sends requests to the broker listening at Socket: the
// broker.Service across the socket, so a front end serves both the same
// way.
type Client struct {
	Socket string
}

var _ broker.Service = (*Client)(nil)

func (cl *Client) dial() (*net.UnixConn, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: cl.Socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("agent mode: cannot reach the broker at %s: %w", cl.Socket, err)
	}
	return conn, nil
}

// newRequest fills what every request carries.
func newRequest(op string, c *broker.Caller) (Request, error) {
	if c == nil {
		return Request{}, errors.New("agent mode: a request needs a caller")
	}
	r := Request{Op: op, Token: c.Token, TokenGiven: c.TokenGiven, Cwd: c.Cwd, Via: c.Via}
	if r.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return r, err
		}
		r.Cwd = wd
	}
	return r, nil
}

// call sends a request that passes no descriptors and reads its reply.
func (cl *Client) call(r Request) (Reply, error) {
	conn, err := cl.dial()
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	if err := writeFrame(conn, r); err != nil {
		return Reply{}, sendError(conn, err)
	}
	var rep Reply
	if _, err := readFrame(conn, &rep, 0); err != nil {
		return Reply{}, fmt.Errorf("agent mode: reading the reply: %w", err)
	}
	if rep.Error != nil {
		return Reply{}, rep.Error
	}
	return rep, nil
}

// Peek asks the broker to peek at one secret.
func (cl *Client) Peek(c *broker.Caller, req broker.PeekRequest) (broker.Peek, error) {
	r, err := newRequest(OpPeek, c)
	if err != nil {
		return broker.Peek{}, err
	}
	r.Peek = &PeekArgs{Name: req.Name}
	rep, err := cl.call(r)
	if err != nil {
		return broker.Peek{}, err
	}
	if rep.Peek == nil {
		return broker.Peek{}, protocolf("the reply to peek holds no result")
	}
	return rep.Peek.peek(), nil
}

// List asks the broker for the names the caller may see.
func (cl *Client) List(c *broker.Caller, req broker.ListRequest) (broker.ListResult, error) {
	r, err := newRequest(OpList, c)
	if err != nil {
		return broker.ListResult{}, err
	}
	r.List = &ListArgs{Times: req.WithTimes}
	rep, err := cl.call(r)
	if err != nil {
		return broker.ListResult{}, err
	}
	if rep.List == nil {
		return broker.ListResult{}, protocolf("the reply to list holds no result")
	}
	return listResult(*rep.List), nil
}

// DescribeAccess asks the broker what the caller's token permits.
func (cl *Client) DescribeAccess(c *broker.Caller) (broker.TokenAccess, error) {
	r, err := newRequest(OpDescribe, c)
	if err != nil {
		return broker.TokenAccess{}, err
	}
	r.Describe = &DescribeArgs{}
	rep, err := cl.call(r)
	if err == nil && rep.Describe == nil {
		err = protocolf("the reply to describe holds no result")
	}
	if err != nil {
		return broker.TokenAccess{}, err
	}
	return rep.Describe.access(), nil
}

// AuditRecent asks the broker for the caller's token's latest entries.
func (cl *Client) AuditRecent(c *broker.Caller, req broker.AuditRecentRequest) ([]audit.Entry, error) {
	r, err := newRequest(OpAudit, c)
	if err != nil {
		return nil, err
	}
	r.Audit = &AuditArgs{Limit: req.Limit}
	rep, err := cl.call(r)
	if err == nil && rep.Audit == nil {
		err = protocolf("the reply to audit holds no result")
	}
	if err != nil {
		return nil, err
	}
	return auditEntries(*rep.Audit), nil
}

// RequestSecret asks the broker to record that the caller asks the human
// for a secret.
func (cl *Client) RequestSecret(c *broker.Caller, req broker.AskRequest) (broker.SecretRequest, error) {
	r, err := newRequest(OpAsk, c)
	if err != nil {
		return broker.SecretRequest{}, err
	}
	r.Ask = &AskArgs{Name: req.Name, Reason: req.Reason}
	rep, err := cl.call(r)
	if err == nil && rep.Ask == nil {
		err = protocolf("the reply to ask holds no result")
	}
	if err != nil {
		return broker.SecretRequest{}, err
	}
	return rep.Ask.request(), nil
}

// Exec asks the broker to run req and waits for the child's status. Its
// stdin and the stdout and stderr that are files are passed to the broker
// (not copied) and become the child's; any other writer gets the child's
// output through a pipe this process copies from (outputs.go). The signals
// llms relays are forwarded; ending ctx, or this process, ends the
// connection and the broker kills the child.
//
// With req.PTY (stdin and stdout are terminals) the broker runs the child
// on a pseudo-terminal of its own, whose output goes to our stdout. We put
// our terminal in raw mode and relay what is typed through a pipe: the
// broker, outside the terminal's foreground process group, cannot read it.
func (cl *Client) Exec(ctx context.Context, c *broker.Caller, req broker.ExecRequest) (int, error) {
	r, err := newRequest(OpExec, c)
	if err != nil {
		return 0, err
	}
	r.Exec = execArgs(req)
	stdin := req.Stdin
	if stdin == nil {
		devNull, err := os.Open(os.DevNull)
		if err != nil {
			return 0, err
		}
		defer devNull.Close()
		stdin = devNull
	}
	if len(req.HTTP) > 0 {
		// A per-command proxy would need its own egress rule; in agent
		// mode the bindings are the launch's, and the agent already
		// holds their placeholders.
		return 0, fmt.Errorf("%w: --http is given to `llms agent` at launch, not to exec inside agent mode", broker.ErrBadRequest)
	}
	out, err := openOutputs(req.Stdout, req.Stderr)
	if err != nil {
		return 0, err
	}
	defer out.abandon()
	sigs := catchSignals(req.PTY)
	defer sigs.stopLater()

	passIn := stdin
	if req.PTY {
		in, restore, err := relayTerminal(stdin)
		if err != nil {
			return 0, err
		}
		defer restore()
		passIn = in
	}
	conn, err := cl.dial()
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	err = writeFrame(conn, r, passIn, out.stdout, out.stderr)
	if passIn != stdin {
		passIn.Close() // the broker has its own copy now
	}
	if err != nil {
		return 0, sendError(conn, err)
	}
	code, err := cl.await(ctx, conn, req.Warn, sigs)
	if ctx.Err() != nil {
		// The broker killed the child's group when the connection ended;
		// whatever still holds the output is not waited for.
		return 128 + int(syscall.SIGKILL), err
	}
	out.finish()
	return code, err
}

// execArgs are the wire arguments of req.
func execArgs(req broker.ExecRequest) *ExecArgs {
	a := &ExecArgs{Argv: req.Argv, Env: req.Env, PTY: req.PTY, NoRedact: req.NoRedact}
	for _, in := range req.Inject {
		a.Inject = append(a.Inject, Injection(in))
	}
	if req.ConfineDir {
		a.Dir = req.Dir
	}
	return a
}

// await reads the broker's replies up to the child's status, relaying our
// signals meanwhile.
func (cl *Client) await(ctx context.Context, conn *net.UnixConn, warn func(string), sigs *signalRelay) (int, error) {
	var inOurGroup atomic.Bool
	results := make(chan result, 1)
	go func() { results <- readReplies(conn, warn, &inOurGroup) }()
	for {
		select {
		case c := <-sigs.catching:
			sigs.started(c)
		case sig := <-sigs.sigs:
			n, ok := sig.(syscall.Signal)
			if !ok || keyboardDelivered(n, inOurGroup.Load()) {
				continue
			}
			_ = writeFrame(conn, Control{Signal: int(n)})
		case res := <-results:
			return res.code, res.err
		case <-ctx.Done():
			return 1, ctx.Err()
		}
	}
}

// result is how an exec ended: the child's status, or why there is none.
type result struct {
	code int
	err  error
}

// readReplies reads replies up to the status or an error, passing on the
// warnings and noting when the child joined our process group.
func readReplies(conn *net.UnixConn, warn func(string), inOurGroup *atomic.Bool) result {
	for {
		var rep Reply
		if _, err := readFrame(conn, &rep, 0); err != nil {
			return result{1, fmt.Errorf("agent mode: the broker ended the request without a status: %w", err)}
		}
		switch {
		case rep.Warn != "":
			if warn != nil {
				warn(rep.Warn)
			}
		case rep.InYourGroup:
			inOurGroup.Store(true)
		case rep.Error != nil:
			return result{1, rep.Error}
		case rep.Exit != nil:
			return result{*rep.Exit, nil}
		default:
			return result{1, protocolf("a reply with nothing in it")}
		}
	}
}

// signalRelay catches the signals llms relays while an exec runs.
// Catching costs a round trip with the runtime per signal, so without a
// terminal it overlaps with the request instead of delaying it: a signal
// that comes first ends us, our connection with us, and the broker then
// kills the child. With a terminal it comes first, before the terminal is
// made raw, so that nothing leaves it raw.
type signalRelay struct {
	catching chan caught // delivers the running catch once, then nil
	sigs     <-chan os.Signal
	stop     func()
}

func catchSignals(pty bool) *signalRelay {
	s := &signalRelay{catching: make(chan caught, 1)}
	catch := func() {
		var extra []os.Signal
		if pty {
			extra = append(extra, syscall.SIGWINCH)
		}
		sigs, stop := runner.CatchSignals(extra...)
		s.catching <- caught{sigs, stop}
	}
	if pty {
		catch()
	} else {
		go catch()
	}
	return s
}

func (s *signalRelay) started(c caught) {
	s.sigs, s.catching, s.stop = c.sigs, nil, c.stop
}

// stopLater stops catching after we return: stopping is a round trip with
// the runtime per signal too, so that the child's status reaches the
// caller (a CLI about to exit) without waiting for it.
func (s *signalRelay) stopLater() {
	pending, stop := s.catching, s.stop
	go func() {
		if stop == nil {
			stop = (<-pending).stop
		}
		stop()
	}()
}

// keyboardDelivered: a SIGINT or SIGQUIT from the keyboard reached every
// process of the terminal's foreground group, the child too when it runs in
// ours; relaying it as well would deliver it twice (ADR 13).
func keyboardDelivered(sig syscall.Signal, childInOurGroup bool) bool {
	return childInOurGroup && (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && runner.InForeground()
}

// caught is a running runner.CatchSignals.
type caught struct {
	sigs <-chan os.Signal
	stop func()
}

// relayTerminal puts the terminal on stdin in raw mode and relays what is
// typed to a pipe, whose read end it returns; restore stops the relay and
// gives the terminal its settings back.
func relayTerminal(stdin *os.File) (*os.File, func(), error) {
	fd := int(stdin.Fd())
	saved, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, fmt.Errorf("agent mode: putting the terminal in raw mode: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		_ = term.Restore(fd, saved)
		return nil, nil, err
	}
	stop, err := runner.RelayInput(w, fd)
	if err != nil {
		r.Close()
		w.Close()
		_ = term.Restore(fd, saved)
		return nil, nil, err
	}
	return r, func() {
		stop()
		w.Close()
		_ = term.Restore(fd, saved)
	}, nil
}

// sendError explains a request that could not be sent: the broker may have
// refused the connection before reading it (a peer it does not serve), and
// then its reply says why.
func sendError(conn *net.UnixConn, err error) error {
	var rep Reply
	if _, rerr := readFrame(conn, &rep, 0); rerr == nil && rep.Error != nil {
		return rep.Error
	}
	return fmt.Errorf("agent mode: sending the request: %w", err)
}

// SocketEnv names the broker's socket in the agent's environment: the
// launcher sets it, and llms inside agent mode becomes a client of it.
const SocketEnv = "LLM_SECRETS_SOCKET"
