package profile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	all, err := Parse("p.toml", []byte(`
[backend]
secrets = ["DB_PASSWORD", "stripe.key"]
ttl = "15m"
branch = ["main"]
agent = ["claude"]
cmd = ["psql"]
keep_env = ["PGHOST"]
[backend.env]
STRIPE = "stripe.key"

[min]
secrets = ["A"]
ttl = "1m"
`))
	if err != nil {
		t.Fatal(err)
	}
	p := all["backend"]
	if p.TTL != 15*time.Minute || p.Env["STRIPE"] != "stripe.key" || p.Env["DB_PASSWORD"] != "DB_PASSWORD" || len(p.Env) != 2 {
		t.Fatalf("backend = %+v", p)
	}
	if strings.Join(p.Caveats["cmd"], ",") != "psql" || strings.Join(p.Caveats["agent"], ",") != "claude" || strings.Join(p.Caveats["keep_env"], ",") != "PGHOST" || len(p.Caveats) != 4 {
		t.Fatalf("caveats = %v", p.Caveats)
	}
	if strings.Join(p.Vars(), ",") != "DB_PASSWORD,STRIPE" || strings.Join(Names(all), ",") != "backend,min" {
		t.Fatalf("Vars %v Names %v", p.Vars(), Names(all))
	}
}

// The profile of llm-secrets v3's README, as written there.
func TestParseV3Readme(t *testing.T) {
	all, err := Parse("p.toml", []byte("[db]\nsecrets = [\"db_password\"]\nttl = \"5m\"\n[db.env]\nDB_PASS = \"db_password\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := all["db"]
	if len(all) != 1 || p.TTL != 5*time.Minute || strings.Join(p.Secrets, ",") != "db_password" || len(p.Env) != 1 || p.Env["DB_PASS"] != "db_password" {
		t.Fatalf("db = %+v", p)
	}
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]string{
		"[a]\nsecrets = []\nttl = \"1m\"\n":                                          "secrets is empty",
		"[a]\nttl = \"1m\"\n":                                                        "secrets is empty",
		"[a]\nsecrets = [\"A\"]\n":                                                   "ttl is required",
		"[a]\nsecrets = [\"A\"]\nttl = \"-1m\"\n":                                    "must be a duration",
		"[a]\nsecrets = [\"A\"]\nttl = \"48h\"\n":                                    "must be a duration",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nbranchs = [\"x\"]\n":                  "unknown key(s): a.branchs",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nsecret = [\"B\"]\n":                   "unknown key(s): a.secret",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\ncmd = \"psql\"\n":                     "cmd:",
		"[a]\nsecrets = [\"../x\"]\nttl = \"1m\"\n":                                  "invalid secret name",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\n[a.env]\nX = \"B\"\n":                 "not in secrets",
		"[a]\nsecrets = [\"a.b\"]\nttl = \"1m\"\n":                                   "map it in",
		"[a]\nsecrets = [\"A\"\nttl = \"1m\"\n":                                      "p.toml",
		"[profiles.db]\nsecrets = [\"A\"]\nttl = \"1m\"\n":                           "[profiles.db] is a form llms no longer reads: write [db] (and [db.env])",
		"[profiles]\nsecrets = [\"A\"]\nttl = \"1m\"\n[profiles.x.env]\nA = \"A\"\n": "[profiles.x] is a form",
		"ttl = \"5m\"\n": "ttl is not a table: a profile is written [ttl]",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\n[a.extra]\nx = 1\n":                "unknown key(s): a.extra",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nagent = [\"claude\", \"claud\"]\n": `agent: unknown agent "claud"; known agents: aider`,
		// An empty caveat list would mint a token without that restriction.
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\ncmd = []\n":      "cmd is empty",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nagent = []\n":    "agent is empty",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nkeep_env = []\n": "keep_env is empty",

		// Agent mode's egress rules: in their one spelling, never empty.
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nallow_host = []\n":                    "allow_host is empty",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nallow_host = [\"API.example.com\"]\n": "allow_host: allowed host \"API.example.com\": write it in lower case",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nallow_host = [\"@nope\"]\n":           "no preset",
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nallow_host = \"@npm\"\n":              "allow_host:",

		// Only the agent-mode launcher adds a launch caveat.
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nlaunch = [\"0123456789abcdef0123456789abcdef\"]\n": "unknown key(s): a.launch",
	}
	for in, want := range cases {
		_, err := Parse("p.toml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestParseAllowHost(t *testing.T) {
	all, err := Parse("p.toml", []byte("[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nallow_host = [\"@npm\", \"127.0.0.2:5432\"]\n[b]\nsecrets = [\"A\"]\nttl = \"1m\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := all["a"].AllowHost; !slices.Equal(got, []string{"@npm", "127.0.0.2:5432"}) {
		t.Errorf("allow_host = %q", got)
	}
	if all["b"].AllowHost != nil {
		t.Errorf("a profile without allow_host: %q", all["b"].AllowHost)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[a]\nsecrets = [\"A\"]\nttl = \"1m\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		all, err := Parse("f.toml", data)
		if err != nil {
			return
		}
		for _, p := range all {
			if len(p.Secrets) == 0 || p.TTL <= 0 || len(p.Env) < 1 {
				t.Fatalf("accepted invalid profile %+v", p)
			}
			for _, s := range p.Env {
				if !slices.Contains(p.Secrets, s) {
					t.Fatalf("env maps to unnamed secret %q", s)
				}
			}
		}
	})
}

// Load reads only a regular file of bounded size (internal/smallfile): a
// link to /dev/zero planted at the profiles path is refused, not read until
// memory runs out. A missing file is still ErrNoFile.
func TestLoadRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "none.toml")); !errors.Is(err, ErrNoFile) {
		t.Fatalf("missing file: %v", err)
	}
	zero := filepath.Join(dir, "zero.toml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(zero); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load(/dev/zero) = %v", err)
	}
}

// The same bad file always gives the same error: the first problem in
// sorted order (profiles by name, then a profile's keys and variables by
// name), however Go happens to order its maps.
func TestParseErrorsAreDeterministic(t *testing.T) {
	cases := map[string]string{
		// Two invalid profiles.
		"[b]\nsecrets = []\nttl = \"1m\"\n[a]\nsecrets = [\"A\"]\n[c]\nttl = \"1m\"\n": `p.toml: profile "a": ttl is required`,
		// Two bad variables in one profile.
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\n[a.env]\nZ = \"B\"\nY = \"C\"\n\"1X\" = \"A\"\n": `p.toml: profile "a": env: "1X" is not a valid variable name`,
		// Two keys that do not decode.
		"[a]\nsecrets = [\"A\"]\nttl = \"1m\"\nrepo = \"r\"\ncmd = \"psql\"\nbranch = \"b\"\n": `p.toml: profile "a": branch: `,
		// Two empty caveat lists, in two profiles.
		"[b]\nsecrets = [\"A\"]\nttl = \"1m\"\nrepo = []\n[a]\nsecrets = [\"A\"]\nttl = \"1m\"\ncmd = []\nagent = []\n": `p.toml: profile "a": agent is empty`,
	}
	for in, want := range cases {
		first := ""
		for i := range 50 {
			_, err := Parse("p.toml", []byte(in))
			if err == nil {
				t.Fatalf("Parse(%q) accepted", in)
			}
			if i == 0 {
				first = err.Error()
				if !strings.HasPrefix(first, want) {
					t.Errorf("Parse(%q) = %q, want %q first", in, first, want)
				}
			} else if err.Error() != first {
				t.Fatalf("Parse(%q) gave two errors:\n%s\n%s", in, first, err)
			}
		}
	}
}
