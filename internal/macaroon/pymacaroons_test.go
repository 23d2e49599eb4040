package macaroon

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const systemPython = "/usr/bin/python3"

// requirePymacaroons skips the test when pymacaroons is not installed, unless
// it runs in CI, where a missing independent verifier is a failure.
func requirePymacaroons(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(systemPython); err == nil {
		if exec.Command(systemPython, "-c", "import pymacaroons").Run() == nil {
			return
		}
	}
	msg := systemPython + " with pymacaroons is needed (Debian: apt-get install python3-pymacaroons)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure, not a skip")
	}
	t.Skip(msg)
}

// runPython runs testdata/pymacaroons_check.py and returns its exit code and
// output.
func runPython(t *testing.T, stdin any, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(systemPython, append([]string{"testdata/pymacaroons_check.py"}, args...)...)
	if stdin != nil {
		in, err := json.Marshal(stdin)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = bytes.NewReader(in)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if exitErr, ok := err.(*exec.ExitError); ok && stderr.Len() == 0 {
			return exitErr.ExitCode(), string(out)
		}
		t.Fatalf("pymacaroons_check.py: %v\n%s%s", err, out, stderr.String())
	}
	return 0, string(out)
}

// TestPymacaroonsReproducesVectors has pymacaroons mint every vector in
// vectors.json and compare the exact bytes.
func TestPymacaroonsReproducesVectors(t *testing.T) {
	requirePymacaroons(t)
	code, out := runPython(t, nil, "vectors", "testdata/vectors.json")
	if code != 0 || !strings.Contains(out, " 0 problems") {
		t.Fatalf("pymacaroons disagrees with vectors.json:\n%s", out)
	}
}

type pyVerifyRequest struct {
	Token   string   `json:"token"`
	RootKey string   `json:"root_key"`
	Satisfy []string `json:"satisfy"`
}

// TestPymacaroonsVerifiesOurs mints and attenuates with our code, with a
// fresh random key and id, and has pymacaroons verify the result.
func TestPymacaroonsVerifiesOurs(t *testing.T) {
	requirePymacaroons(t)
	rootKey, id := randomBytes(t, 32), randomBytes(t, 20)
	m, err := New(rootKey, id, "llms")
	if err != nil {
		t.Fatal(err)
	}
	conds := []string{"secret=DB_PASSWORD", "expires_at=2030-01-01T00:00:00Z", "op=exec"}
	if m, err = m.AddFirstPartyCaveats([]byte(conds[0]), []byte(conds[1])); err != nil {
		t.Fatal(err)
	}
	if m, err = m.AddFirstPartyCaveat([]byte(conds[2])); err != nil {
		t.Fatal(err)
	}

	req := pyVerifyRequest{m.Text(), hex.EncodeToString(rootKey), conds}
	if code, out := runPython(t, req, "verify"); code != 0 {
		t.Fatalf("pymacaroons refused our macaroon: %s", out)
	}
	// The same request with one caveat unsatisfied, or another key, must be
	// refused, or the check above proves nothing.
	req.Satisfy = conds[1:]
	if code, _ := runPython(t, req, "verify"); code != 1 {
		t.Fatal("pymacaroons accepted a macaroon with an unsatisfied caveat")
	}
	req.Satisfy, req.RootKey = conds, hex.EncodeToString(randomBytes(t, 32))
	if code, _ := runPython(t, req, "verify"); code != 1 {
		t.Fatal("pymacaroons accepted our macaroon under another root key")
	}
}

// pyMint has pymacaroons mint a macaroon with a random key and id and the
// given caveats, and returns it in text form with its root key.
func pyMint(t *testing.T, caveats []map[string]any) (token string, rootKey []byte) {
	t.Helper()
	rootKey = randomBytes(t, 32)
	desc := map[string]any{
		"root_key": hex.EncodeToString(rootKey),
		"id":       hex.EncodeToString(randomBytes(t, 20)),
		"location": "https://llms.example/",
		"caveats":  caveats,
	}
	code, out := runPython(t, desc, "mint")
	if code != 0 {
		t.Fatalf("mint failed: %s", out)
	}
	var minted struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &minted); err != nil {
		t.Fatal(err)
	}
	return minted.Token, rootKey
}

// TestOursVerifiesPymacaroons has pymacaroons mint a macaroon with
// first-party caveats and verifies it with our code.
func TestOursVerifiesPymacaroons(t *testing.T) {
	requirePymacaroons(t)
	token, rootKey := pyMint(t, []map[string]any{
		{"first_party": "repo=github.com/llm-secrets/llms"},
		{"first_party": "op=exec"},
	})
	m, err := Parse(token)
	if err != nil {
		t.Fatalf("parse pymacaroons token: %v", err)
	}
	check := exactChecker("repo=github.com/llm-secrets/llms", "op=exec")
	if err := m.Verify(rootKey, check); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := m.Verify(rootKey, exactChecker("op=exec")); err == nil {
		t.Fatal("verified with a caveat unsatisfied")
	}
	if err := m.Verify(randomBytes(t, 32), check); err == nil {
		t.Fatal("verified with the wrong root key")
	}
}

// TestPymacaroonsThirdPartyRefused: a macaroon pymacaroons makes with a
// third-party caveat does not parse.
func TestPymacaroonsThirdPartyRefused(t *testing.T) {
	requirePymacaroons(t)
	token, _ := pyMint(t, []map[string]any{
		{"first_party": "op=exec"},
		{"third_party": map[string]string{"key": hex.EncodeToString(randomBytes(t, 32)), "id": "tp-py", "location": "https://auth.example/"}},
	})
	if _, err := Parse(token); err == nil || !strings.Contains(err.Error(), "caveat 1: third-party caveat") {
		t.Fatalf("Parse: %v, want the third-party caveat refused", err)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}
