package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func writePolicy(t *testing.T, configDir, text string) {
	t.Helper()
	dir := filepath.Join(configDir, "llm-secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

const (
	allowA = "secrets:\n  A:\n    allow:\n      - agent: '*'\n"
	allowB = "secrets:\n  B:\n    allow:\n      - agent: '*'\n"
)

// A policy loaded at launch is the one every later request is judged by:
// editing the file afterwards (as an agent that can write the working
// tree could) changes nothing.
func TestPreloadedPolicyIsNotReadAgain(t *testing.T) {
	b, _ := testBroker(t)
	config := t.TempDir()
	writePolicy(t, config, allowA)
	launch := caller(t, nil, "")
	launch.ConfigDirs = []string{config}
	p, err := LoadPolicy(launch)
	if err != nil {
		t.Fatal(err)
	}
	// The account's own ~/.config first, then the extra directory.
	if got := p.Paths(); len(got) != 2 || got[1] != filepath.Join(config, "llm-secrets", "policy.yaml") {
		t.Errorf("paths %v", got)
	}
	writePolicy(t, config, allowB)

	preloaded := func() *Caller {
		c := caller(t, nil, "")
		c.ConfigDirs, c.Policy = []string{config}, p
		return c
	}
	if _, err := b.Peek(preloaded(), PeekRequest{Name: "A"}); err != nil {
		t.Errorf("A, allowed at launch: %v", err)
	}
	if _, err := b.Peek(preloaded(), PeekRequest{Name: "B"}); !errors.Is(err, ErrDenied) {
		t.Errorf("B, allowed only by the edited file: %v, want denied", err)
	}
	// Without a preloaded policy the file is read per request.
	fresh := caller(t, nil, "")
	fresh.ConfigDirs = []string{config}
	if _, err := b.Peek(fresh, PeekRequest{Name: "B"}); err != nil {
		t.Errorf("B with the file read now: %v", err)
	}
}

func TestLoadPolicyRefusesABrokenFile(t *testing.T) {
	config := t.TempDir()
	writePolicy(t, config, "secrets: [oops\n")
	c := caller(t, nil, "")
	c.ConfigDirs = []string{config}
	if _, err := LoadPolicy(c); !errors.Is(err, ErrDenied) {
		t.Fatalf("broken policy: %v, want denied", err)
	}
}

// A request from another process names its own directory and PATH: the
// program is looked up there, not in ours, and started there.
func TestExecInRequesterDirectory(t *testing.T) {
	b, _ := testBroker(t)
	dir, bin := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\npwd\n"
	for _, p := range []string{filepath.Join(dir, "here.sh"), filepath.Join(bin, "theirs")} {
		if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, argv0 := range []string{"./here.sh", "theirs"} {
		var out, errOut bytes.Buffer
		code, err := b.Exec(context.Background(), caller(t, nil, ""), ExecRequest{Argv: []string{argv0}, Dir: dir,
			Env:    []string{"PATH=relative:" + bin + ":/usr/bin:/bin"},
			Stdout: &out, Stderr: &errOut,
		})
		if err != nil || code != 0 {
			t.Fatalf("%s: code %d, err %v, stderr %q", argv0, code, err, errOut.String())
		}
		if got := strings.TrimSpace(out.String()); got != dir {
			t.Errorf("%s ran in %q, want %q", argv0, got, dir)
		}
	}
	for argv0, want := range map[string]error{"here.sh": ErrCommandNotFound, "./missing": ErrCommandNotFound, "/": ErrCommandNotExecutable} {
		_, err := b.Exec(context.Background(), caller(t, nil, ""), ExecRequest{Argv: []string{argv0}, Dir: dir,
			Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		})
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", argv0, err, want)
		}
	}
	_, err := b.Exec(context.Background(), caller(t, nil, ""), ExecRequest{Argv: []string{"true"}, Dir: "relative",
		Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	})
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("relative Dir: %v, want a bad request", err)
	}
}

// Confine runs before the child starts; its failure starts nothing.
func TestExecConfine(t *testing.T) {
	b, _ := testBroker(t)
	marker := filepath.Join(t.TempDir(), "started")
	confined := false
	req := ExecRequest{Inject: []Injection{{"X", "A"}},
		Argv:   []string{"/bin/sh", "-c", "touch " + marker},
		Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Confine: func() error { confined = true; return nil },
	}
	if code, err := b.Exec(context.Background(), caller(t, nil, ""), req); err != nil || code != 0 || !confined {
		t.Fatalf("code %d, err %v, confined %v", code, err, confined)
	}
	must(t, os.Remove(marker))
	req.Confine = func() error { return errors.New("no sandbox") }
	if _, err := b.Exec(context.Background(), caller(t, nil, ""), req); err == nil {
		t.Fatal("a failed Confine was ignored")
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the child started although Confine failed")
	}
}

// Exec, Peek and List may run at once (go test -race checks the rest).
func TestConcurrentRequests(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := 0; i < 10; i++ {
		// The callers are made here: caller may stop the test, which only
		// the test's own goroutine may do.
		peekC, listC, execC := caller(t, claude, tok), caller(t, claude, tok), caller(t, claude, tok)
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := b.Peek(peekC, PeekRequest{Name: "A"})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := b.List(listC, ListRequest{})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := b.Exec(context.Background(), execC, ExecRequest{Inject: []Injection{{"X", "A"}},
				Argv: []string{"true"}, Env: os.Environ(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// In agent mode the launch token is the agent's only authority: another
// token of the store (one it found in a file) is refused, even for what
// that token allows, and with no launch token every token is.
func TestOnlyTheLaunchTokenIsAccepted(t *testing.T) {
	b, _ := testBroker(t)
	mint := func(secret string) (string, string) {
		minted := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {secret}}})
		tok, info := minted.Token, minted.Info
		return tok, info.ID
	}
	launched, launchedID := mint("A")
	found, _ := mint("B")
	none := ""
	for _, c := range []struct {
		name, token, secret string
		launch              *string
		ok                  bool
	}{
		{"the launch token", launched, "A", &launchedID, true},
		{"a found token", found, "B", &launchedID, false},
		{"a token, none launched", found, "B", &none, false},
		{"outside agent mode", found, "B", nil, true},
	} {
		cl := caller(t, nil, c.token)
		cl.StampedAgent, cl.LaunchToken = "claude-code", c.launch
		_, err := b.Peek(cl, PeekRequest{Name: c.secret})
		if c.ok != (err == nil) || (!c.ok && !strings.Contains(fmt.Sprint(err), "not the one this agent was launched with")) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// A token with a launch caveat, and every attenuation of it, holds only
// where the request's caller carries that launch (the launcher's broker
// sets it): not outside agent mode, not in another launch, not for a
// request about the token itself; and the refusal is audited.
func TestLaunchBoundToken(t *testing.T) {
	b, _ := testBroker(t)
	const launch, other = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
	minted, err := b.Mint(caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute,
		Lists: map[string][]string{"secret": {"A"}, "agent": {"claude-code"}, "launch": {launch}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(minted.Info.Caveats, "launch="+launch) {
		t.Fatalf("minted caveats %q hold no launch caveat", minted.Info.Caveats)
	}
	narrowed, err := Attenuate(minted.Token, Restrictions{Lists: map[string][]string{"op": {"peek"}}}, b.now())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := Inspect(narrowed); err != nil || !slices.Contains(info.Caveats, "launch="+launch) {
		t.Fatalf("the attenuated token lost its launch caveat: %q, %v", info.Caveats, err)
	}
	for _, token := range []string{minted.Token, narrowed} {
		for _, c := range []struct {
			name, launch string
			ok           bool
			why          string
		}{
			{"its launch", launch, true, ""},
			{"outside agent mode", "", false, "this request does not come through it"},
			{"another launch", other, false, "another launcher's broker"},
		} {
			cl := caller(t, nil, token)
			cl.StampedAgent, cl.Launch = "claude-code", c.launch
			_, err := b.Peek(cl, PeekRequest{Name: "A"})
			if c.ok != (err == nil) || !errors.Is(err, ErrDenied) && !c.ok || !strings.Contains(fmt.Sprint(err), c.why) {
				t.Errorf("%s: %v", c.name, err)
			}
			cl = caller(t, nil, token)
			cl.StampedAgent, cl.Launch, cl.Via = "claude-code", c.launch, "mcp"
			if _, err := b.DescribeAccess(cl); c.ok != (err == nil) {
				t.Errorf("%s: describe: %v", c.name, err)
			}
		}
	}
	es, err := b.AuditRecent(func() *Caller {
		cl := caller(t, nil, minted.Token)
		cl.StampedAgent, cl.Launch, cl.Via = "claude-code", launch, "mcp"
		return cl
	}(), AuditRecentRequest{Limit: MaxAuditRecent})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, e := range es {
		if e.Decision == "deny" && strings.Contains(e.Reason, "honoured only by the broker") {
			denied++
		}
	}
	if denied != 8 {
		t.Errorf("%d refusals audited with the launch caveat's reason, want 8", denied)
	}
}
