package agentsock

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/broker"
)

// canary is the secret's value: it must appear in no output of any test.
const canary = "canary-agentsock-5b1e0f7d93a2c64e"

type fixture struct {
	b      *broker.Broker
	dir    string // the store
	sock   string
	token  string // k only, cmd unrestricted
	server *Server
	logMu  sync.Mutex
	logs   []string
}

// human is a caller that no detection can take for an agent.
func human(t testing.TB) *broker.Caller {
	return &broker.Caller{Cwd: t.TempDir(), ProcRoot: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false }}
}

// newFixture makes a store holding k (the canary) and other, mints a token
// for k and serves the broker on a socket, as agent "claude-code".
func newFixture(t *testing.T, configure ...func(*Server)) *fixture {
	return newBenchFixture(t, configure...)
}

func newBenchFixture(t testing.TB, configure ...func(*Server)) *fixture {
	t.Helper()
	f := &fixture{dir: filepath.Join(t.TempDir(), "store")}
	if err := broker.Init(f.dir); err != nil {
		t.Fatal(err)
	}
	b, err := broker.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	f.b = b
	for name, v := range map[string]string{"k": canary, "other": "other-value-0123456789"} {
		if _, err := b.Set(human(t), broker.SetRequest{Name: name, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.StartSession(human(t), broker.SessionRequest{TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	minted, err := b.Mint(human(t), broker.Restrictions{TTL: 10 * time.Minute, Lists: map[string][]string{"secret": {"k"}}})
	f.token = minted.Token
	if err != nil {
		t.Fatal(err)
	}
	p, err := broker.LoadPolicy(human(t))
	if err != nil {
		t.Fatal(err)
	}
	f.server = &Server{Broker: b, Agent: "claude-code", Policy: p, Log: func(s string) {
		f.logMu.Lock()
		f.logs = append(f.logs, s)
		f.logMu.Unlock()
	}}
	for _, c := range configure {
		c(f.server)
	}
	f.sock = filepath.Join(t.TempDir(), "broker.sock")
	l, err := Listen(f.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.server.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		f.assertNoCanary(t, "log", strings.Join(f.logs, "\n"))
		audit, err := os.ReadFile(filepath.Join(f.dir, broker.AuditFile))
		if err != nil {
			t.Errorf("the audit log: %v", err)
		}
		f.assertNoCanary(t, "audit log", string(audit))
	})
	return f
}

func (f *fixture) assertNoCanary(t testing.TB, where, s string) {
	t.Helper()
	if strings.Contains(s, canary) {
		t.Errorf("the canary value appears in %s", where)
	}
}

func (f *fixture) caller(t *testing.T, token string) *broker.Caller {
	return &broker.Caller{Token: token, TokenGiven: token != "", Cwd: t.TempDir()}
}

// outputs are a stdout and a stderr file whose contents a test reads back.
func outputs(t *testing.T) (stdout, stderr *os.File, read func() (string, string)) {
	t.Helper()
	dir := t.TempDir()
	var err error
	if stdout, err = os.Create(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if stderr, err = os.Create(filepath.Join(dir, "err")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdout.Close(); stderr.Close() })
	return stdout, stderr, func() (string, string) {
		o, err := os.ReadFile(stdout.Name())
		if err != nil {
			t.Fatal(err)
		}
		e, err := os.ReadFile(stderr.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(o), string(e)
	}
}

func (f *fixture) exec(t *testing.T, token string, inject []broker.Injection, argv ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	out, errOut, read := outputs(t)
	var warns []string
	cl := &Client{Socket: f.sock}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err = cl.Exec(ctx, f.caller(t, token), broker.ExecRequest{Inject: inject, Argv: argv,
		Env:    []string{"PATH=/usr/bin:/bin", "AI_AGENT=human"},
		Stdout: out, Stderr: errOut, Warn: func(w string) { warns = append(warns, w) },
	})
	stdout, stderr = read()
	for _, s := range []string{stdout, stderr, strings.Join(warns, "\n")} {
		f.assertNoCanary(t, "the client's output", s)
	}
	if err != nil {
		f.assertNoCanary(t, "the error", err.Error())
	}
	return code, stdout, stderr, err
}

var injectK = []broker.Injection{{Var: "X", Secret: "k"}}

func TestExecRoundTrip(t *testing.T) {
	f := newFixture(t)
	code, out, errOut, err := f.exec(t, f.token, injectK, "sh", "-c", `echo "out $X"; echo "err $X" >&2; pwd; exit 7`)
	if err != nil || code != 7 {
		t.Fatalf("code %d, err %v; want the child's 7", code, err)
	}
	if !strings.HasPrefix(out, "out [REDACTED:k]\n") || errOut != "err [REDACTED:k]\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	// The child ran in the client's directory, not the broker's.
	if wd, _ := os.Getwd(); strings.Contains(out, "\n"+wd+"\n") {
		t.Errorf("the child ran in the broker's directory: %q", out)
	}
}

// The identity is the stamped one: the client's AI_AGENT=human (see
// exec) changes nothing, and without a token the agent is refused.
func TestStampedAgentAndRefusals(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		token  string
		inject []broker.Injection
		argv   []string
		want   error
	}{
		{"no token", "", injectK, []string{"true"}, broker.ErrDenied},
		{"another secret", f.token, []broker.Injection{{Var: "X", Secret: "other"}}, []string{"true"}, broker.ErrDenied},
		{"a forged token", f.token[:len(f.token)-4] + "AAAA", injectK, []string{"true"}, broker.ErrDenied},
		{"no such program", f.token, injectK, []string{"no-such-program-here"}, broker.ErrCommandNotFound},
		{"a bad variable", f.token, []broker.Injection{{Var: "1X", Secret: "k"}}, []string{"true"}, broker.ErrBadRequest},
	}
	for _, c := range cases {
		marker := filepath.Join(t.TempDir(), "started")
		argv := c.argv
		if argv[0] == "true" {
			argv = []string{"sh", "-c", "touch " + marker}
		}
		_, _, _, err := f.exec(t, c.token, c.inject, argv...)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if _, statErr := os.Stat(marker); statErr == nil {
			t.Errorf("%s: the child was started", c.name)
		}
	}
	entries, err := f.b.Audit(human(t), broker.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Event == "exec" && e.Agent != "claude-code" {
			t.Errorf("audit line for %s names agent %q, want the stamped claude-code", e.Event, e.Agent)
		}
	}
}

func TestPeekAndList(t *testing.T) {
	f := newFixture(t)
	cl := &Client{Socket: f.sock}
	p, err := cl.Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.b.Peek(human(t), broker.PeekRequest{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if p != want {
		t.Errorf("remote peek %+v, local %+v", p, want)
	}
	if _, err := cl.Peek(f.caller(t, f.token), broker.PeekRequest{Name: "other"}); !errors.Is(err, broker.ErrDenied) {
		t.Errorf("peek of a secret outside the token: %v", err)
	}
	res, err := cl.List(f.caller(t, f.token), broker.ListRequest{WithTimes: true})
	if err != nil {
		t.Fatal(err)
	}
	es := res.Entries
	if len(es) != 1 || es[0].Name != "k" || es[0].Updated.IsZero() {
		t.Errorf("list under a token for k: %+v", es)
	}
	if _, err := cl.List(f.caller(t, ""), broker.ListRequest{}); !errors.Is(err, broker.ErrDenied) {
		t.Errorf("list without a token: %v", err)
	}
}

// Signals the client receives reach the child.
func TestSignalsReachTheChild(t *testing.T) {
	f := newFixture(t)
	ready := filepath.Join(t.TempDir(), "ready")
	go func() {
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(ready); err == nil {
				syscall.Kill(os.Getpid(), syscall.SIGUSR1)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, _, _, err := f.exec(t, f.token, injectK, "sh", "-c", `trap 'exit 42' USR1; touch `+ready+`; while :; do sleep 0.02; done`)
	if err != nil || code != 42 {
		t.Errorf("code %d, err %v; want 42 from the trapped SIGUSR1", code, err)
	}
}

// rawConn connects without the client, to send what it never would.
func rawConn(t *testing.T, f *fixture) *net.UnixConn {
	t.Helper()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: f.sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return conn
}

func readReply(t *testing.T, conn *net.UnixConn) Reply {
	t.Helper()
	var rep Reply
	if _, err := readFrame(conn, &rep, 0); err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return rep
}

func header(version byte, n uint32) []byte {
	h := []byte{version, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[1:], n)
	return h
}

// Malformed and oversized requests get an error, and the server goes on.
func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	body := func(s string) []byte { return append(header(Version, uint32(len(s))), s...) }
	cwd := strconv.Quote(t.TempDir())
	for name, frame := range map[string][]byte{
		"another version":  append(header(9, 2), "{}"...),
		"oversized":        header(Version, MaxFrame+1),
		"not JSON":         body("{nope"),
		"unknown field":    body(`{"op":"list","cwd":` + cwd + `,"list":{},"sudo":true}`),
		"trailing data":    body(`{"op":"list","cwd":` + cwd + `,"list":{}} {}`),
		"unknown op":       body(`{"op":"mint","cwd":` + cwd + `}`),
		"op without args":  body(`{"op":"peek","cwd":` + cwd + `}`),
		"two ops":          body(`{"op":"list","cwd":` + cwd + `,"list":{},"peek":{"name":"k"}}`),
		"relative cwd":     body(`{"op":"list","cwd":"here","list":{}}`),
		"exec without fds": body(`{"op":"exec","cwd":` + cwd + `,"exec":{"argv":["true"],"env":[]}}`),
		"exec, no argv":    body(`{"op":"exec","cwd":` + cwd + `,"exec":{"argv":[],"env":[]}}`),
	} {
		conn := rawConn(t, f)
		if _, err := conn.Write(frame); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep := readReply(t, conn)
		if rep.Error == nil || rep.Error.Kind != KindProtocol {
			t.Errorf("%s: reply %+v, want a protocol error", name, rep)
		}
	}
	// A client that connects and says nothing does not stop the others.
	_ = rawConn(t, f)
	if _, err := (&Client{Socket: f.sock}).Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"}); err != nil {
		t.Errorf("after the malformed requests: %v", err)
	}
}

// Descriptors passed with a request that takes none are refused and closed.
func TestDescriptorsRefused(t *testing.T) {
	f := newFixture(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conn := rawConn(t, f)
	req := Request{Op: OpList, Cwd: t.TempDir(), List: &ListArgs{}}
	if err := writeFrame(conn, req, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if rep := readReply(t, conn); rep.Error == nil || rep.Error.Kind != KindProtocol {
		t.Errorf("list with a descriptor: %+v", rep)
	}
	// The broker's copy was closed: the write end sees no reader.
	time.Sleep(50 * time.Millisecond)
	if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("the broker kept the passed descriptor open (write: %v)", err)
	}
}

func TestPeerChecks(t *testing.T) {
	other := os.Getuid() + 1
	f := newFixture(t, func(s *Server) { s.peerUID = &other })
	_, err := (&Client{Socket: f.sock}).Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"})
	if !errors.Is(err, broker.ErrDenied) || !strings.Contains(err.Error(), "uid") {
		t.Errorf("a peer of another uid: %v", err)
	}

	// A process that does not descend from the launcher: here the launcher
	// is a sleeping child of ours, and we are not its descendant.
	cmd := execCommand(t, "sleep", "30")
	f = newFixture(t, func(s *Server) { s.Root = cmd.Process.Pid })
	_, err = (&Client{Socket: f.sock}).Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"})
	if !errors.Is(err, broker.ErrDenied) || !strings.Contains(err.Error(), "not one of the agent's") {
		t.Errorf("a peer outside the tree: %v", err)
	}
	f.logMu.Lock()
	logged := len(f.logs)
	f.logMu.Unlock()
	if logged == 0 {
		t.Error("the refused connection was not logged")
	}

	// In the tree (the launcher is our parent) it is served.
	f = newFixture(t, func(s *Server) { s.Root = os.Getppid() })
	if _, err := (&Client{Socket: f.sock}).Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"}); err != nil {
		t.Errorf("a descendant of the launcher: %v", err)
	}
}

// A client that goes away takes its child with it.
func TestClientGoneKillsChild(t *testing.T) {
	f := newFixture(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	out, errOut, _ := outputs(t)
	conn := rawConn(t, f)
	req := Request{Op: OpExec, Token: f.token, TokenGiven: true, Cwd: t.TempDir(),
		Exec: &ExecArgs{Inject: []Injection{{Var: "X", Secret: "k"}}, Argv: []string{"sh", "-c", "echo $$ > " + pidFile + "; exec sleep 30"}, Env: []string{"PATH=/usr/bin:/bin"}}}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if err := writeFrame(conn, req, devNull, out, errOut); err != nil {
		t.Fatal(err)
	}
	var pid int
	for i := 0; i < 500 && pid == 0; i++ {
		data, _ := os.ReadFile(pidFile) // not there until the child writes it
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the child did not start")
	}
	conn.Close()
	for i := 0; i < 500; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the child %d outlived its client", pid)
}

func TestFrameLimitOnSend(t *testing.T) {
	big := Request{Op: OpExec, Cwd: "/", Exec: &ExecArgs{Argv: []string{"true"}, Env: []string{"X=" + strings.Repeat("a", MaxFrame)}}}
	if _, err := encode(big); err == nil {
		t.Error("a frame over the limit was encoded")
	}
	frame, err := encode(Reply{Warn: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(header(Version, uint32(len(frame)-headerLen)), `{"warn":"ok"}`...); !bytes.Equal(frame, want) {
		t.Errorf("frame %q, want %q", frame, want)
	}
}

// On a terminal the child gets a pseudo-terminal of the terminal's size,
// its output redacted, and our terminal's settings are restored.
func TestExecOnTerminal(t *testing.T) {
	f := newFixture(t)
	master, terminal, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer terminal.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			screen.Write(buf[:n])
			if err != nil || strings.Contains(screen.String(), "done") {
				return
			}
		}
	}()
	_, errOut, _ := outputs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := (&Client{Socket: f.sock}).Exec(ctx, f.caller(t, f.token), broker.ExecRequest{Inject: injectK,
		Argv: []string{"sh", "-c", `test -t 0 && test -t 1 && echo "tty $X $(stty size)"; echo done`},
		Env:  []string{"PATH=/usr/bin:/bin"}, Stdin: terminal, Stdout: terminal, Stderr: errOut, PTY: true,
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("no output on the terminal")
	}
	f.assertNoCanary(t, "the terminal", screen.String())
	if !strings.Contains(screen.String(), "tty [REDACTED:k] 30 100") {
		t.Errorf("terminal shows %q", screen.String())
	}
	after, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Error("the terminal's settings were not restored")
	}
}

// Each child is confined by the server's Confine, and only the child.
func TestChildIsConfined(t *testing.T) {
	f := newFixture(t, func(s *Server) {
		s.Confine = func() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }
	})
	code, out, _, err := f.exec(t, f.token, injectK, "grep", "NoNewPrivs", "/proc/self/status")
	if err != nil || code != 0 || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("code %d, err %v, child's status %q", code, err, out)
	}
}

// A server without a stamped agent or a launch-time policy serves nothing.
func TestServeRefusesAnIncompleteServer(t *testing.T) {
	f := newFixture(t)
	for name, srv := range map[string]*Server{
		"no broker": {Agent: "claude-code", Policy: f.server.Policy},
		"no agent":  {Broker: f.b, Policy: f.server.Policy},
		"no policy": {Broker: f.b, Agent: "claude-code"},
	} {
		l, err := Listen(filepath.Join(t.TempDir(), "s.sock"))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Serve(context.Background(), l); err == nil {
			t.Errorf("%s: Serve started", name)
		}
		l.Close()
	}
}

// The warm broker sees what the human does meanwhile, from another
// process: a revoked token, every token gone with revoke-all --rotate,
// and a new session under the new identity.
func TestRevocationReachesTheWarmBroker(t *testing.T) {
	f := newFixture(t)
	cl := &Client{Socket: f.sock}
	if _, err := cl.Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	minted, err := f.b.Mint(human(t), broker.Restrictions{TTL: 10 * time.Minute, Lists: map[string][]string{"secret": {"k"}}})
	other := minted.Token
	if err != nil {
		t.Fatal(err)
	}
	humanSide, err := broker.Open(f.dir) // the human's own llms process
	if err != nil {
		t.Fatal(err)
	}
	info, err := broker.Inspect(f.token)
	if err != nil {
		t.Fatal(err)
	}
	if err := humanSide.Revoke(human(t), broker.RevokeRequest{ID: info.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Peek(f.caller(t, f.token), broker.PeekRequest{Name: "k"}); !errors.Is(err, broker.ErrDenied) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked token: %v", err)
	}
	if _, err := cl.Peek(f.caller(t, other), broker.PeekRequest{Name: "k"}); err != nil {
		t.Errorf("another token after one was revoked: %v", err)
	}
	if err := humanSide.RevokeAll(human(t), broker.RevokeAllRequest{Rotate: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Peek(f.caller(t, other), broker.PeekRequest{Name: "k"}); !errors.Is(err, broker.ErrDenied) {
		t.Errorf("a token after revoke-all --rotate: %v", err)
	}
	// A new session under the new identity works at once: the broker
	// re-reads the identity it no longer has.
	if _, err := humanSide.StartSession(human(t), broker.SessionRequest{TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	minted, err = humanSide.Mint(human(t), broker.Restrictions{TTL: 10 * time.Minute, Lists: map[string][]string{"secret": {"k"}}})
	fresh := minted.Token
	if err != nil {
		t.Fatal(err)
	}
	code, out, _, err := f.exec(t, fresh, injectK, "sh", "-c", `echo "$X"`)
	if err != nil || code != 0 || out != "[REDACTED:k]\n" {
		t.Errorf("after the rotation: code %d, err %v, out %q", code, err, out)
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Inside agent mode the bindings are the launch's: an exec that asks for
// its own is refused before anything reaches the broker.
func TestExecWithHTTPBindingsRefused(t *testing.T) {
	cl := &Client{Socket: filepath.Join(t.TempDir(), "no-broker-here")}
	_, err := cl.Exec(context.Background(), &broker.Caller{}, broker.ExecRequest{Argv: []string{"true"}, Stdout: os.Stdout, Stderr: os.Stderr,
		HTTP: []broker.HTTPBinding{{Var: "K", Secret: "k", Host: "api.example.com", Port: 443}}})
	if !errors.Is(err, broker.ErrBadRequest) || !strings.Contains(err.Error(), "at launch") {
		t.Errorf("got %v", err)
	}
}
