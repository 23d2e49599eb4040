package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/userdb"
)

// testFactory is a Factory over buffers: a terminal that answers prompts
// from a script, an empty environment, and a fresh store.
type testIO struct {
	out, errOut bytes.Buffer
	prompts     []string // what ReadSecret was asked
}

func newTestFactory(t *testing.T, stdin string, tty bool, secrets ...string) (*Factory, *testIO) {
	t.Helper()
	tio := &testIO{}
	answers := secrets
	env := map[string]string{
		"LLM_SECRETS_DIR": filepath.Join(t.TempDir(), "store"),
		"HOME":            t.TempDir(),
	}
	f := &Factory{
		IO: &IOStreams{
			In: strings.NewReader(stdin), Out: &tio.out, ErrOut: &tio.errOut,
			StdinTTY: tty, StdoutTTY: tty,
			ReadSecret: func(prompt string) ([]byte, error) {
				tio.prompts = append(tio.prompts, prompt)
				if len(answers) == 0 {
					return nil, errors.New("no more answers")
				}
				a := answers[0]
				answers = answers[1:]
				return []byte(a), nil
			},
		},
		Getenv:    func(k string) string { return env[k] },
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ:   func() []string { return nil },
		ProcRoot:  t.TempDir(),
		UserDB:    testUserDB(t, "tester", t.TempDir()),
	}
	if code := Main([]string{"init"}, f); code != 0 {
		t.Fatalf("init: exit %d: %s", code, tio.errOut.String())
	}
	tio.out.Reset()
	return f, tio
}

func TestSetPromptsTwiceOnATerminal(t *testing.T) {
	const canary = "prompt-canary-61f0"
	f, tio := newTestFactory(t, "", true, canary, canary)
	if code := Main([]string{"set", "K"}, f); code != 0 {
		t.Fatalf("set: exit %d: %s", code, tio.errOut.String())
	}
	if len(tio.prompts) != 2 || !strings.Contains(tio.prompts[0], "Value for K") {
		t.Fatalf("prompts = %q", tio.prompts)
	}
	if tio.out.String() != "stored: K\n" || strings.Contains(tio.out.String()+tio.errOut.String(), canary) {
		t.Fatalf("output = %q / %q", tio.out.String(), tio.errOut.String())
	}
}

func TestSetMismatchStoresNothing(t *testing.T) {
	f, tio := newTestFactory(t, "", true, "first-value-1", "second-value-2")
	if code := Main([]string{"set", "K"}, f); code != exitUsage {
		t.Fatalf("set with different answers: exit %d", code)
	}
	if !strings.Contains(tio.errOut.String(), "the two values differ; nothing stored") {
		t.Fatalf("stderr = %q", tio.errOut.String())
	}
	tio.out.Reset()
	Main([]string{"list"}, f)
	if tio.out.Len() != 0 {
		t.Fatalf("store changed: %q", tio.out.String())
	}
}

func TestDeleteAsksOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		deleted bool
	}{{"n\n", false}, {"\n", false}, {"yes\n", true}, {"y\n", true}} {
		f, tio := newTestFactory(t, tc.answer, true, "delete-me-value", "delete-me-value")
		Main([]string{"set", "K"}, f)
		tio.out.Reset()
		tio.errOut.Reset()
		if code := Main([]string{"delete", "K"}, f); code != 0 {
			t.Fatalf("delete: exit %d: %s", code, tio.errOut.String())
		}
		if !strings.Contains(tio.errOut.String(), "Delete secret K? This cannot be undone. [y/N]") {
			t.Fatalf("no confirmation asked: %q", tio.errOut.String())
		}
		tio.out.Reset()
		Main([]string{"list"}, f)
		if gone := tio.out.String() == ""; gone != tc.deleted {
			t.Errorf("answer %q: deleted = %v, want %v", tc.answer, gone, tc.deleted)
		}
	}
}

func TestNoGetCommand(t *testing.T) {
	f, tio := newTestFactory(t, "", false)
	if code := Main([]string{"get", "K"}, f); code != exitUsage {
		t.Fatalf("get: exit %d", code)
	}
	if !strings.Contains(tio.errOut.String(), `unknown command "get"`) {
		t.Fatalf("stderr = %q", tio.errOut.String())
	}
}

// TestUserPolicyCannotBeHiddenByTheEnvironment: the policy in the account's
// home (password database) applies whatever $HOME and $XDG_CONFIG_HOME say.
func TestUserPolicyCannotBeHiddenByTheEnvironment(t *testing.T) {
	f, tio := newTestFactory(t, "policy-canary-value", false)
	Main([]string{"set", "--stdin", "K"}, f)
	home := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(home, ".config", "llm-secrets"), 0o700))
	must(t, os.WriteFile(filepath.Join(home, ".config", "llm-secrets", "policy.yaml"),
		[]byte("secrets:\n  OTHER:\n    allow:\n      - branch: main\n"), 0o600))
	f.UserDB = testUserDB(t, "dev", home)
	// $HOME and $XDG_CONFIG_HOME point elsewhere (the test factory's env).
	tio.errOut.Reset()
	if code := Main([]string{"exec", "-i", "K", "--", "true"}, f); code != exitDenied {
		t.Fatalf("exec with a user policy that does not list K: exit %d: %s", code, tio.errOut.String())
	}
	if !strings.Contains(tio.errOut.String(), "policy denies K") {
		t.Fatalf("stderr = %q", tio.errOut.String())
	}
}

// testUserDB is a user database that knows this process's uid as name,
// with home; with an empty name it does not know the uid. It never asks
// getent.
func testUserDB(t *testing.T, name, home string) *userdb.DB {
	entry := fmt.Sprintf("other:x:%d:0::/home/other:/bin/sh\n", os.Getuid()+1)
	if name != "" {
		entry += fmt.Sprintf("%s:x:%d:0::%s:/bin/sh\n", name, os.Getuid(), home)
	}
	p := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(p, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	return &userdb.DB{PasswdFile: p, Getent: []string{}}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
