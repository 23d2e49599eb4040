package agentmode

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/exitstatus"
)

// Run refuses before it starts anything, with the error the CLI maps to
// its exit status: denied (3) under a token, not found (127), usage (2)
// for flags that contradict each other; and it never opens the store.
func TestRunRefusesBeforeStarting(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name  string
		opts  Options
		check func(error) bool
		want  string
	}{
		{"under a token", Options{LookupEnv: func(k string) (string, bool) { return "", k == broker.TokenEnv }, Argv: []string{"/bin/true"}},
			func(err error) bool { return errors.Is(err, broker.ErrDenied) }, "LLM_SECRETS_MACAROON is set"},
		{"no such program", Options{LookupEnv: noEnv, Argv: []string{"llms-no-such-program"}},
			func(err error) bool { return errors.Is(err, broker.ErrCommandNotFound) }, "llms-no-such-program"},
		{"two agents", Options{LookupEnv: noEnv, Agent: []string{"codex", "aider"}, Argv: []string{"/bin/true"}},
			isUsage, "--agent names the one agent"},
		{"unknown program", Options{LookupEnv: noEnv, Argv: []string{"/bin/true"}},
			isUsage, "true is not a known agent program"},
		{"abi without sandbox", Options{LookupEnv: noEnv, Agent: []string{"codex"}, NoSandbox: true, LandlockABI: 1, Argv: []string{"/bin/true"}},
			isUsage, "--landlock-abi and --no-sandbox contradict"},
		{"allow-net and allow-host", Options{LookupEnv: noEnv, Agent: []string{"codex"}, LandlockABI: -1, AllowNet: true, AllowHost: []string{"@npm"}, Argv: []string{"/bin/true"}},
			isUsage, "--allow-net and --allow-host contradict"},
		{"allow-host without the sandbox", Options{LookupEnv: noEnv, Agent: []string{"codex"}, LandlockABI: -1, NoSandbox: true, AllowHost: []string{"a.example"}, Argv: []string{"/bin/true"}},
			isUsage, "need the sandbox"},
		{"a host not in its one spelling", Options{LookupEnv: noEnv, Agent: []string{"codex"}, LandlockABI: -1, AllowHost: []string{"API.example.com"}, Argv: []string{"/bin/true"}},
			isUsage, `allowed host "API.example.com": write it in lower case: api.example.com`},
		{"an unknown preset", Options{LookupEnv: noEnv, Agent: []string{"codex"}, LandlockABI: -1, AllowHost: []string{"@nmp"}, Argv: []string{"/bin/true"}},
			isUsage, "no preset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Stdin, o.Stdout, o.Stderr = strings.NewReader(""), io.Discard, io.Discard
			o.Open = func() (*broker.Broker, *broker.Caller, error) {
				t.Fatal("the store was opened")
				return nil, nil, nil
			}
			err := Run(&o)
			if err == nil || !tc.check(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error saying %q of the right kind", err, tc.want)
			}
		})
	}
}

func isUsage(err error) bool {
	var ue exitstatus.UsageError
	return errors.As(err, &ue)
}
