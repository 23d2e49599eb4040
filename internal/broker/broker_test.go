package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"pgregory.net/rapid"

	"github.com/llm-secrets/llms/internal/userdb"
)

// testBroker makes a store with secrets A, B, C and a live session, and a
// clock the test controls.
func testBroker(t testing.TB) (*Broker, *time.Time) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return now }
	human := caller(t, nil, "")
	for _, n := range []string{"A", "B", "C"} {
		if _, err := b.Set(human, SetRequest{Name: n, Value: []byte("value-of-" + n + "-123")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.StartSession(human, SessionRequest{TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	return b, &now
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustMint mints a token the test needs in order to go on.
func mustMint(t testing.TB, b *Broker, c *Caller, r Restrictions) Minted {
	t.Helper()
	minted, err := b.Mint(c, r)
	if err != nil {
		t.Fatalf("mint %+v: %v", r, err)
	}
	return minted
}

// caller is a caller outside any repository, with the given environment
// and token, no process tree to inspect, and an account "tester" whose
// home holds no policy.
func caller(t testing.TB, env map[string]string, token string) *Caller {
	return &Caller{
		Token: token, TokenGiven: token != "",
		Cwd:       t.TempDir(),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ProcRoot:  t.TempDir(),
		UserDB:    testerDB(t),
	}
}

// testerDBs holds one "tester" user database per test: callers are made
// by the hundred in some tests.
var testerDBs sync.Map

func testerDB(t testing.TB) *userdb.DB {
	if db, ok := testerDBs.Load(t); ok {
		return db.(*userdb.DB)
	}
	db := fakeUserDB(t, "tester", t.TempDir())
	testerDBs.Store(t, db)
	t.Cleanup(func() { testerDBs.Delete(t) })
	return db
}

// fakeUserDB is a user database that knows this process's uid as name,
// with home, and has no getent to fall back on. An empty name makes the
// uid unknown.
func fakeUserDB(t testing.TB, name, home string) *userdb.DB {
	// Someone else is in the file either way.
	entry := fmt.Sprintf("other:x:%d:0::/home/other:/bin/sh\n", os.Getuid()+1)
	if name != "" {
		entry += fmt.Sprintf("%s:x:%d:%d::%s:/bin/sh\n", name, os.Getuid(), os.Getgid(), home)
	}
	p := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(p, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	return &userdb.DB{PasswdFile: p, Getent: []string{}}
}

var claude = map[string]string{"CLAUDECODE": "1"}

func TestAgentWithoutTokenIsRefused(t *testing.T) {
	b, _ := testBroker(t)
	_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: caller(t, claude, "")})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "no token was given") {
		t.Fatalf("agent without token: %v", err)
	}
	empty := caller(t, claude, "")
	empty.TokenGiven = true
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, caller: empty}); !errors.Is(err, ErrDenied) {
		t.Fatalf("agent with an empty token: %v", err)
	}
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: caller(t, nil, "")}); err != nil {
		t.Fatalf("human without token: %v", err)
	}
}

func TestTokenScopesAndExpiry(t *testing.T) {
	b, now := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A", "B"}, "op": {"exec"}}}).Token
	try := func(op string, secrets ...string) error {
		_, err := b.authorize(access{op: op, secrets: secrets, program: "/bin/true", caller: caller(t, claude, tok)})
		return err
	}
	if err := try("exec", "A", "B"); err != nil {
		t.Fatalf("allowed request refused: %v", err)
	}
	for _, bad := range []error{try("exec", "C"), try("exec", "A", "C"), try("peek", "A")} {
		if !errors.Is(bad, ErrDenied) {
			t.Fatalf("out-of-scope request: %v", bad)
		}
	}
	*now = now.Add(5 * time.Minute)
	if err := try("exec", "A"); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
}

func TestMintRefusals(t *testing.T) {
	b, _ := testBroker(t)
	human := caller(t, nil, "")
	for _, r := range []Restrictions{
		{TTL: time.Minute}, // no secret
		{Lists: map[string][]string{"secret": {"A"}}},                                      // no expiry
		{TTL: 2 * time.Hour, Lists: map[string][]string{"secret": {"A"}}},                  // beyond the session
		{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "op": {"fly"}}},     // unknown op
		{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "op": {"mint"}}},    // an op no request checks
		{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "colour": {"red"}}}, // not a caveat
	} {
		if _, err := b.Mint(human, r); err == nil {
			t.Errorf("Mint(%+v) accepted", r)
		}
	}
	// A restriction given with no item (--cmd "$UNSET", cmd = [] in a
	// profile) is refused, never minted as no restriction at all.
	for _, name := range []string{"cmd", "agent", "repo", "branch", "who", "op", "keep_env"} {
		r := Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, name: {}}}
		if _, err := b.Mint(human, r); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Mint with an empty %s: %v, want a bad request", name, err)
		}
		tok := mustMint(t, b, human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
		if _, err := Attenuate(tok, Restrictions{Lists: map[string][]string{"op": {"exec"}, name: nil}}, b.now()); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Attenuate with an empty %s: %v, want a bad request", name, err)
		}
	}
	if _, err := b.Mint(caller(t, claude, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}); !errors.Is(err, ErrDenied) {
		t.Errorf("agent minted: %v", err)
	}
	if err := b.RevokeAll(human, RevokeAllRequest{Rotate: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}); !errors.Is(err, ErrNoSession) {
		t.Errorf("mint after revoke-all: %v", err)
	}
}

func TestRevokeOneToken(t *testing.T) {
	b, _ := testBroker(t)
	human := caller(t, nil, "")
	r := Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}
	first := mustMint(t, b, human, r)
	t1, i1 := first.Token, first.Info
	t2 := mustMint(t, b, human, r).Token
	child, err := Attenuate(t1, Restrictions{Lists: map[string][]string{"op": {"exec"}}}, b.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Revoke(human, RevokeRequest{ID: i1.ID}); err != nil {
		t.Fatal(err)
	}
	for tok, wantOK := range map[string]bool{t1: false, child: false, t2: true} {
		_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: caller(t, claude, tok)})
		if (err == nil) != wantOK {
			t.Errorf("after revoke: err = %v, want ok=%v", err, wantOK)
		}
	}
}

// TestAttenuationNeverWidens: for random tokens, random attenuations and
// random requests, whatever the attenuated token allows, its parent allows.
func TestAttenuationNeverWidens(t *testing.T) {
	b, now := testBroker(t)
	human := caller(t, nil, "")
	secrets := []string{"A", "B", "C"}
	ops := []string{"exec", "peek", "list"}
	subset := func(t *rapid.T, label string, from []string) []string {
		return rapid.SliceOfNDistinct(rapid.SampledFrom(from), 0, len(from), rapid.ID[string]).Draw(t, label)
	}
	// lists leaves out an empty subset: no caveat of that name.
	lists := func(m map[string][]string) map[string][]string {
		for name, items := range m {
			if len(items) == 0 {
				delete(m, name)
			}
		}
		return m
	}
	rapid.Check(t, func(rt *rapid.T) {
		parentR := Restrictions{TTL: time.Duration(rapid.IntRange(1, 30).Draw(rt, "ttl")) * time.Minute,
			Lists: lists(map[string][]string{"secret": subset(rt, "secrets", secrets), "op": subset(rt, "ops", ops)})}
		if len(parentR.Secrets()) == 0 {
			parentR.Lists["secret"] = []string{"A"}
		}
		minted, err := b.Mint(human, parentR)
		if err != nil {
			rt.Fatal(err)
		}
		parent := minted.Token
		childR := Restrictions{TTL: time.Duration(rapid.IntRange(0, 40).Draw(rt, "cttl")) * time.Minute,
			Lists: lists(map[string][]string{"secret": subset(rt, "csecrets", secrets), "op": subset(rt, "cops", ops)})}
		child, err := Attenuate(parent, childR, b.now())
		if err != nil {
			return // nothing to add
		}
		req := access{op: rapid.SampledFrom(ops).Draw(rt, "op"), secrets: subset(rt, "asked", secrets), program: "/bin/true"}
		if req.op != "list" && len(req.secrets) == 0 {
			req.secrets = []string{"B"}
		}
		saved := *now
		*now = now.Add(time.Duration(rapid.IntRange(0, 45).Draw(rt, "later")) * time.Minute)
		defer func() { *now = saved }()
		req.caller = caller(t, claude, child)
		_, childErr := b.authorize(req)
		req.caller = caller(t, claude, parent)
		_, parentErr := b.authorize(req)
		if childErr == nil && parentErr != nil {
			rt.Fatalf("attenuated token allowed what its parent refuses: %v", parentErr)
		}
	})
}

// TestTamperedTokenRefused: flipping any byte of a token's text form makes
// it fail, and the error never carries the token.
func TestTamperedTokenRefused(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := len("llms_m2_"); i < len(tok); i++ {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, tok[i])+1)%64]} {
			bad := []byte(tok)
			bad[i] = c
			_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: caller(t, claude, string(bad))})
			if err == nil {
				t.Fatalf("tampered token (byte %d) accepted", i)
			}
			if strings.Contains(err.Error(), tok[len("llms_m2_"):]) || bytes.Contains([]byte(err.Error()), bad[len("llms_m2_"):]) {
				t.Fatal("error echoes the token")
			}
		}
	}
}

func TestAgentCannotWrite(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	agent := caller(t, claude, tok)
	if _, err := b.Set(agent, SetRequest{Name: "A", Value: []byte("overwritten")}); !errors.Is(err, ErrDenied) {
		t.Errorf("agent Set: %v", err)
	}
	if err := b.Delete(agent, NameRequest{Name: "A"}); !errors.Is(err, ErrDenied) {
		t.Errorf("agent Delete: %v", err)
	}
	if err := b.RevokeAll(agent, RevokeAllRequest{Rotate: true}); !errors.Is(err, ErrDenied) {
		t.Errorf("agent RevokeAll: %v", err)
	}
	if _, err := b.StartSession(agent, SessionRequest{TTL: time.Hour}); !errors.Is(err, ErrDenied) {
		t.Errorf("agent StartSession: %v", err)
	}
	if _, err := os.Stat(filepath.Join(b.Dir(), "secrets", "A.age")); err != nil {
		t.Fatal(err)
	}
}

// TestNoRedactIsForTheHumanOnly: whatever the front end, the broker
// refuses to turn redaction off under a token or for an agent.
func TestNoRedactIsForTheHumanOnly(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, c := range []*Caller{caller(t, claude, tok), caller(t, nil, tok), caller(t, claude, "")} {
		_, err := b.Exec(context.Background(), c, ExecRequest{Inject: []Injection{{"X", "A"}}, Argv: []string{"true"},
			Stdin: devnull, Stdout: devnull, Stderr: devnull, NoRedact: true})
		if !errors.Is(err, ErrDenied) {
			t.Errorf("NoRedact with token=%v: %v", c.TokenGiven, err)
		}
	}
	// The human too, unless stdout is a terminal: captured output would
	// keep the values.
	started := filepath.Join(t.TempDir(), "started")
	_, err = b.Exec(context.Background(), caller(t, nil, ""), ExecRequest{Inject: []Injection{{"X", "A"}}, Argv: []string{"touch", started},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdin: devnull, Stdout: devnull, Stderr: devnull, NoRedact: true})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "stdout is not a terminal") {
		t.Errorf("NoRedact for the human, stdout not a terminal: %v", err)
	}
	if _, err := os.Stat(started); err == nil {
		t.Error("the child started")
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }()
	code, err := b.Exec(context.Background(), caller(t, nil, ""), ExecRequest{Inject: []Injection{{"X", "A"}}, Argv: []string{"true"},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdin: devnull, Stdout: tty, Stderr: devnull, NoRedact: true})
	if err != nil || code != 0 {
		t.Errorf("NoRedact for the human at a terminal: code %d, %v", code, err)
	}
}

// TestUnknownNamesAreNotRevealed: outside a token's scope, a name that
// exists and one that does not get the same refusal, byte for byte but for
// the name asked (both names one letter long); so does an agent without a
// token.
func TestUnknownNamesAreNotRevealed(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	refusal := func(token, name string) string {
		t.Helper()
		p, err := b.Peek(caller(t, claude, token), PeekRequest{Name: name})
		if !errors.Is(err, ErrDenied) || p != (Peek{}) {
			t.Fatalf("Peek(%s) with token %v: %+v, %v; want nothing and ErrDenied", name, token != "", p, err)
		}
		return err.Error()
	}
	if !b.st.Has("B") || b.st.Has("Z") {
		t.Fatal("the store should hold B and not Z")
	}
	existing, missing := refusal(tok, "B"), refusal(tok, "Z")
	if want := strings.Replace(existing, `"B"`, `"Z"`, 1); missing != want {
		t.Errorf("under a token for A, the refusals differ:\n B: %s\n Z: %s", existing, missing)
	}
	if strings.Count(existing, `"B"`) != 1 {
		t.Errorf("the refusal names the secret asked once: %s", existing)
	}
	if existing, missing := refusal("", "B"), refusal("", "Z"); existing != missing {
		t.Errorf("without a token, the refusals differ:\n B: %s\n Z: %s", existing, missing)
	}
}

// A launcher's stamp is the caller's identity: detection is not run, so
// no marker, declaration or process ancestor changes who is asking.
func TestStampedAgentReplacesDetection(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}, "agent": {"codex"}}}).Token
	procWithClaude := fakeClaudeTree(t)
	noisy := map[string]string{"CLAUDECODE": "1", "AI_AGENT": "gemini", "LLM_SECRETS_AGENT": "aider", "CURSOR_TRACE_ID": "x"}
	stamped := func(agent, token string) *Caller {
		c := caller(t, noisy, token)
		c.ProcRoot, c.PID, c.StampedAgent = procWithClaude, 100, agent
		return c
	}
	unstamped := stamped("", tok)
	unstamped.LookupEnv = func(string) (string, bool) { return "", false }
	if r, ok := unstamped.detectAgent(); !ok || !slices.Equal(r.Agents(), []string{"claude-code"}) {
		t.Fatalf("the fake tree: detectAgent = %+v, %v; want claude-code", r, ok)
	}
	if r, ok := stamped("codex", tok).detectAgent(); !ok || !slices.Equal(r.Agents(), []string{"codex"}) {
		t.Fatalf("stamped codex: detectAgent = %+v, %v", r, ok)
	}
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: stamped("codex", tok)}); err != nil {
		t.Errorf("stamped codex with an agent=codex token: %v", err)
	}
	for _, other := range []string{"claude", "Bad Name!"} {
		if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: stamped(other, tok)}); !errors.Is(err, ErrDenied) {
			t.Errorf("stamped %q with an agent=codex token: %v, want denied", other, err)
		}
	}
	// Without a token a stamped agent is an agent: refused, whatever its
	// environment says.
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: stamped("codex", "")}); !errors.Is(err, ErrDenied) {
		t.Errorf("stamped agent without a token: %v", err)
	}
}

// fakeClaudeTree is a /proc where pid 100 (llms) runs under pid 90, claude,
// with no environment marker needed.
func fakeClaudeTree(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "proc")
	for pid, stat := range map[string]string{"100": "100 (llms) S 90", "90": "90 (claude) S 1"} {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, pid, "stat"), []byte(stat+" 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// underClaude is a caller whose parent process is claude, with env.
func underClaude(t *testing.T, env map[string]string, token string) *Caller {
	c := caller(t, env, token)
	c.ProcRoot, c.PID = fakeClaudeTree(t), 100
	return c
}

// A claimed identity never overrides the proven one: under a claude
// process, AI_AGENT=human is still an agent, refused without a token even
// where a policy allows the human.
func TestDeclaredHumanUnderAnAgentIsRefused(t *testing.T) {
	b, _ := testBroker(t)
	exec := func(c *Caller) error {
		_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: c})
		return err
	}
	for _, env := range []map[string]string{{"AI_AGENT": "human"}, {"LLM_SECRETS_AGENT": "human"}, {"AI_AGENT": "none"}} {
		err := exec(underClaude(t, env, ""))
		if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "claude-code") {
			t.Errorf("%v under claude: %v; want refused naming claude-code", env, err)
		}
	}
	// Alone, a declaration of the human is an unknown agent: refused too.
	if err := exec(caller(t, map[string]string{"AI_AGENT": "human"}, "")); !errors.Is(err, ErrDenied) {
		t.Errorf("AI_AGENT=human alone: %v; want refused", err)
	}
	if err := exec(caller(t, nil, "")); err != nil {
		t.Errorf("the human: %v", err)
	}

	// With a token, the policy sees every agent: a rule for the human
	// does not let a claude process that declares itself human through.
	dir := t.TempDir()
	writePolicy(t, dir, "secrets:\n  A:\n    allow:\n      - agent: human\n")
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	for _, env := range []map[string]string{{"AI_AGENT": "human"}, {"LLM_SECRETS_AGENT": "human"}} {
		c := underClaude(t, env, tok)
		c.ConfigDirs = []string{dir}
		if err := exec(c); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "policy denies A") {
			t.Errorf("%v under claude, with a token and an {agent: human} policy: %v; want the policy to deny", env, err)
		}
	}
	human := caller(t, nil, "")
	human.ConfigDirs = []string{dir}
	if err := exec(human); err != nil {
		t.Errorf("the human under an {agent: human} policy: %v", err)
	}
}

// When signals disagree the caller is every agent found, and a token's
// agent caveat must allow each: a codex marker in a claude tree does not
// pass agent=codex.
func TestEveryAgentFoundMustBeAllowed(t *testing.T) {
	b, _ := testBroker(t)
	human := caller(t, nil, "")
	mint := func(agents ...string) string {
		return mustMint(t, b, human, Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}, "agent": agents}}).Token
	}
	exec := func(c *Caller) error {
		_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: c})
		return err
	}
	codexMarker := map[string]string{"CODEX_SANDBOX": "1"}
	if err := exec(underClaude(t, codexMarker, mint("codex"))); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), `agent "claude-code" is not allowed`) {
		t.Errorf("CODEX_SANDBOX=1 in a claude tree with agent=codex: %v; want refused for claude-code", err)
	}
	if err := exec(underClaude(t, map[string]string{"AI_AGENT": "codex"}, mint("codex"))); !errors.Is(err, ErrDenied) {
		t.Errorf("AI_AGENT=codex in a claude tree with agent=codex: %v; want refused", err)
	}
	if err := exec(underClaude(t, codexMarker, mint("claude"))); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), `agent "codex" is not allowed`) {
		t.Errorf("CODEX_SANDBOX=1 in a claude tree with agent=claude-code: %v; want refused for codex", err)
	}
	if err := exec(underClaude(t, codexMarker, mint("codex", "claude"))); err != nil {
		t.Errorf("a token allowing both: %v", err)
	}
	if err := exec(underClaude(t, nil, mint("claude"))); err != nil {
		t.Errorf("claude under claude with agent=claude (an alias): %v", err)
	}
}

// Mint takes agent ids and aliases, records ids, and refuses any other
// name, listing the known ones.
func TestMintAgentNames(t *testing.T) {
	b, _ := testBroker(t)
	human := caller(t, nil, "")
	info := mustMint(t, b, human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "agent": []string{"claude", "Claude-Code", "copilot"}}}).Info
	if !slices.Contains(info.Caveats, "agent=claude-code,github-copilot") {
		t.Errorf("caveats %q; want agent=claude-code,github-copilot", info.Caveats)
	}
	for _, bad := range []string{"human", "unknown", "my-bot", "claude code"} {
		_, err := b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "agent": []string{bad}}})
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "known agents: aider, amp") {
			t.Errorf("--agent %q: %v; want refused listing the known agents", bad, err)
		}
	}
}

// When the user database does not know the caller's uid, the user policy
// cannot be located: a detected agent is refused even with a valid token
// and no policy anywhere, and the human is let through with a warning.
func TestUnknownAccountRefusesAgents(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	lost := fakeUserDB(t, "", "")
	agent := caller(t, claude, tok)
	agent.UserDB = lost
	_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: agent})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "user policy cannot be located") {
		t.Errorf("agent with a token, account unknown: %v; want refused", err)
	}
	stamped := caller(t, nil, tok)
	stamped.UserDB, stamped.StampedAgent = lost, "claude-code"
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: stamped}); !errors.Is(err, ErrDenied) {
		t.Errorf("stamped agent, account unknown: %v; want refused", err)
	}
	human := caller(t, nil, "")
	human.UserDB = lost
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: human}); err != nil {
		t.Errorf("the human, account unknown: %v", err)
	}
	if w := human.Warnings(); len(w) != 1 || !strings.Contains(w[0], "every detected agent is refused") {
		t.Errorf("warnings %q", w)
	}
	// Known again: the agent's token works.
	agent = caller(t, claude, tok)
	if _, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: agent}); err != nil {
		t.Errorf("agent with a token, account known: %v", err)
	}
	if w := agent.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
}

// The user policy is the one in the home the user database gives — here
// through getent, for a uid /etc/passwd lacks — whatever the caller's
// environment says.
func TestUserPolicyFromTheUserDatabase(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: 5 * time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	home := t.TempDir()
	writePolicy(t, filepath.Join(home, ".config"), "secrets:\n  B:\n    allow:\n      - agent: '*'\n")
	getent := filepath.Join(t.TempDir(), "getent")
	must(t, os.WriteFile(getent, []byte(fmt.Sprintf("#!/bin/sh\necho 'ldapuser:*:%d:0::%s:/bin/sh'\n", os.Getuid(), home)), 0o755))
	db := fakeUserDB(t, "", "")
	db.Getent = []string{getent}
	agent := caller(t, map[string]string{"CLAUDECODE": "1", "HOME": t.TempDir(), "USER": "root"}, tok)
	agent.UserDB = db
	_, err := b.authorize(access{op: "exec", secrets: []string{"A"}, program: "/bin/true", caller: agent})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "policy denies A") {
		t.Errorf("agent under a user policy found through getent: %v; want the policy to deny", err)
	}
	if u := agent.User(); u != "ldapuser" {
		t.Errorf("user = %q, want the login name from getent", u)
	}
}

// CheckToken judges a copy of the caller: the one it is given still holds
// no token afterwards, so a front end can reuse it.
func TestCheckTokenLeavesTheCallerAlone(t *testing.T) {
	b, _ := testBroker(t)
	tok := mustMint(t, b, caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}}).Token
	c := caller(t, nil, "")
	if _, err := b.CheckToken(c, CheckTokenRequest{Token: tok, Op: "peek", Secrets: []string{"A"}}); err != nil {
		t.Fatal(err)
	}
	if c.Token != "" || c.TokenGiven {
		t.Errorf("CheckToken changed the caller: token given %v", c.TokenGiven)
	}
	if _, err := b.CheckToken(c, CheckTokenRequest{Token: tok, Op: "peek", Secrets: []string{"B"}}); !errors.Is(err, ErrDenied) {
		t.Errorf("a secret outside the token: %v", err)
	}
}
