package caveat

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// Two launch ids, launchA < launchB.
const (
	launchA = "0123456789abcdef0123456789abcdef"
	launchB = "fedcba9876543210fedcba9876543210"
)

// base is a request that every caveat in the tables below can judge.
func base() Context {
	return Context{
		Now:           now,
		Op:            OpExec,
		Secrets:       []string{"API_KEY"},
		Program:       "/usr/bin/terraform",
		SystemProgram: true,
		Repo:          "github.com/acme/api",
		Branch:        "feature/login",
		Who:           "alice@acme.com",
		Agents:        []string{"claude-code"},
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		caveat string
		edit   func(*Context)
		// wantErr is "" when the caveat must hold, else a substring of the
		// denial.
		wantErr string
	}{
		// secret
		{"secret=API_KEY", nil, ""},
		{"secret=API_KEY,DB_URL", func(c *Context) { c.Secrets = []string{"DB_URL", "API_KEY"} }, ""},
		{"secret=API_KEY", func(c *Context) { c.Secrets = []string{"API_KEY", "DB_URL"} }, `secret "DB_URL" is not allowed`},
		{"secret=API_KEY", func(c *Context) { c.Secrets = []string{"api_key"} }, "not allowed"},
		{"secret=API_KEY", func(c *Context) { c.Secrets = []string{"API_KEY,DB_URL"} }, "not allowed"},
		{"secret=API_KEY", func(c *Context) { c.Secrets = nil }, "names no secret"},
		{"secret=API_KEY", func(c *Context) { c.Secrets, c.Op = nil, OpPeek }, "names no secret"},
		{"secret=API_KEY", func(c *Context) { c.Secrets, c.Op = nil, OpList }, ""},
		{"secret=API_KEY", func(c *Context) { c.Op = OpList }, ""},
		{"secret=API_KEY", func(c *Context) { c.Op = OpList; c.Secrets = []string{"DB_URL"} }, "not allowed"},

		// expires_at: the boundary instant is already expired.
		{"expires_at=2030-06-01T12:00:01Z", nil, ""},
		{"expires_at=2030-06-01T12:00:00Z", nil, "token expired"},
		{"expires_at=2030-06-01T12:00:00Z", func(c *Context) { c.Now = now.Add(-time.Nanosecond) }, ""},
		{"expires_at=2030-06-01T11:59:59Z", nil, "token expired"},
		{"expires_at=2030-06-01T12:00:01Z", func(c *Context) { c.Now = now.In(time.FixedZone("X", -7*3600)) }, ""},

		// repo
		{"repo=github.com/acme/api", nil, ""},
		{"repo=github.com/acme/*", nil, ""},
		{"repo=github.com/acme/web,github.com/acme/api", nil, "out of order"},
		{"repo=github.com/acme/api,github.com/acme/web", func(c *Context) { c.Repo = "github.com/acme/web" }, ""},
		{"repo=github.com/acme/*", func(c *Context) { c.Repo = "github.com/evil/api" }, `repository "github.com/evil/api" is not allowed`},
		{"repo=github.com/acme/*", func(c *Context) { c.Repo = "gitlab.com/acme/group/api" }, "not allowed"},
		{"repo=github.com/acme/*", func(c *Context) { c.Repo = "github.com/acme/group/api" }, "not allowed"},
		{"repo=github.com/acme/**", func(c *Context) { c.Repo = "github.com/acme/group/api" }, ""},
		{"repo=github.com/acme/api", func(c *Context) { c.Repo = "github.com/acme/api-evil" }, "not allowed"},
		// owner/name (no host, as llm-secrets v3 wrote it) on any host,
		// as in policy files; a host pattern pins the host.
		{"repo=acme/api", nil, ""},
		{"repo=acme/api", func(c *Context) { c.Repo = "gitlab.example.com/acme/api" }, ""},
		{"repo=acme/*", nil, ""},
		{"repo=acme/api", func(c *Context) { c.Repo = "github.com/evil/api" }, "not allowed"},
		{"repo=acme/api", func(c *Context) { c.Repo = "github.com/acme/api/extra" }, "not allowed"},
		{"repo=github.com/acme/api", func(c *Context) { c.Repo = "gitlab.com/acme/api" }, "not allowed"},
		{"repo=github.com/acme/api", func(c *Context) { c.Repo = "github.com/acme/API" }, "not allowed"},
		{"repo=**", func(c *Context) { c.Repo = "" }, "not in a repository"},

		// branch
		{"branch=feature/login", nil, ""},
		{"branch=feature/*", nil, ""},
		{"branch=main", nil, `branch "feature/login" is not allowed`},
		{"branch=feature/*", func(c *Context) { c.Branch = "feature/a/b" }, "not allowed"},
		{"branch=feature/**", func(c *Context) { c.Branch = "feature/a/b" }, ""},
		{"branch=feature/*", func(c *Context) { c.Branch = "feature/" }, ""}, // '*' may match nothing, as in path.Match
		{"branch=feature/*", func(c *Context) { c.Branch = "feature" }, "not allowed"},
		{"branch=*", func(c *Context) { c.Branch = "" }, "not on a branch"},
		{"branch=**", func(c *Context) { c.Branch = "" }, "not on a branch"},

		// agent
		{"agent=claude", nil, ""},
		{"agent=claude,codex", func(c *Context) { c.Agents = []string{"codex"} }, ""},
		{"agent=claude-code", nil, ""},
		{"agent=codex", nil, `agent "claude-code" is not allowed`},
		{"agent=claude", func(c *Context) { c.Agents = []string{"Claude"} }, "not allowed"},
		{"agent=claude", func(c *Context) { c.Agents = nil }, "no agent was detected"},
		{"agent=my-bot", func(c *Context) { c.Agents = []string{"my-bot"} }, "not allowed"}, // no id answers to it
		// Every agent found must be allowed: a codex marker in a claude
		// tree does not pass agent=codex.
		{"agent=codex", func(c *Context) { c.Agents = []string{"codex", "claude-code"} }, `agent "claude-code" is not allowed`},
		{"agent=claude-code", func(c *Context) { c.Agents = []string{"codex", "claude-code"} }, `agent "codex" is not allowed`},
		{"agent=claude-code,codex", func(c *Context) { c.Agents = []string{"codex", "claude-code"} }, ""},
		{"agent=claude-code", func(c *Context) { c.Agents = []string{"claude-code", "unknown"} }, `agent "unknown" is not allowed`},

		// who
		{"who=alice@acme.com", nil, ""},
		{"who=*@acme.com", nil, ""},
		{"who=*@acme.com", func(c *Context) { c.Who = "Alice@ACME.com" }, ""},
		{"who=*@acme.com", func(c *Context) { c.Who = "alice@acme.com.evil.org" }, "not allowed"},
		{"who=kate@acme.com", func(c *Context) { c.Who = "\u212Aate@acme.com" }, "not allowed"}, // Kelvin sign, not K
		{"who=*@acme.com", func(c *Context) { c.Who = "" }, "email is unknown"},

		// cmd
		{"cmd=terraform", nil, ""},
		{"cmd=/usr/bin/terraform", nil, ""},
		{"cmd=/usr/local/bin/terraform", nil, `program "/usr/bin/terraform" is not allowed`},
		{"cmd=make,terraform", nil, ""},
		{"cmd=make", nil, "not allowed"},
		// A pin by name means the program of that name in the system
		// directories, not one the caller's PATH or a path found.
		{"cmd=terraform", func(c *Context) { c.Program, c.SystemProgram = "/tmp/evil/terraform", false }, "not allowed"},
		{"cmd=terraform", func(c *Context) { c.SystemProgram = false }, "not allowed"},
		{"cmd=/usr/bin/terraform", func(c *Context) { c.SystemProgram = false }, ""},
		{"cmd=/usr/bin/terraform", func(c *Context) { c.Program = "/tmp/evil/terraform" }, "not allowed"},
		{"cmd=terraform", func(c *Context) { c.Program = "terraform" }, "not absolute"},
		{"cmd=terraform", func(c *Context) { c.Program = "" }, "starts no program"},
		{"cmd=terraform", func(c *Context) { c.Program, c.Op = "", OpPeek }, "starts no program"},

		// launch: only the broker of that launch sets Context.Launch.
		{"launch=" + launchA, func(c *Context) { c.Launch = launchA }, ""},
		{"launch=" + launchA + "," + launchB, func(c *Context) { c.Launch = launchB }, ""},
		{"launch=" + launchA, nil, "honoured only by the broker of the `llms agent` that minted it, while that launcher runs; this request does not come through it"},
		{"launch=" + launchA, func(c *Context) { c.Launch = launchB }, "this request comes through another launcher's broker"},
		{"launch=" + launchA, func(c *Context) { c.Launch = strings.ToUpper(launchA) }, "another launcher's broker"},
		{"launch=" + launchA, func(c *Context) { c.Launch = launchA[:31] }, "another launcher's broker"},
		{"launch=" + launchA, func(c *Context) { c.Launch, c.Op = launchA, OpList }, ""},

		// op
		{"op=exec", nil, ""},
		{"op=exec,peek", func(c *Context) { c.Op = OpPeek }, ""},
		{"op=peek", nil, `operation "exec" is not allowed`},
		{"op=list", func(c *Context) { c.Op = OpPeek }, "not allowed"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.caveat))
		if err != nil {
			if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q): %v", tt.caveat, err)
			}
			continue
		}
		ctx := base()
		if tt.edit != nil {
			tt.edit(&ctx)
		}
		err = c.Check(ctx)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q with %+v: %v, want it to hold", tt.caveat, ctx, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("%q with %+v: holds, want denial %q", tt.caveat, ctx, tt.wantErr)
		case err != nil && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("%q: error %q, want it to contain %q", tt.caveat, err, tt.wantErr)
		case err != nil && !strings.Contains(err.Error(), tt.caveat):
			t.Errorf("%q: error %q does not name the caveat", tt.caveat, err)
		}
		// A set of one caveat judges exactly as the caveat does.
		if setErr := (Set{c}).Check(ctx); (setErr == nil) != (err == nil) {
			t.Errorf("%q: Set.Check = %v, Caveat.Check = %v", tt.caveat, setErr, err)
		}
	}
}

func TestCheckRefusesBadContext(t *testing.T) {
	caveats := []Set{nil, {{NameOp, "exec"}}, {{NameSecret, "API_KEY"}}}
	bad := []struct {
		edit    func(*Context)
		wantErr string
	}{
		{func(c *Context) { c.Now = time.Time{} }, "no time"},
		{func(c *Context) { c.Op = "" }, "unknown operation"},
		{func(c *Context) { c.Op = "get" }, "unknown operation"},
		{func(c *Context) { c.Op = "EXEC" }, "unknown operation"},
	}
	for _, s := range caveats {
		for _, tt := range bad {
			ctx := base()
			tt.edit(&ctx)
			if err := s.Check(ctx); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v with %+v: %v, want error containing %q", s, ctx, err, tt.wantErr)
			}
			for _, c := range s {
				if err := c.Check(ctx); err == nil {
					t.Errorf("Caveat.Check %+v accepted %+v", c, ctx)
				}
			}
		}
	}
}

// Caveat's fields are exported, so Check must not trust a hand-built one.
func TestCheckRevalidatesHandBuiltCaveats(t *testing.T) {
	for _, c := range []Caveat{
		{"secret", "API_KEY,API_KEY"},
		{"secret", ""},
		{"colour", "blue"},
		{"op", "exec,get"},
		{"expires_at", "2099-01-01"},
		{"repo", "github.com/acme/api\n"},
		{"who", "ALICE@acme.com"},
		{"secret=API_KEY", ""},
		{"", ""},
	} {
		if err := c.Check(base()); err == nil {
			t.Errorf("Check accepted hand-built %+v", c)
		}
		if err := (Set{c}).Check(base()); err == nil {
			t.Errorf("Set.Check accepted hand-built %+v", c)
		}
	}
}

func TestSetCheckIsIntersection(t *testing.T) {
	s, err := ParseAll([][]byte{
		[]byte("secret=API_KEY,DB_URL"),
		[]byte("secret=API_KEY,TOKEN"),
		[]byte("op=exec,peek"),
		[]byte("op=exec,list"),
		[]byte("expires_at=2031-01-01T00:00:00Z"),
		[]byte("expires_at=2030-07-01T00:00:00Z"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(base()); err != nil {
		t.Errorf("API_KEY exec: %v", err)
	}
	deny := []struct {
		edit    func(*Context)
		wantErr string
	}{
		{func(c *Context) { c.Secrets = []string{"DB_URL"} }, "secret=API_KEY,TOKEN"},
		{func(c *Context) { c.Secrets = []string{"TOKEN"} }, "secret=API_KEY,DB_URL"},
		{func(c *Context) { c.Op = OpPeek }, "op=exec,list"},
		{func(c *Context) { c.Now = time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC) }, "expires_at=2030-07-01T00:00:00Z"},
	}
	for _, tt := range deny {
		ctx := base()
		tt.edit(&ctx)
		if err := s.Check(ctx); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: %v, want denial by %s", ctx, err, tt.wantErr)
		}
	}
	if err := (Set{}).Check(base()); err != nil {
		t.Errorf("empty set: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	if _, ok := (Set{{NameOp, "exec"}}).Expiry(); ok {
		t.Error("Expiry reported a time for a set without expires_at")
	}
	s := Set{
		{NameExpiresAt, "2031-01-01T00:00:00Z"},
		{NameOp, "exec"},
		{NameExpiresAt, "2030-07-01T00:00:00Z"},
		{NameExpiresAt, "2032-01-01T00:00:00Z"},
	}
	got, ok := s.Expiry()
	if want := time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("Expiry = %v, %v; want %v", got, ok, want)
	}
	// A malformed expiry must not be ignored: it counts as long past.
	got, ok = append(s, Caveat{NameExpiresAt, "soon"}).Expiry()
	if !ok || !got.Before(now) {
		t.Errorf("Expiry with a malformed expires_at = %v, %v; want a past time", got, ok)
	}
}

func TestAllowedSecrets(t *testing.T) {
	tests := []struct {
		set     Set
		want    []string
		wantAll bool
	}{
		{nil, nil, true},
		{Set{{NameOp, "list"}}, nil, true},
		{Set{{NameSecret, "A,B,C"}}, []string{"A", "B", "C"}, false},
		{Set{{NameSecret, "A,B,C"}, {NameOp, "list"}, {NameSecret, "B,C,D"}}, []string{"B", "C"}, false},
		{Set{{NameSecret, "A"}, {NameSecret, "B"}}, nil, false},
		{Set{{NameSecret, "A,B"}, {NameSecret, "B,A"}}, nil, false},
		{Set{{NameSecret, "A,,B"}}, nil, false},
	}
	for _, tt := range tests {
		got, all := tt.set.AllowedSecrets()
		if all != tt.wantAll || !slices.Equal(got, tt.want) {
			t.Errorf("%+v: AllowedSecrets = %q, %v; want %q, %v", tt.set, got, all, tt.want, tt.wantAll)
		}
	}
	// The result must not alias the caveat list: the broker may filter it.
	s := Set{{NameSecret, "A,B"}}
	got, _ := s.AllowedSecrets()
	got[0] = "Z"
	if again, _ := s.AllowedSecrets(); again[0] != "A" {
		t.Error("AllowedSecrets returned a slice aliasing the set")
	}
}

func TestErrorsCarryNoContextSecretsBeyondNames(t *testing.T) {
	// Check sees names only; make sure a denial quotes the name it was
	// given and nothing else from the context.
	ctx := base()
	ctx.Secrets = []string{"API_KEY", "OTHER"}
	ctx.Who = "private-person@example.org"
	err := (Set{{NameSecret, "API_KEY"}}).Check(ctx)
	if err == nil {
		t.Fatal("holds")
	}
	if strings.Contains(err.Error(), ctx.Who) || strings.Contains(err.Error(), ctx.Program) {
		t.Errorf("denial %q leaks unrelated context", err)
	}
}

func TestItemsIntersects(t *testing.T) {
	s := Set{{NameKeepEnv, "A,B,C"}, {NameOp, "exec"}, {NameKeepEnv, "B,C,D"}}
	if got, found := s.Items(NameKeepEnv); !found || strings.Join(got, ",") != "B,C" {
		t.Errorf("Items = %v, %v; want B,C", got, found)
	}
	if got, found := (Set{{NameOp, "exec"}}).Items(NameKeepEnv); found || got != nil {
		t.Errorf("Items without the caveat = %v, %v", got, found)
	}
	if got, found := (Set{{NameKeepEnv, "B,A"}}).Items(NameKeepEnv); !found || len(got) != 0 {
		t.Errorf("an invalid caveat lists %v", got)
	}
	// keep_env is not about the request: it always holds.
	if err := (Set{{NameKeepEnv, "PGHOST"}}).Check(base()); err != nil {
		t.Errorf("keep_env did not hold: %v", err)
	}
}
