package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writePolicy writes content to a fresh file and returns its absolute path.
func writePolicy(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t testing.TB, paths ...string) *Set {
	t.Helper()
	s, err := Load(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustLoadText(t testing.TB, text string) *Set {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustLoad(t, path)
}

func absTestdata(t testing.TB, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata matching %s: %v", pattern, err)
	}
	for i, p := range paths {
		if paths[i], err = filepath.Abs(p); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

var wantComment = regexp.MustCompile(`^# want: (\d+): (.+)\n`)

// Each file in testdata/bad starts with "# want: LINE: TEXT": Load must fail
// with an error at that line containing TEXT.
func TestLoadRejects(t *testing.T) {
	for _, p := range absTestdata(t, "bad/*.yaml") {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			m := wantComment.FindSubmatch(data)
			if m == nil {
				t.Fatal("no # want: comment")
			}
			s, err := Load(p)
			if err == nil {
				t.Fatalf("accepted; Decide = %+v", s.Decide("DB", Subject{}))
			}
			if s != nil {
				t.Fatalf("Load returned a Set with an error")
			}
			prefix := fmt.Sprintf("policy: %s:%s: ", p, m[1])
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), string(m[2])) {
				t.Fatalf("error %q\nwant prefix %q and %q", err, prefix, m[2])
			}
		})
	}
}

func TestLoadAcceptsGood(t *testing.T) {
	for _, p := range absTestdata(t, "good/*.yaml") {
		if s := mustLoad(t, p); s.Empty() {
			t.Fatalf("%s: loaded as empty", p)
		}
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")

	s := mustLoad(t)
	if !s.Empty() || !s.Decide("DB", Subject{}).Allowed {
		t.Fatal("no paths: want an empty Set that allows")
	}
	s = mustLoad(t, missing, filepath.Join(dir, "also-missing.yaml"))
	if d := s.Decide("DB", Subject{}); !s.Empty() || !d.Allowed || d.Reason != "no policy file" {
		t.Fatalf("all files missing: Empty=%v, %+v", s.Empty(), d)
	}
	lockdown := writePolicy(t, "secrets: {}\n")
	s = mustLoad(t, missing, lockdown)
	if s.Empty() || s.Decide("DB", Subject{}).Allowed {
		t.Fatal("a present file must be in force")
	}

	for _, bad := range []string{"relative.yaml", "", "./x.yaml"} {
		if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "not absolute") {
			t.Errorf("Load(%q): %v", bad, err)
		}
	}
	if _, err := Load(dir); err == nil {
		t.Error("a directory loaded as a policy")
	}
	big := writePolicy(t, "secrets: {}\n"+strings.Repeat("#", maxFileSize))
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
	// One bad file poisons the whole load, even after a good one.
	bad := writePolicy(t, "secrets:\n  DB:\n    allow: [{}]\n")
	if s, err := Load(lockdown, bad); err == nil || s != nil {
		t.Fatal("a bad file after a good one was ignored")
	}
}

func TestNilSetDenies(t *testing.T) {
	var s *Set
	if s.Empty() {
		t.Fatal("nil Set reports Empty, which callers read as allow-all")
	}
	if d := s.Decide("DB", Subject{}); d.Allowed {
		t.Fatalf("nil Set allowed: %+v", d)
	}
}

// full is a subject every field of which is known.
var full = Subject{
	Repo:   "github.com/acme/api",
	Branch: "main",
	User:   "dev",
	Email:  "dev@acme.com",
	Agents: []string{"claude-code"},
	Cmd:    "/usr/bin/psql",
	// psql is the one the system directories hold.
	SystemProgram: true,
}

func with(change func(*Subject)) Subject {
	s := full
	change(&s)
	return s
}

type decideCase struct {
	name   string
	policy string
	key    string // default "DB"
	subj   Subject
	allow  bool
	ttl    time.Duration
	line   int // Source line, 0 to skip the check
}

func runDecideCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writePolicy(t, tc.policy)
			key := tc.key
			if key == "" {
				key = "DB"
			}
			d := mustLoad(t, p).Decide(key, tc.subj)
			if d.Allowed != tc.allow || d.MaxTTL != tc.ttl {
				t.Fatalf("Decide = %+v, want allowed=%v ttl=%v", d, tc.allow, tc.ttl)
			}
			if tc.line != 0 && d.Source != fmt.Sprintf("%s:%d", p, tc.line) {
				t.Fatalf("Source %q, want line %d", d.Source, tc.line)
			}
			if d.Reason == "" && !d.Allowed {
				t.Fatal("a denial without a reason")
			}
		})
	}
}

func TestDecideFields(t *testing.T) {
	one := func(field, value string) string {
		return "secrets:\n  DB:\n    allow:\n      - " + field + ": " + value + "\n"
	}
	runDecideCases(t, []decideCase{
		// String and list forms.
		{name: "repo string", policy: one("repo", "github.com/acme/api"), subj: full, allow: true, line: 4},
		{name: "repo string other", policy: one("repo", "github.com/acme/web"), subj: full},
		{name: "repo list", policy: one("repo", "[github.com/acme/web, github.com/acme/api]"), subj: full, allow: true},
		{name: "repo block list", policy: "secrets:\n  DB:\n    allow:\n      - repo:\n          - github.com/acme/web\n          - github.com/acme/api\n", subj: full, allow: true},
		{name: "repo list none", policy: one("repo", "[github.com/acme/web, github.com/other/api]"), subj: full},

		// repo: globs, and case-insensitive.
		{name: "repo glob", policy: one("repo", "github.com/acme/*"), subj: full, allow: true},
		{name: "repo glob subgroup", policy: one("repo", "gitlab.com/acme/*"), subj: with(func(s *Subject) { s.Repo = "gitlab.com/acme/team/api" }), allow: true},
		{name: "repo glob other org", policy: one("repo", "github.com/acme/*"), subj: with(func(s *Subject) { s.Repo = "github.com/acme-evil/api" })},
		{name: "repo case", policy: one("repo", "github.com/Acme/API"), subj: with(func(s *Subject) { s.Repo = "github.com/ACME/api" }), allow: true},
		{name: "repo unknown", policy: one("repo", `"*"`), subj: with(func(s *Subject) { s.Repo = "" })},
		// repo without a host (owner/name): that owner/name on any host.
		{name: "repo owner/name", policy: one("repo", "acme/api"), subj: full, allow: true},
		{name: "repo owner/name other host", policy: one("repo", "acme/api"), subj: with(func(s *Subject) { s.Repo = "gitlab.example.com/acme/api" }), allow: true},
		{name: "repo owner/name case", policy: one("repo", "Acme/API"), subj: full, allow: true},
		{name: "repo owner/name other repo", policy: one("repo", "acme/api"), subj: with(func(s *Subject) { s.Repo = "github.com/acme/api-x" })},
		{name: "repo owner/name deeper path", policy: one("repo", "acme/api"), subj: with(func(s *Subject) { s.Repo = "github.com/evil/acme/api" })},
		{name: "repo owner/* any host", policy: one("repo", `"acme/*"`), subj: with(func(s *Subject) { s.Repo = "gitlab.com/acme/web" }), allow: true},
		{name: "repo owner/name unknown", policy: one("repo", "acme/api"), subj: with(func(s *Subject) { s.Repo = "" })},
		// host/owner/name: that host only.
		{name: "repo with host, other host", policy: one("repo", "github.com/acme/api"), subj: with(func(s *Subject) { s.Repo = "gitlab.com/acme/api" })},
		{name: "repo with host is not a path", policy: one("repo", "github.com/acme/api"), subj: with(func(s *Subject) { s.Repo = "mirror.example/github.com/acme/api" })},
		{name: "repo dotless host", policy: one("repo", "gitserver/acme/api"), subj: with(func(s *Subject) { s.Repo = "gitserver/acme/api" }), allow: true},

		// branch: globs cross '/', case matters.
		{name: "branch exact", policy: one("branch", "main"), subj: full, allow: true},
		{name: "branch case", policy: one("branch", "Main"), subj: full},
		{name: "branch glob", policy: one("branch", `"release/*"`), subj: with(func(s *Subject) { s.Branch = "release/1.0" }), allow: true},
		{name: "branch glob deep", policy: one("branch", `"release/*"`), subj: with(func(s *Subject) { s.Branch = "release/1.0/hotfix" }), allow: true},
		{name: "branch glob prefix only", policy: one("branch", `"release/*"`), subj: with(func(s *Subject) { s.Branch = "release" })},
		{name: "branch question", policy: one("branch", `"v?"`), subj: with(func(s *Subject) { s.Branch = "v2" }), allow: true},
		{name: "branch class", policy: one("branch", `"v[0-9]"`), subj: with(func(s *Subject) { s.Branch = "vx" })},
		{name: "branch star any", policy: one("branch", `"*"`), subj: with(func(s *Subject) { s.Branch = "feature/a/b" }), allow: true},

		// user: glob, case-insensitive.
		{name: "user domain", policy: one("user", `"*@acme.com"`), subj: full, allow: true},
		{name: "user domain case", policy: one("user", `"*@acme.com"`), subj: with(func(s *Subject) { s.Email = "Dev@ACME.com" }), allow: true},
		{name: "user pattern case", policy: one("user", `"*@ACME.com"`), subj: full, allow: true},
		{name: "user suffix trick", policy: one("user", `"*@acme.com"`), subj: with(func(s *Subject) { s.Email = "dev@acme.com.evil.example" })},
		{name: "user email unknown", policy: one("user", `"*@*"`), subj: with(func(s *Subject) { s.Email = "" })},
		// user without '@': the login name of the caller's uid.
		{name: "user login", policy: one("user", "dev"), subj: full, allow: true},
		{name: "user login case", policy: one("user", "DEV"), subj: full, allow: true},
		{name: "user login other", policy: one("user", "root"), subj: full},
		{name: "user login glob", policy: one("user", `"d*"`), subj: full, allow: true},
		{name: "user login is not the email", policy: one("user", "dev"), subj: with(func(s *Subject) { s.User = ""; s.Email = "dev" })},
		{name: "user login unknown", policy: one("user", `"*"`), subj: with(func(s *Subject) { s.User = "" })},
		{name: "user login or email", policy: one("user", `[root, "*@acme.com"]`), subj: with(func(s *Subject) { s.User = "" }), allow: true},

		// agent: ids and aliases, ASCII case ignored; globs over the ids.
		{name: "agent list", policy: one("agent", "[cursor, claude-code]"), subj: full, allow: true},
		{name: "agent other", policy: one("agent", "[cursor]"), subj: full},
		{name: "agent case", policy: one("agent", "Claude-Code"), subj: full, allow: true},
		{name: "agent alias", policy: one("agent", "claude"), subj: full, allow: true},
		{name: "agent alias copilot", policy: one("agent", "copilot"), subj: with(func(s *Subject) { s.Agents = []string{"github-copilot"} }), allow: true},
		{name: "agent glob", policy: one("agent", `"c*"`), subj: full, allow: true},
		{name: "agent human", policy: one("agent", "human"), subj: with(func(s *Subject) { s.Agents = []string{Human} }), allow: true},
		{name: "agent human is not an agent", policy: one("agent", "human"), subj: full},
		// Several agents found: each must be allowed.
		{name: "agents all allowed", policy: one("agent", "[claude-code, codex]"), subj: with(func(s *Subject) { s.Agents = []string{"codex", "claude-code"} }), allow: true},
		{name: "agents one not allowed", policy: one("agent", "codex"), subj: with(func(s *Subject) { s.Agents = []string{"codex", "claude-code"} })},
		{name: "agents human among them", policy: one("agent", "human"), subj: with(func(s *Subject) { s.Agents = []string{Human, "claude-code"} })},
		{name: "agent unknown", policy: one("agent", "claude-code"), subj: with(func(s *Subject) { s.Agents = nil })},

		// cmd: base name or absolute path.
		{name: "cmd base name", policy: one("cmd", "psql"), subj: full, allow: true},
		{name: "cmd base name elsewhere", policy: one("cmd", "psql"), subj: with(func(s *Subject) { s.Cmd, s.SystemProgram = "/opt/pg/bin/psql", false })},
		{name: "cmd base name not the system's", policy: one("cmd", "psql"), subj: with(func(s *Subject) { s.SystemProgram = false })},
		{name: "cmd base glob", policy: one("cmd", `"pg_*"`), subj: with(func(s *Subject) { s.Cmd = "/usr/bin/pg_dump" }), allow: true},
		{name: "cmd path", policy: one("cmd", "/usr/bin/psql"), subj: full, allow: true},
		{name: "cmd path elsewhere", policy: one("cmd", "/usr/bin/psql"), subj: with(func(s *Subject) { s.Cmd = "/tmp/psql" })},
		{name: "cmd path glob", policy: one("cmd", `"/usr/bin/*"`), subj: full, allow: true},
		{name: "cmd base name is not a suffix", policy: one("cmd", "sql"), subj: full},
		{name: "cmd relative subject", policy: one("cmd", "psql"), subj: with(func(s *Subject) { s.Cmd = "psql" })},
		{name: "cmd unclean subject", policy: one("cmd", "/usr/bin/psql"), subj: with(func(s *Subject) { s.Cmd = "/usr/bin/../bin/psql" })},
		{name: "cmd unknown", policy: one("cmd", "psql"), subj: with(func(s *Subject) { s.Cmd = "" })},
		// A deny by name holds for every program of that name.
		{name: "cmd deny by name elsewhere", policy: "secrets:\n  DB:\n    allow:\n      - agent: claude-code\n    deny:\n      - cmd: psql\n",
			subj: with(func(s *Subject) { s.Cmd, s.SystemProgram = "/tmp/evil/psql", false })},

		// NUL is reserved by the matcher: such a value is unknown.
		{name: "NUL in value", policy: one("branch", `"*"`), subj: with(func(s *Subject) { s.Branch = "a\x00b" })},
	})
}

func TestDecideRules(t *testing.T) {
	runDecideCases(t, []decideCase{
		{name: "every field must match", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
        branch: main
        user: "*@acme.com"
        agent: claude-code
        cmd: psql
`, subj: full, allow: true, line: 4},
		{name: "one field differs", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
        branch: main
        agent: cursor
`, subj: full},
		{name: "any rule may allow", policy: `secrets:
  DB:
    allow:
      - agent: cursor
      - branch: main
`, subj: full, allow: true, line: 5},
		{name: "unlisted key", policy: "secrets:\n  OTHER:\n    allow:\n      - agent: claude-code\n", subj: full},
		{name: "key is case-sensitive", policy: "secrets:\n  db:\n    allow:\n      - agent: claude-code\n", subj: full},
		{name: "explicit empty allow", policy: "secrets:\n  DB:\n    allow: []\n", subj: full, line: 2},
		{name: "deny only", policy: "secrets:\n  DB:\n    deny:\n      - agent: cursor\n", subj: full, line: 2},
		{name: "deny wins", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
    deny:
      - branch: main
`, subj: full, line: 6},
		{name: "deny wins when listed first", policy: `secrets:
  DB:
    deny:
      - user: "*@acme.com"
    allow:
      - agent: claude-code
`, subj: full, line: 4},
		{name: "deny not matching", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
    deny:
      - branch: main
        agent: cursor
`, subj: full, allow: true, line: 4},
		{name: "max_ttl only rule", policy: "secrets:\n  DB:\n    allow:\n      - max_ttl: 90s\n", subj: Subject{}, allow: true, ttl: 90 * time.Second},
		{name: "smallest max_ttl", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
        max_ttl: 1h
      - branch: main
        max_ttl: 5m
      - agent: claude-code
        max_ttl: 15m
      - agent: cursor
        max_ttl: 1m
`, subj: full, allow: true, ttl: 5 * time.Minute, line: 6},
		{name: "no max_ttl does not raise it", policy: `secrets:
  DB:
    allow:
      - repo: github.com/acme/api
      - branch: main
        max_ttl: 10m
`, subj: full, allow: true, ttl: 10 * time.Minute, line: 5},
		{name: "no max_ttl", policy: "secrets:\n  DB:\n    allow:\n      - branch: main\n", subj: full, allow: true},
	})
}

// A deny rule that matches everything is refused only when it makes allow
// rules dead: alone, it says "deny this secret", which is clear.
func TestDenyEverythingWithoutAllows(t *testing.T) {
	s := mustLoadText(t, "secrets:\n  DB:\n    deny:\n      - branch: \"*\"\n")
	if d := s.Decide("DB", full); d.Allowed {
		t.Fatalf("allowed: %+v", d)
	}
	// A deny that only looks wide (one field of two is '*') is kept.
	s = mustLoadText(t, "secrets:\n  DB:\n    allow:\n      - branch: \"*\"\n    deny:\n      - branch: \"*\"\n        agent: cursor\n")
	if d := s.Decide("DB", full); !d.Allowed {
		t.Fatalf("denied: %+v", d)
	}
}

func TestEveryFieldExample(t *testing.T) {
	s := mustLoad(t, absTestdata(t, "good/every-field.yaml")...)
	subj := Subject{Repo: "github.com/acme/api", Branch: "release/2.1", Email: "ann@acme.com", Agents: []string{"cursor"}, Cmd: "/usr/bin/pg_dump"}
	if d := s.Decide("DB_PASSWORD", subj); !d.Allowed || d.MaxTTL != 15*time.Minute {
		t.Fatalf("every-field example: %+v", d)
	}
	subj.Cmd = "/usr/local/bin/pg_dump" // pg_dump is allowed only at /usr/bin
	if d := s.Decide("DB_PASSWORD", subj); d.Allowed {
		t.Fatalf("pg_dump outside /usr/bin allowed: %+v", d)
	}
}

// A detached HEAD has no branch: it fails allow rules that name a branch,
// satisfies deny rules that name one, and is irrelevant to rules that do not.
func TestDetachedHEAD(t *testing.T) {
	detached := with(func(s *Subject) { s.Branch = "" })
	runDecideCases(t, []decideCase{
		{name: "allow on branch", policy: "secrets:\n  DB:\n    allow:\n      - branch: main\n", subj: detached, line: 2},
		{name: "allow on star", policy: "secrets:\n  DB:\n    allow:\n      - branch: \"*\"\n", subj: detached},
		{name: "deny on branch", policy: "secrets:\n  DB:\n    allow:\n      - repo: github.com/acme/api\n    deny:\n      - branch: release\n", subj: detached, line: 6},
		{name: "deny on branch and other field", policy: "secrets:\n  DB:\n    allow:\n      - repo: github.com/acme/api\n    deny:\n      - branch: release\n        agent: cursor\n", subj: detached, allow: true},
		{name: "no branch field", policy: "secrets:\n  DB:\n    allow:\n      - repo: github.com/acme/api\n", subj: detached, allow: true},
	})
	p := writePolicy(t, "secrets:\n  DB:\n    allow:\n      - branch: main\n")
	if d := mustLoad(t, p).Decide("DB", detached); !strings.Contains(d.Reason, "unknown: branch") {
		t.Fatalf("reason %q does not name the unknown branch", d.Reason)
	}
}

// A deny rule on cmd also denies operations that run no command.
func TestDenyCmdWithoutCommand(t *testing.T) {
	p := writePolicy(t, "secrets:\n  DB:\n    allow:\n      - agent: claude-code\n    deny:\n      - cmd: curl\n")
	s := mustLoad(t, p)
	if d := s.Decide("DB", with(func(s *Subject) { s.Cmd = "" })); d.Allowed {
		t.Fatalf("peek (no command) passed a deny on cmd: %+v", d)
	}
	if d := s.Decide("DB", full); !d.Allowed {
		t.Fatalf("psql denied by a deny on curl: %+v", d)
	}
}

func TestBothFilesMustAllow(t *testing.T) {
	user := writePolicy(t, `secrets:
  DB:
    allow:
      - user: "*@acme.com"
        max_ttl: 1h
  API_KEY:
    allow:
      - agent: claude-code
`)
	repo := writePolicy(t, `secrets:
  DB:
    allow:
      - branch: main
        max_ttl: 10m
  STRIPE:
    allow:
      - branch: main
`)
	s := mustLoad(t, user, repo)

	d := s.Decide("DB", full)
	if !d.Allowed || d.MaxTTL != 10*time.Minute || d.Source != user+":4, "+repo+":4" {
		t.Fatalf("both allow: %+v", d)
	}
	// The repository file narrows.
	if d := s.Decide("DB", with(func(s *Subject) { s.Branch = "dev" })); d.Allowed || d.Source != repo+":2" {
		t.Fatalf("repository file denies: %+v", d)
	}
	// ... and cannot widen: STRIPE is not in the user file.
	if d := s.Decide("STRIPE", full); d.Allowed || d.Source != user {
		t.Fatalf("key only in the repository file: %+v", d)
	}
	// A key only in the user file is denied by the repository file.
	if d := s.Decide("API_KEY", full); d.Allowed || d.Source != repo {
		t.Fatalf("key only in the user file: %+v", d)
	}
	// Order of files does not change the outcome.
	if d := mustLoad(t, repo, user).Decide("DB", full); !d.Allowed || d.MaxTTL != 10*time.Minute {
		t.Fatalf("reversed order: %+v", d)
	}
}

func TestDecideDeterministicAcrossLoads(t *testing.T) {
	paths := absTestdata(t, "good/*.yaml")
	subjects := fuzzSubjects()
	for _, p := range paths {
		a, b := mustLoad(t, p), mustLoad(t, p)
		for _, key := range []string{"DB_PASSWORD", "STRIPE_KEY", "EMPTY_DENY", "0LEGACY.token-v2", "MISSING"} {
			for _, subj := range subjects {
				if da, db := a.Decide(key, subj), b.Decide(key, subj); da != db {
					t.Fatalf("%s %s %+v: %+v then %+v", p, key, subj, da, db)
				}
			}
		}
	}
}

func fuzzSubjects() []Subject {
	return []Subject{
		{},
		full,
		with(func(s *Subject) { s.Branch = "" }),
		with(func(s *Subject) { s.Branch = "release/1.0"; s.Agents = []string{"cursor"}; s.Cmd = "/usr/bin/pg_dump" }),
		{Repo: "github.com/acme/web-app", Branch: "wip/x", Email: "a@contractor.example", Agents: []string{"claude-code"}, Cmd: "/usr/local/bin/stripe"},
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	subjects := fuzzSubjects()
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy: fuzz.yaml:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		again, err := parse("fuzz.yaml", data)
		if err != nil {
			t.Fatalf("accepted once, rejected next: %v", err)
		}
		one, same := &Set{files: []*file{pf}}, &Set{files: []*file{again}}
		twice := &Set{files: []*file{pf, again}}
		keys := []string{"DB", "DB_PASSWORD", "STRIPE_KEY"}
		for k := range pf.secrets {
			keys = append(keys, k)
		}
		for _, key := range keys {
			for _, subj := range subjects {
				d := one.Decide(key, subj)
				if d2 := same.Decide(key, subj); d != d2 {
					t.Fatalf("%s %+v: %+v then %+v", key, subj, d, d2)
				}
				// A file intersected with itself decides the same.
				if d2 := twice.Decide(key, subj); d.Allowed != d2.Allowed || d.MaxTTL != d2.MaxTTL {
					t.Fatalf("%s %+v: alone %+v, twice %+v", key, subj, d, d2)
				}
				if d.MaxTTL < 0 || (!d.Allowed && d.MaxTTL != 0) || d.Source == "" {
					t.Fatalf("%s %+v: %+v", key, subj, d)
				}
			}
		}
	})
}

func TestMintBound(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.yaml")
	repo := filepath.Join(dir, "repo.yaml")
	must(t, os.WriteFile(user, []byte("secrets:\n  K:\n    allow:\n      - branch: main\n        max_ttl: 30m\n      - branch: dev\n"), 0o600))
	must(t, os.WriteFile(repo, []byte("secrets:\n  K:\n    allow:\n      - agent: claude\n        max_ttl: 10m\n  L:\n    allow:\n      - branch: main\n"), 0o600))
	s, err := Load(user, repo)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MintBound("K"); got != 10*time.Minute {
		t.Errorf("MintBound(K) = %s, want 10m (smallest over both files)", got)
	}
	if got := s.MintBound("L"); got != 0 {
		t.Errorf("MintBound(L) = %s, want 0", got)
	}
}

// TestLoadRefusesAFIFO: a FIFO planted at a policy path must neither hang
// the loader nor be read as "no policy".
func TestLoadRefusesAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("Load(FIFO) = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
}

// TestCaseFoldIsASCII: a Kelvin sign (U+212A) is not a "k".
func TestCaseFoldIsASCII(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	must(t, os.WriteFile(p, []byte("secrets:\n  K:\n    allow:\n      - user: kim@acme.com\n"), 0o600))
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Decide("K", Subject{Email: "\u212Aim@acme.com"}); d.Allowed {
		t.Fatal("a Kelvin sign matched k")
	}
	if d := s.Decide("K", Subject{Email: "KIM@ACME.COM"}); !d.Allowed {
		t.Fatalf("ASCII case should fold: %s", d.Reason)
	}
}

// A deny rule for any one of the agents found denies: the caller is every
// agent found, so a claude-code marker beside codex does not dodge a rule
// against codex. max_ttl is the smallest over the agents.
func TestSeveralAgentsEachDecide(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	must(t, os.WriteFile(p, []byte(`secrets:
  DB:
    allow:
      - agent: claude-code
        max_ttl: 30m
      - agent: [codex, cursor]
        max_ttl: 10m
    deny:
      - agent: cursor
        branch: "release/*"
`), 0o600))
	s := mustLoad(t, p)
	both := Subject{Branch: "release/1", Agents: []string{"claude-code", "codex"}}
	if d := s.Decide("DB", both); !d.Allowed || d.MaxTTL != 10*time.Minute {
		t.Errorf("claude-code and codex: %+v; want allowed with max_ttl 10m", d)
	}
	withCursor := Subject{Branch: "release/1", Agents: []string{"claude-code", "cursor"}}
	if d := s.Decide("DB", withCursor); d.Allowed || !strings.Contains(d.Reason, "for agent cursor") {
		t.Errorf("claude-code in a Cursor terminal on a release branch: %+v; want denied for cursor", d)
	}
	withAider := Subject{Branch: "main", Agents: []string{"claude-code", "aider"}}
	if d := s.Decide("DB", withAider); d.Allowed || !strings.Contains(d.Reason, "for agent aider") {
		t.Errorf("claude-code with aider: %+v; want denied for aider", d)
	}
}

// An unknown login name satisfies a deny rule naming a login: a caller
// whose account cannot be established is not let through by it.
func TestDenyLoginWhenUnknown(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	must(t, os.WriteFile(p, []byte("secrets:\n  K:\n    allow:\n      - branch: main\n    deny:\n      - user: intern\n"), 0o600))
	s := mustLoad(t, p)
	if d := s.Decide("K", Subject{Branch: "main", User: "dev"}); !d.Allowed {
		t.Errorf("dev: %+v", d)
	}
	for _, login := range []string{"intern", "INTERN", ""} {
		if d := s.Decide("K", Subject{Branch: "main", User: login, Email: "intern@acme.com"}); d.Allowed {
			t.Errorf("login %q: allowed", login)
		}
	}
}

// The agent "unknown" (a declaration naming no known agent, AI_AGENT=human
// among them, or a process tree too deep to walk) is an agent nobody can
// name, so no rule allows it: not even a glob such as "*", which matches
// every agent id and human. It is an unknown value, so a deny rule naming
// agents does match it.
func TestUnknownAgentNeverAllowed(t *testing.T) {
	s := mustLoadText(t, "secrets:\n  DB:\n    allow:\n      - agent: \"*\"\n  K:\n    allow:\n      - branch: main\n    deny:\n      - agent: claude-*\n")
	if d := s.Decide("DB", Subject{Agents: []string{"claude-code"}}); !d.Allowed {
		t.Fatalf("claude-code under agent \"*\": %+v", d)
	}
	for _, agents := range [][]string{{"unknown"}, {"claude-code", "unknown"}} {
		if d := s.Decide("DB", Subject{Agents: agents}); d.Allowed {
			t.Errorf("agents %q under agent \"*\": allowed", agents)
		}
		if d := s.Decide("K", Subject{Branch: "main", Agents: agents}); d.Allowed {
			t.Errorf("agents %q under a deny rule naming agents: allowed", agents)
		}
	}
	if d := s.Decide("K", Subject{Branch: "main", Agents: []string{"codex"}}); !d.Allowed {
		t.Fatalf("codex: %+v", d)
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
