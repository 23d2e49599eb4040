package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/store"
)

// TestPymacaroonsVerifiesLLMSTokens: a token minted and attenuated by the
// llms CLI is verified by pymacaroons, an implementation nobody here wrote,
// given the root key (exported by this test from the sealed store, a hook
// no production path has). Refusals must agree too.
func TestPymacaroonsVerifiesLLMSTokens(t *testing.T) {
	t.Parallel()
	requirePymacaroons(t)
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "py-canary-value", "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	token := strings.TrimSpace(mustRun(t, bin, env, "", "macaroon", "mint", "--secret", "K", "--ttl", "5m", "--op", "exec,peek"))
	child := strings.TrimSpace(mustRun(t, bin, env, token, "macaroon", "attenuate", "--op", "peek", "--branch", "main"))

	rootKey := rootKeyOf(t, dir)
	var info struct{ Caveats []string }
	json.Unmarshal([]byte(mustRun(t, bin, env, child, "macaroon", "inspect", "--json")), &info)
	if len(info.Caveats) != 5 {
		t.Fatalf("attenuated token has caveats %q, want 5", info.Caveats)
	}
	verify := func(satisfy []string, key string) bool { return pymacaroonsVerify(t, child, key, satisfy) }
	if !verify(info.Caveats, rootKey) {
		t.Fatal("pymacaroons refused a token llms minted and attenuated")
	}
	// Dropping any one caveat from what pymacaroons accepts must fail: each
	// caveat is really in the signed chain.
	for i := range info.Caveats {
		fewer := append(append([]string{}, info.Caveats[:i]...), info.Caveats[i+1:]...)
		if verify(fewer, rootKey) {
			t.Errorf("pymacaroons verified without satisfying %q", info.Caveats[i])
		}
	}
	wrong := strings.Repeat("00", 32)
	if verify(info.Caveats, wrong) {
		t.Error("pymacaroons verified with a wrong root key")
	}
}

// TestPymacaroonsVerifiesALaunchBoundToken: the launch caveat of the token
// `llms agent` mints is a plain first-party caveat, which pymacaroons
// verifies when told it holds and refuses otherwise.
func TestPymacaroonsVerifiesALaunchBoundToken(t *testing.T) {
	t.Parallel()
	requirePymacaroons(t)
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "py-launch-canary", "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	tokFile := filepath.Join(filepath.Dir(dir), "agent.token")
	mustRun(t, bin, env, "", "agent", "--no-sandbox", "--agent", "codex", "--secret", "K", "--ttl", "5m", "--",
		"sh", "-c", `printf %s "$LLM_SECRETS_MACAROON" > "$0"`, tokFile)
	tok, err := os.ReadFile(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Caveats []string }
	json.Unmarshal([]byte(mustRun(t, bin, env, "", "macaroon", "inspect", "--json", "--macaroon-file", tokFile)), &info)
	launch := slices.IndexFunc(info.Caveats, func(c string) bool { return strings.HasPrefix(c, "launch=") })
	if launch < 0 {
		t.Fatalf("the agent's token has no launch caveat: %q", info.Caveats)
	}
	key := rootKeyOf(t, dir)
	if !pymacaroonsVerify(t, string(tok), key, info.Caveats) {
		t.Fatal("pymacaroons refused the token llms agent minted")
	}
	if pymacaroonsVerify(t, string(tok), key, slices.Delete(slices.Clone(info.Caveats), launch, launch+1)) {
		t.Error("pymacaroons verified without satisfying the launch caveat")
	}
}

const pymacaroonsPython = "/usr/bin/python3"

func requirePymacaroons(t *testing.T) {
	t.Helper()
	if err := exec.Command(pymacaroonsPython, "-c", "import pymacaroons").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pymacaroons is required in CI (apt-get install python3-pymacaroons): %v", err)
		}
		t.Skip("pymacaroons not installed (apt-get install python3-pymacaroons)")
	}
}

// rootKeyOf exports, in hex, the one root key of the store in dir: a hook
// no production path has.
func rootKeyOf(t *testing.T, dir string) string {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.ReadSealed("rootkeys")
	if err != nil {
		t.Fatal(err)
	}
	var keys []struct{ Key []byte }
	if err := json.Unmarshal(data, &keys); err != nil || len(keys) != 1 {
		t.Fatalf("root keys: %v (%d keys)", err, len(keys))
	}
	return hex.EncodeToString(keys[0].Key)
}

// pymacaroonsVerify reports whether pymacaroons verifies token with the
// root key (hex) when exactly the caveats in satisfy hold.
func pymacaroonsVerify(t *testing.T, token, key string, satisfy []string) bool {
	t.Helper()
	req, err := json.Marshal(map[string]any{"token": strings.TrimSpace(token), "root_key": key, "satisfy": satisfy})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pymacaroonsPython, filepath.Join("..", "..", "internal", "macaroon", "testdata", "pymacaroons_check.py"), "verify")
	cmd.Stdin = strings.NewReader(string(req))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false
	} else if err != nil {
		t.Fatalf("pymacaroons_check.py: %v: %s", err, out)
	}
	return true
}
