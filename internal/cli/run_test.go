package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

// TestRunStatusUsesTheInjectedClock: what status says is left of the
// session comes from opts.Now, so a test can pin it.
func TestRunStatusUsesTheInjectedClock(t *testing.T) {
	f, tio := newTestFactory(t, "", false)
	if code := Main([]string{"session-start", "--ttl", "2h"}, f); code != 0 {
		t.Fatalf("session-start: exit %d: %s", code, tio.errOut.String())
	}
	b, err := f.Broker()
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.CurrentSession()
	if err != nil {
		t.Fatal(err)
	}
	tio.out.Reset()
	opts := &statusOptions{IO: f.IO, StoreDir: f.StoreDir, access: f.accessWithoutToken(),
		Now: func() time.Time { return s.Expires.Add(-30 * time.Minute) }}
	if err := runStatus(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tio.out.String(), "(30m0s left)") {
		t.Fatalf("status = %q", tio.out.String())
	}
}

// TestRunDeleteWithoutAnAnswer: a terminal that closes before answering
// leaves the secret in place.
func TestRunDeleteWithoutAnAnswer(t *testing.T) {
	f, tio := newTestFactory(t, "", true, "keep-me-value-1", "keep-me-value-1")
	if code := Main([]string{"set", "K"}, f); code != 0 {
		t.Fatalf("set: exit %d: %s", code, tio.errOut.String())
	}
	tio.out.Reset()
	opts := &deleteOptions{IO: f.IO, access: f.accessWithoutToken(), Name: "K"}
	if err := runDelete(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tio.errOut.String(), "[y/N] not deleted\n") || tio.out.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", tio.out.String(), tio.errOut.String())
	}
	b, c, err := opts.open()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Has(c, broker.NameRequest{Name: "K"}); !ok || err != nil {
		t.Fatalf("K after an unanswered prompt: %v %v", ok, err)
	}
}

// TestRunExecOnATerminal: with stdout on a terminal (which a testscript
// cannot give), output is still redacted, and --no-redact is refused under
// a token before anything starts.
func TestRunExecOnATerminal(t *testing.T) {
	const canary = "exec-tty-canary-4b1e"
	f, tio := newTestFactory(t, canary, false)
	if code := Main([]string{"set", "--stdin", "K"}, f); code != 0 {
		t.Fatalf("set: exit %d: %s", code, tio.errOut.String())
	}
	tio.out.Reset()
	f.IO.StdoutTTY = true
	dir := t.TempDir()
	opts := &execOptions{IO: f.IO, Environ: func() []string { return []string{"PATH=/usr/bin:/bin"} }, Profile: f.profile,
		access: f.accessWithoutToken(), Inject: []string{"V=K"}, Argv: []string{"sh", "-c", `printf '%s\n' "$V"`}}
	if err := runExec(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got := tio.out.String(); got != "[REDACTED:K]\n" {
		t.Fatalf("stdout = %q", got)
	}

	tio.out.Reset()
	withToken := func() (*broker.Caller, error) {
		c, err := f.callerWithoutToken()
		c.Token, c.TokenGiven = "some-token", true
		return c, err
	}
	opts.access = access{Caller: withToken, Broker: f.Broker}
	opts.NoRedact = true
	opts.Argv = []string{"sh", "-c", `touch "$0/started"`, dir}
	err := runExec(context.Background(), opts)
	if exitCode(err) != exitDenied || !strings.Contains(err.Error(), "redaction cannot be turned off under a token") {
		t.Fatalf("--no-redact under a token: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
		t.Fatal("the child started")
	}
	if strings.Contains(tio.out.String()+tio.errOut.String(), canary) {
		t.Fatal("canary in output")
	}
}

// mintForTest starts a session and mints a token for K through the CLI.
func mintForTest(t *testing.T, f *Factory, tio *testIO) string {
	t.Helper()
	for _, args := range [][]string{{"session-start", "--ttl", "1h"}, {"macaroon", "mint", "--secret", "K", "--ttl", "10m"}} {
		tio.out.Reset()
		if code := Main(args, f); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, tio.errOut.String())
		}
	}
	return strings.TrimSpace(tio.out.String())
}

// TestRunMintOnATerminal: the token alone goes to stdout (M=$(…) captures
// it); its id and expiry go to stderr only for a human at a terminal.
func TestRunMintOnATerminal(t *testing.T) {
	f, tio := newTestFactory(t, "", false)
	mintForTest(t, f, tio)
	if tio.errOut.Len() != 0 {
		t.Fatalf("mint without a terminal wrote %q on stderr", tio.errOut.String())
	}
	tio.out.Reset()
	f.IO.StdoutTTY = true
	opts := &mintOptions{IO: f.IO, access: f.accessWithoutToken()}
	flags := &cobra.Command{}
	opts.Restrict.register(flags, true)
	flags.Flags().Set("secret", "K")
	flags.Flags().Set("ttl", "5m")
	if err := runMint(opts); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSuffix(tio.out.String(), "\n")
	info, err := broker.Inspect(tok)
	if err != nil || strings.Contains(tok, "\n") {
		t.Fatalf("stdout = %q: %v", tio.out.String(), err)
	}
	if want := "token " + info.ID + " expires " + info.Expires.Format(time.RFC3339) + "\n"; tio.errOut.String() != want {
		t.Fatalf("stderr = %q, want %q", tio.errOut.String(), want)
	}
}

// TestRunInspectAndLeasesUseTheInjectedClock: how long a token has left,
// and whether it expired, come from opts.Now.
func TestRunInspectAndLeasesUseTheInjectedClock(t *testing.T) {
	f, tio := newTestFactory(t, "", false)
	tok := mintForTest(t, f, tio)
	info, err := broker.Inspect(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now          time.Time
		inspect, got string
	}{
		{info.Expires.Add(-90 * time.Second), "(1m30s left)", "active, 1m30s left"},
		{info.Expires.Add(time.Second), "(EXPIRED)", "(expired)"},
	} {
		now := func() time.Time { return tc.now }
		tio.out.Reset()
		if err := runInspect(&inspectOptions{IO: f.IO, Now: now, Token: func() (string, error) { return tok, nil }}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(tio.out.String(), tc.inspect) {
			t.Errorf("inspect at %v: %q", tc.now, tio.out.String())
		}
		tio.out.Reset()
		if err := runLeases(&leasesOptions{IO: f.IO, Now: now, access: f.accessWithoutToken(), All: true}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(tio.out.String(), tc.got) {
			t.Errorf("leases at %v: %q", tc.now, tio.out.String())
		}
	}
}

// TestRunSetTerminalClosesAtTheSecondPrompt: a prompt that fails after the
// first answer stores nothing and never echoes the answer.
func TestRunSetTerminalClosesAtTheSecondPrompt(t *testing.T) {
	const canary = "half-typed-canary-77c2"
	f, tio := newTestFactory(t, "", true, canary) // one answer, then "no more answers"
	opts := &setOptions{IO: f.IO, access: f.accessWithoutToken(), Name: "K"}
	if err := runSet(opts); err == nil || !strings.Contains(err.Error(), "no more answers") {
		t.Fatalf("runSet: %v", err)
	}
	if len(tio.prompts) != 2 || tio.prompts[1] != "Again: " {
		t.Fatalf("prompts = %q", tio.prompts)
	}
	if strings.Contains(tio.out.String()+tio.errOut.String(), canary) {
		t.Fatal("canary in output")
	}
	b, c, err := opts.open()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Has(c, broker.NameRequest{Name: "K"}); ok || err != nil {
		t.Fatalf("K stored after a failed prompt: %v %v", ok, err)
	}
}
