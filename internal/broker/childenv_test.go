package broker

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/userdb"
)

func TestStartupVars(t *testing.T) {
	for _, name := range []string{
		"LD_PRELOAD", "LD_AUDIT", "ld_preload", "DYLD_INSERT_LIBRARIES", "BASH_FUNC_curl%%", "BASH_ENV", "ENV",
		"PATH", "IFS", "SHELLOPTS", "PS4", "PROMPT_COMMAND", "PYTHONPATH", "PYTHONUSERBASE", "PYTHONSTARTUP",
		"PERL5OPT", "PERL5LIB", "PERLLIB", "RUBYOPT", "RUBY_DEBUG_INIT_SCRIPT", "NODE_OPTIONS",
		"npm_config_script_shell", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "GIT_SSH_COMMAND", "GIT_CONFIG_COUNT",
		"GIT_CONFIG_VALUE_0", "GIT_EXTERNAL_DIFF", "GIT_DIR", "PAGER", "EDITOR", "GLIBC_TUNABLES", "OPENSSL_CONF",
		"LUA_INIT_5_4", "GOFLAGS", "GOENV", "GOPATH", "GOROOT", "GOTOOLCHAIN", "GOAUTH", "GOEXPERIMENT",
		"CGO_LDFLAGS", "CC", "CXX", "RUSTC_WRAPPER", "RUSTFLAGS", "CARGO_BUILD_RUSTC_WRAPPER", "MAKEFLAGS",
		"MAKEFILES",
	} {
		if !startupVar(name) {
			t.Errorf("startupVar(%q) = false", name)
		}
		if err := checkInjectable(name); !errors.Is(err, ErrBadRequest) {
			t.Errorf("checkInjectable(%q) = %v, want a bad request", name, err)
		}
	}
	for _, name := range []string{
		"PGPASSWORD", "API_KEY", "NODE_AUTH_TOKEN", "RUBYGEMS_API_KEY", "GITHUB_TOKEN", "GIT_TOKEN",
		"NPM_TOKEN", "AWS_SECRET_ACCESS_KEY", "HOME", "LANG", "LC_ALL", "GOPROXY", "GOPRIVATE",
		"CARGO_REGISTRY_TOKEN", "GOOGLE_API_KEY", "CCACHE_DIR",
	} {
		if startupVar(name) {
			t.Errorf("startupVar(%q) = true", name)
		}
	}
}

func TestChildEnv(t *testing.T) {
	caller := []string{
		"HOME=/home/u", "LANG=C.UTF-8", "LC_TIME=C", "TERM=xterm", "PATH=/evil:/usr/bin",
		"LD_PRELOAD=/evil.so", "BASH_FUNC_curl%%=() { evil; }", "PYTHONUSERBASE=/evil", "TMPDIR=/evil",
		"PGHOST=db", "OTHER=x", "API_KEY=caller's", "LLM_SECRETS_MACAROON=tok", "LLM_SECRETS_MACAROON_FILE=/t",
	}
	injected := map[string]bool{"API_KEY": true}

	got := childEnv(caller, injected, false, nil, nil, nil)
	want := []string{"HOME=/home/u", "LANG=C.UTF-8", "LC_TIME=C", "TERM=xterm", "PATH=/evil:/usr/bin",
		"LD_PRELOAD=/evil.so", "BASH_FUNC_curl%%=() { evil; }", "PYTHONUSERBASE=/evil", "TMPDIR=/evil", "PGHOST=db", "OTHER=x"}
	if !slices.Equal(got, want) {
		t.Errorf("not pinned:\n got %q\nwant %q", got, want)
	}

	// keep names PATH, LD_PRELOAD, HOME and TMPDIR too: the broker refuses
	// them at mint, and here they still never pass.
	account := &userdb.Account{Name: "u", Home: "/home/real"}
	got = childEnv(caller, injected, true, []string{"PGHOST", "PATH", "LD_PRELOAD", "HOME", "TMPDIR"}, account, nil)
	want = []string{"PATH=" + pinned.Path(), "HOME=/home/real", "USER=u", "LOGNAME=u", "LANG=C.UTF-8", "LC_TIME=C", "TERM=xterm", "PGHOST=db"}
	if !slices.Equal(got, want) {
		t.Errorf("pinned:\n got %q\nwant %q", got, want)
	}
}

// keep_env is honoured only as it was minted: a holder who appends one
// cannot add a name, only take names away.
func TestKeepEnvOnlyAsMinted(t *testing.T) {
	b, _ := testBroker(t)
	human := caller(t, nil, "")
	mint := func(lists map[string][]string) string {
		t.Helper()
		tok := mustMint(t, b, human, Restrictions{TTL: time.Minute, Lists: lists}).Token
		return tok
	}
	attenuate := func(tok string, keep ...string) string {
		t.Helper()
		out, err := Attenuate(tok, Restrictions{Lists: map[string][]string{"keep_env": keep}}, b.now())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept := func(tok string) []string {
		t.Helper()
		a := access{op: "exec", secrets: []string{"A"}, caller: caller(t, claude, tok)}
		pin, err := findPinned("env", "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer pin.prog.Close()
		a.program, a.pin = pin.path, pin
		g, err := b.authorize(a)
		if err != nil {
			t.Fatal(err)
		}
		keep, err := b.keptVars(g)
		if err != nil {
			t.Fatal(err)
		}
		return keep
	}
	withKeep := mint(map[string][]string{"secret": {"A"}, "cmd": {"env"}, "keep_env": {"PGHOST", "PGUSER"}})
	without := mint(map[string][]string{"secret": {"A"}, "cmd": {"env"}})
	unpinned := mint(map[string][]string{"secret": {"A"}, "keep_env": {"PGHOST"}})
	for _, tt := range []struct {
		tok  string
		want string
	}{
		{withKeep, "PGHOST,PGUSER"},
		{attenuate(withKeep, "PGHOST", "OTHER"), "PGHOST"},
		{attenuate(without, "OTHER"), ""},
		{unpinned, ""}, // not pinned: the whole caller environment passes anyway
	} {
		if got := strings.Join(kept(tt.tok), ","); got != tt.want {
			t.Errorf("kept %q, want %q", got, tt.want)
		}
	}

	for _, name := range []string{"LD_PRELOAD", "PATH", "LLM_SECRETS_MACAROON"} {
		_, err := b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "keep_env": {name}}})
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("mint --keep-env %s: %v, want a bad request", name, err)
		}
	}
}
