package agentsock

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/broker"
)

// Many more execs at once than the broker runs — an agent's parallel test
// suite — are all served: those beyond MaxInFlight wait their turn instead
// of being refused, and every one is audited in an intact chain.
func TestConcurrentExecsWaitTheirTurn(t *testing.T) {
	const n, running = 100, 4
	f := newFixture(t, func(s *Server) { s.MaxInFlight = running })
	out, errOut, read := outputs(t)
	cl := &Client{Socket: f.sock}
	type result struct {
		code int
		err  error
		took time.Duration
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		c := f.caller(t, f.token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			<-start
			t0 := time.Now()
			code, err := cl.Exec(ctx, c, broker.ExecRequest{Inject: injectK, Argv: []string{"true"},
				Env: []string{"PATH=/usr/bin:/bin"}, Stdout: out, Stderr: errOut})
			results[i] = result{code, err, time.Since(t0)}
		}()
	}
	close(start)
	wg.Wait()
	refused := 0
	took := make([]time.Duration, n)
	for i, r := range results {
		if r.err != nil || r.code != 0 {
			refused++
			if refused <= 3 {
				t.Errorf("exec %d: code %d, %v", i, r.code, r.err)
			}
		}
		took[i] = r.took
	}
	if refused > 0 {
		t.Fatalf("%d of %d concurrent execs failed, want 0", refused, n)
	}
	slices.Sort(took)
	t.Logf("%d concurrent execs, %d at a time: p50 %v, p99 %v, max %v", n, running, took[n/2], took[n*99/100], took[n-1])
	o, e := read()
	f.assertNoCanary(t, "the children's output", o+e)

	lines, err := f.b.AuditVerify(human(t))
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	entries, err := f.b.Audit(human(t), broker.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, e := range entries {
		if e.Event == "exec" && e.Decision == "allow" {
			allowed++
		}
	}
	if allowed != n {
		t.Errorf("%d exec lines allowed in the audit log (%d lines, chain intact), want %d", allowed, lines, n)
	}
}

// hold runs one exec that holds a running slot until release.
func hold(t *testing.T, f *fixture) (release func()) {
	t.Helper()
	started := filepath.Join(t.TempDir(), "started")
	conn := sendExec(t, f, "touch "+started+"; exec sleep 30")
	for i := 0; ; i++ {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if i == 500 {
			t.Fatal("the holding child did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() { conn.Close() }
}

// sendExec sends an exec of sh -c script on a connection of its own.
func sendExec(t *testing.T, f *fixture, script string) *net.UnixConn {
	t.Helper()
	out, errOut, _ := outputs(t)
	conn := rawConn(t, f)
	req := Request{Op: OpExec, Token: f.token, TokenGiven: true, Cwd: t.TempDir(),
		Exec: &ExecArgs{Inject: []Injection{{Var: "X", Secret: "k"}}, Argv: []string{"sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}}}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if err := writeFrame(conn, req, devNull, out, errOut); err != nil {
		t.Fatal(err)
	}
	return conn
}

// finalReply reads replies up to the status or the error.
func finalReply(t *testing.T, conn *net.UnixConn) Reply {
	t.Helper()
	for {
		rep := readReply(t, conn)
		if rep.Exit != nil || rep.Error != nil {
			return rep
		}
	}
}

// waitFor polls until the server has logged a line containing s.
func (f *fixture) waitForLog(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		f.logMu.Lock()
		found := slices.ContainsFunc(f.logs, func(l string) bool { return strings.Contains(l, s) })
		f.logMu.Unlock()
		if found {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server never logged %q", s)
}

// Waiters are served in the order they were accepted; one more than
// MaxWaiting is refused at once, and the queue serves again when a slot is
// free.
func TestWaitersAreServedInOrderAndBounded(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight, s.MaxWaiting = 1, 2 })
	release := hold(t, f)
	order := filepath.Join(t.TempDir(), "order")
	a := sendExec(t, f, "echo a >>"+order)
	time.Sleep(100 * time.Millisecond) // accepted before b
	b := sendExec(t, f, "echo b >>"+order)
	time.Sleep(100 * time.Millisecond)
	if _, _, _, err := f.exec(t, f.token, injectK, "true"); err == nil || !strings.Contains(err.Error(), "serving 1 requests and 2 more wait") {
		t.Fatalf("a third waiter beyond MaxWaiting 2: %v, want it refused", err)
	}
	if _, err := os.Stat(order); err == nil {
		t.Fatal("a waiter ran while the slot was held")
	}
	release()
	for _, conn := range []*net.UnixConn{a, b} {
		if rep := finalReply(t, conn); rep.Exit == nil || *rep.Exit != 0 {
			t.Fatalf("a waiter: %+v, want exit 0", rep)
		}
	}
	if got, _ := os.ReadFile(order); string(got) != "a\nb\n" {
		t.Errorf("the waiters ran in the order %q, want a then b", got)
	}
}

// A waiter whose client hangs up is dropped unserved: its child never
// starts and its request is never audited.
func TestWaiterThatHangsUpIsDropped(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight = 1 })
	release := hold(t, f)
	marker := filepath.Join(t.TempDir(), "ran")
	sendExec(t, f, "touch "+marker).Close()
	f.waitForLog(t, "dropped 1 waiting connection")
	release()
	if code, _, _, err := f.exec(t, f.token, injectK, "true"); err != nil || code != 0 {
		t.Fatalf("an exec once the slot is free: code %d, %v", code, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the request of a client that hung up while it waited was served")
	}
	entries, err := f.b.Audit(human(t), broker.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	execs := 0
	for _, e := range entries {
		if e.Event == "exec" {
			execs++
		}
	}
	if execs != 2 { // the holder and the last exec
		t.Errorf("%d exec lines in the audit log, want 2", execs)
	}
}

// A waiter whose client shut down only its writing after the request
// still waits for the reply, and is served, as it would have been at once
// (an exec's client that does so is taken for gone once its child runs).
func TestWaiterThatHalfClosesIsServed(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight = 1 })
	release := hold(t, f)
	conn := rawConn(t, f)
	req := Request{Op: OpPeek, Token: f.token, TokenGiven: true, Cwd: t.TempDir(), Peek: &PeekArgs{Name: "k"}}
	if err := writeFrame(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * sweepEvery)
	release()
	if rep := readReply(t, conn); rep.Peek == nil || rep.Peek.Name != "k" {
		t.Fatalf("a waiter that half-closed: %+v, want its peek", rep)
	}
}

// A waiter is refused, saying why, once it has waited MaxWait with no
// request ending.
func TestWaiterPastMaxWaitIsRefused(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight, s.MaxWait = 1, 300*time.Millisecond })
	release := hold(t, f)
	defer release()
	t0 := time.Now()
	rep := finalReply(t, sendExec(t, f, "true"))
	if rep.Error == nil || !strings.Contains(rep.Error.Error(), "none of the 1 requests being served has ended in 300ms") {
		t.Fatalf("a waiter past MaxWait: %+v, want it refused", rep)
	}
	if took := time.Since(t0); took < 300*time.Millisecond {
		t.Errorf("refused after %v, before MaxWait", took)
	}
}

// A waiter behind a queue that moves waits past MaxWait, and is served:
// only a queue where no request ends refuses its waiters.
func TestWaiterBehindAMovingQueueIsServed(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxInFlight, s.MaxWait = 1, time.Second })
	t0 := time.Now()
	var conns []*net.UnixConn
	for range 5 {
		conns = append(conns, sendExec(t, f, "sleep 0.5"))
	}
	for i, conn := range conns {
		if rep := finalReply(t, conn); rep.Exit == nil || *rep.Exit != 0 {
			t.Fatalf("exec %d: %+v, want exit 0", i, rep)
		}
	}
	if took := time.Since(t0); took < 2*time.Second {
		t.Errorf("the last waited %v, not past MaxWait", took)
	}
}

// The waiting connections' default bound leaves most of the descriptors
// this process may open to the running requests and the supervisor.
func TestDefaultWaitingFollowsTheDescriptorLimit(t *testing.T) {
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &saved) }()
	for _, c := range []struct{ cur, want uint64 }{{1024, 128}, {64, 16}, {1 << 20, DefaultMaxWaiting}} {
		if c.cur > saved.Max {
			continue
		}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: c.cur, Max: saved.Max}); err != nil {
			t.Fatal(err)
		}
		if got := defaultWaiting(); got != int(c.want) {
			t.Errorf("with %d descriptors: %d may wait, want %d", c.cur, got, c.want)
		}
	}
}
