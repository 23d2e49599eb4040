package cli

import (
	"strings"
	"testing"
)

// Inside agent mode ($LLM_SECRETS_SOCKET set), every command for the human
// alone is refused with one sentence and exit status 3, and changes
// nothing; what agent mode serves, or what reads no store, still runs.
func TestAgentModeGate(t *testing.T) {
	f, tio := newTestFactory(t, "x\n", false)
	env := map[string]string{}
	lookup := f.LookupEnv
	f.LookupEnv = func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return lookup(k)
	}
	env[envSocket] = "/nonexistent/broker.sock"
	for _, args := range [][]string{{"set", "--stdin", "K"}, {"macaroon", "mint", "--secret", "K", "--ttl", "5m"},
		{"session-start"}, {"revoke-all"}, {"init"}, {"audit"}, {"scan", "."}, {"profile", "mint", "p"}} {
		tio.errOut.Reset()
		if code := Main(args, f); code != exitDenied {
			t.Errorf("%v: exit %d, want %d", args, code, exitDenied)
		}
		lines := strings.Split(strings.TrimSpace(tio.errOut.String()), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "llms "+args[0]) || !strings.Contains(lines[0], "is for the human, in their own shell") {
			t.Errorf("%v: stderr %q", args, tio.errOut.String())
		}
	}
	for _, args := range [][]string{{"status"}, {"macaroon", "inspect", "--help"}, {"help", "set"}} {
		if code := Main(args, f); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, tio.errOut.String())
		}
	}
	// An empty variable is not agent mode: the human's store is untouched.
	env[envSocket] = ""
	tio.out.Reset()
	if code := Main([]string{"list"}, f); code != 0 || tio.out.String() != "" {
		t.Errorf("list: exit %d, %q: the refused set stored something", code, tio.out.String())
	}
}
