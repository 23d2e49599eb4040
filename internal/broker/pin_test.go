package broker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/userdb"
)

// systemPrintenv is the printenv a pin by name means.
func systemPrintenv(t *testing.T) string {
	t.Helper()
	p, err := pinned.Find("printenv", "")
	if err != nil {
		t.Skipf("no printenv in the system directories: %v", err)
	}
	return p
}

// agentTree is a working tree with the agent's own printenv (which prints
// a marker), first on its PATH, and a link named printenv to date.
func agentTree(t *testing.T) (dir string, env []string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "bin")
	must(t, os.Mkdir(bin, 0o755))
	if err := os.WriteFile(filepath.Join(bin, "printenv"), []byte("#!/bin/sh\necho AGENT-PROGRAM\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.Mkdir(filepath.Join(dir, "links"), 0o755))
	must(t, os.Symlink("/usr/bin/date", filepath.Join(dir, "links", "printenv")))
	return dir, []string{"PATH=" + bin + ":.:/usr/bin:/bin"}
}

// oldToken is a token for A pinned to cmd as the broker minted it before
// pins were resolved at mint: the item as given.
func oldToken(t *testing.T, b *Broker, cmd string) string {
	t.Helper()
	minted, err := b.Mint(caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseToken(minted.Token)
	if err != nil {
		t.Fatal(err)
	}
	c, err := caveat.List(caveat.NameCmd, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = addCaveats(m, []caveat.Caveat{c}); err != nil {
		t.Fatal(err)
	}
	return m.Text()
}

func execPinned(t *testing.T, b *Broker, c *Caller, req ExecRequest) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	req.Inject = []Injection{{"P", "A"}}
	req.Stdout, req.Stderr = &out, &errOut
	_, err := b.Exec(context.Background(), c, req)
	return out.String() + errOut.String(), err
}

// A pin by name is recorded at mint as the program of that name in the
// system directories; a path must be a file only root can change.
func TestMintResolvesPins(t *testing.T) {
	b, _ := testBroker(t)
	sys := systemPrintenv(t)
	human := caller(t, nil, "")
	minted, err := b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "cmd": {"printenv"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(minted.Info.Caveats, " "), "cmd="+sys) || len(minted.Warnings) != 0 {
		t.Errorf("caveats %q, warnings %q; want cmd=%s and no warning", minted.Info.Caveats, minted.Warnings, sys)
	}
	script := filepath.Join(t.TempDir(), "deploy.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	for _, item := range []string{script, "llms-no-such-program", "bin/printenv"} {
		_, err := b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "cmd": {item}}})
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("mint --cmd %s: %v, want a bad request", item, err)
		}
	}
	// A launcher is pinned with a warning: the pin contains nothing.
	minted, err = b.Mint(human, Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "cmd": {"sh"}}})
	if err != nil || len(minted.Warnings) != 1 || !strings.Contains(minted.Warnings[0], "contains nothing") {
		t.Errorf("mint --cmd sh: %v, warnings %q", err, minted.Warnings)
	}
}

// The agent's PATH, working directory, a path into its tree or a link
// there never start a pinned program: the one the system directories hold
// runs, or nothing, whether the token was minted now or before pins were
// resolved at mint.
func TestPinnedProgramIsTheSystemOne(t *testing.T) {
	b, _ := testBroker(t)
	sys := systemPrintenv(t)
	dir, env := agentTree(t)
	minted, err := b.Mint(caller(t, nil, ""), Restrictions{TTL: time.Minute, Lists: map[string][]string{"secret": {"A"}, "cmd": {"printenv"}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"new": minted.Token, "old": oldToken(t, b, "printenv")} {
		out, err := execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{"printenv", "P"}, Dir: dir, Env: env})
		if err != nil || strings.TrimSpace(out) != "[REDACTED:A]" {
			t.Errorf("%s token, printenv with the agent's PATH: %q, %v; want the system printenv", name, out, err)
		}
		out, err = execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{"printenv", "P"}, Dir: filepath.Join(dir, "bin"), Env: env})
		if err != nil || strings.Contains(out, "AGENT") {
			t.Errorf("%s token, printenv in bin with PATH=.: %q, %v", name, out, err)
		}
		for _, argv0 := range []string{"./bin/printenv", "./links/printenv", filepath.Join(dir, "bin", "printenv")} {
			out, err := execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{argv0, "+AGENT"}, Dir: dir, Env: env})
			if !errors.Is(err, ErrDenied) || strings.Contains(out, "AGENT") {
				t.Errorf("%s token, %s: %q, %v; want a denial", name, argv0, out, err)
			}
		}
		// The system program by another path to it is the same program.
		out, err = execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{sys, "P"}, Dir: dir, Env: env})
		if err != nil || strings.TrimSpace(out) != "[REDACTED:A]" {
			t.Errorf("%s token, %s: %q, %v", name, sys, out, err)
		}
	}
}

// A program in a tree the agent may write is never a pinned program, and
// the refusal is audited with its reason; so is one anyone but root could
// change, named by an old token or by a policy.
func TestUntrustedPinIsRefusedAndAudited(t *testing.T) {
	b, _ := testBroker(t)
	sys := systemPrintenv(t)
	dir, env := agentTree(t)
	script := filepath.Join(dir, "deploy.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho AGENT-PROGRAM\n"), 0o755))

	tok := oldToken(t, b, "printenv")
	out, err := execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{"printenv", "P"}, Dir: dir, Env: env,
		Writable: []string{dir, filepath.Dir(sys)}})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "the agent may write") || out != "" {
		t.Errorf("a system program in a writable tree: %q, %v", out, err)
	}
	tok = oldToken(t, b, script)
	out, err = execPinned(t, b, caller(t, claude, tok), ExecRequest{Argv: []string{"./deploy.sh"}, Dir: dir, Env: env})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "pinned program "+script+" cannot be started") || out != "" {
		t.Errorf("an old token pinned to a file in the tree: %q, %v", out, err)
	}

	config := t.TempDir()
	writePolicy(t, config, "secrets:\n  A:\n    allow:\n      - cmd: "+script+"\n")
	human := caller(t, nil, "")
	human.ConfigDirs = []string{config}
	out, err = execPinned(t, b, human, ExecRequest{Argv: []string{"./deploy.sh"}, Dir: dir, Env: env})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "cannot be started") || out != "" {
		t.Errorf("a policy pinned to a file in the tree: %q, %v", out, err)
	}

	log, err := b.Audit(caller(t, nil, ""), AuditQuery{Denied: true})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range log {
		if e.Event == "exec" && strings.Contains(e.Reason, "cannot be started") {
			found++
		}
	}
	if found != 3 {
		t.Errorf("%d refused pins audited, want 3: %+v", found, log)
	}
}

// A policy rule naming a program by name pins the one the system
// directories hold, for the human too.
func TestPolicyPinIsTheSystemOne(t *testing.T) {
	b, _ := testBroker(t)
	systemPrintenv(t)
	dir, env := agentTree(t)
	config := t.TempDir()
	writePolicy(t, config, "secrets:\n  A:\n    allow:\n      - cmd: printenv\n")
	for _, c := range []*Caller{caller(t, nil, ""), caller(t, claude, oldToken(t, b, "printenv"))} {
		c.ConfigDirs = []string{config}
		out, err := execPinned(t, b, c, ExecRequest{Argv: []string{"printenv", "P"}, Dir: dir, Env: env})
		if err != nil || strings.TrimSpace(out) != "[REDACTED:A]" {
			t.Errorf("printenv with the agent's PATH: %q, %v", out, err)
		}
		out, err = execPinned(t, b, c, ExecRequest{Argv: []string{"./bin/printenv", "P"}, Dir: dir, Env: env})
		if !errors.Is(err, ErrDenied) || out != "" {
			t.Errorf("./bin/printenv: %q, %v", out, err)
		}
	}
}

// What a pinned program's environment holds: names, never paths, from the
// caller; who the user is from the user database.
func TestPinnedEnvironment(t *testing.T) {
	b, _ := testBroker(t)
	systemPrintenv(t)
	home := t.TempDir()
	tok := oldToken(t, b, "printenv")
	c := caller(t, claude, tok)
	c.UserDB = fakeUserDB(t, "tester", home)
	var warned []string
	out, err := execPinned(t, b, c, ExecRequest{Argv: []string{"printenv"}, Dir: t.TempDir(), Warn: func(s string) { warned = append(warned, s) },
		Env: []string{"HOME=/agent/home", "USER=agent", "LANG=C.UTF-8", "LANGUAGE=../../../agent/cat", "LC_MESSAGES=/agent/loc",
			"LC_TIME=de_DE.UTF-8@euro", "TZ=:/agent/zone", "TERM=xterm-256color", "TERMINFO=/agent/ti", "TMPDIR=/agent/tmp",
			"XDG_CONFIG_HOME=/agent/config", "COLUMNS=80", "LINES=x", "PATH=/agent/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"PATH=" + pinned.Path(), "HOME=" + home, "USER=tester", "LOGNAME=tester", "LANG=C.UTF-8",
		"LC_TIME=de_DE.UTF-8@euro", "TERM=xterm-256color", "COLUMNS=80", "P=[REDACTED:A]"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pinned environment:\n got %q\nwant %q", got, want)
	}
	for _, name := range []string{"LANGUAGE", "LC_MESSAGES", "TZ", "LINES"} {
		if !strings.Contains(strings.Join(warned, "\n"), name+" is not passed to the pinned program") {
			t.Errorf("no warning for %s: %q", name, warned)
		}
	}
	if strings.Contains(strings.Join(warned, "\n"), "/agent") {
		t.Errorf("a warning shows a value: %q", warned)
	}
	// Without an account in the user database, no HOME at all. (An agent
	// is refused then, so the human runs the token.)
	c = caller(t, nil, tok)
	c.UserDB = &userdb.DB{PasswdFile: filepath.Join(t.TempDir(), "none"), Getent: []string{}}
	out, err = execPinned(t, b, c, ExecRequest{Argv: []string{"printenv"}, Dir: t.TempDir(), Env: []string{"HOME=/agent/home"}})
	if err != nil || !strings.Contains(out, "PATH=") || strings.Contains(out, "HOME=") {
		t.Errorf("a caller without an account: %v, %q; want the environment without HOME", err, out)
	}
}

func TestPinnedVarValues(t *testing.T) {
	for name, values := range map[string][2][]string{
		"LANG": {{"", "C", "POSIX", "C.UTF-8", "C.utf8", "en_US.UTF-8", "de_DE@euro", "sr_RS.UTF-8@latin", "ca_ES.UTF-8@valencia", "ast_ES", "zh_CN.GB18030"},
			{"/usr/lib/locale/C.utf8", "../../..", ".hidden", "en_US/../../x", "C.UTF-8/..", "en US", "en_US.UTF-8;x", "C.", "_US", strings.Repeat("a", 65)}},
		"LANGUAGE": {{"", "en_GB:en", "de:fr:en", "pt_BR", "en::de"}, {"../../..", "en:../../../tmp", "/abs", "en:/x"}},
		"TZ": {{"", "UTC", "Europe/Paris", ":Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+3", "EST5EDT", "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30"},
			{"/etc/localtime", ":/tmp/zone", "../../../tmp/zone", ":../x", "Europe/../../../tmp/x", "Europe//Paris", "./UTC", "Europe/.hidden", "UTC/"}},
		"TERM":    {{"", "xterm", "xterm-256color", "screen.xterm-new", "rxvt-unicode+x"}, {"../ti/x", "/x", ".x", "-x", "a b"}},
		"COLUMNS": {{"", "80", "12345"}, {"x", "-1", "123456", "8 0"}},
	} {
		check := pinnedVars[name]
		for _, v := range values[0] {
			if !check.ok(v) {
				t.Errorf("%s=%q refused", name, v)
			}
		}
		for _, v := range values[1] {
			if check.ok(v) {
				t.Errorf("%s=%q accepted", name, v)
			}
		}
	}
}

// What a human cannot name at mint for a pinned program to keep, and what
// never reaches one if an older token named it.
func TestNeverKept(t *testing.T) {
	for _, name := range []string{
		"LD_PRELOAD", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TERMINFO", "TERMINFO_DIRS", "TZDIR", "LOCPATH",
		"NLSPATH", "GCONV_PATH", "HOSTALIASES", "RES_OPTIONS", "LOCALDOMAIN", "SSL_CERT_FILE", "SSL_CERT_DIR",
		"OPENSSL_CONF", "OPENSSL_MODULES", "CURL_CA_BUNDLE", "CURL_HOME", "GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_NAME",
		"GLIBC_TUNABLES", "MALLOC_CHECK_", "PYTHONPATH", "PERL5LIB", "RUBYLIB", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS",
		"GEM_HOME", "JAVA_TOOL_OPTIONS", "JAVA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "REQUESTS_CA_BUNDLE",
		"SSLKEYLOGFILE", "PSQLRC", "INPUTRC", "LLM_SECRETS_MACAROON", "DOTNET_STARTUP_HOOKS", "LESSOPEN",
	} {
		if !neverKept(name) {
			t.Errorf("neverKept(%q) = false", name)
		}
		if err := checkKeepable(name); !errors.Is(err, ErrBadRequest) {
			t.Errorf("checkKeepable(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"PGHOST", "PGUSER", "PGDATABASE", "AWS_REGION", "HTTPS_PROXY", "NO_PROXY", "KUBECONFIG_CONTEXT"} {
		if neverKept(name) || checkKeepable(name) != nil {
			t.Errorf("%s cannot be kept", name)
		}
	}
}
