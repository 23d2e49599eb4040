package macaroon

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
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
	Token      string   `json:"token"`
	RootKey    string   `json:"root_key"`
	Satisfy    []string `json:"satisfy"`
	Discharges []string `json:"discharges"`
}

// TestPymacaroonsVerifiesOurs mints and attenuates with our code, with fresh
// random ids and nonces, and has pymacaroons verify the result.
func TestPymacaroonsVerifiesOurs(t *testing.T) {
	requirePymacaroons(t)
	rootKey, caveatKey, id := randomBytes(t, 32), randomBytes(t, 32), randomBytes(t, 20)
	m, err := New(rootKey, id, "llms")
	if err != nil {
		t.Fatal(err)
	}
	conds := []string{"secret=DB_PASSWORD", "expires_at=2030-01-01T00:00:00Z", "op=exec"}
	for _, c := range conds {
		if m, err = m.AddFirstPartyCaveat([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if m, err = m.AddThirdPartyCaveat(caveatKey, []byte("tp-random"), "https://auth.example/"); err != nil {
		t.Fatal(err)
	}
	d, err := New(caveatKey, []byte("tp-random"), "https://auth.example/")
	if err != nil {
		t.Fatal(err)
	}
	if d, err = d.AddFirstPartyCaveat([]byte("who=alice")); err != nil {
		t.Fatal(err)
	}
	bound := m.Bind(d)
	all := slices.Concat(conds, []string{"who=alice"})

	req := pyVerifyRequest{m.Text(), hex.EncodeToString(rootKey), all, []string{bound.Text()}}
	if code, out := runPython(t, req, "verify"); code != 0 {
		t.Fatalf("pymacaroons refused our macaroon: %s", out)
	}
	// The same request with one caveat unsatisfied must be refused, or the
	// check above proves nothing.
	req.Satisfy = all[1:]
	if code, _ := runPython(t, req, "verify"); code != 1 {
		t.Fatal("pymacaroons accepted a macaroon with an unsatisfied caveat")
	}
	req.Satisfy = all
	req.Discharges = []string{d.Text()} // not bound
	if code, _ := runPython(t, req, "verify"); code != 1 {
		t.Fatal("pymacaroons accepted an unbound discharge")
	}
}

// TestOursVerifiesPymacaroons has pymacaroons mint a macaroon with a
// third-party caveat and random nonce, and verifies it with our code.
func TestOursVerifiesPymacaroons(t *testing.T) {
	requirePymacaroons(t)
	rootKey, caveatKey := randomBytes(t, 32), randomBytes(t, 32)
	desc := map[string]any{
		"root_key": hex.EncodeToString(rootKey),
		"id":       hex.EncodeToString(randomBytes(t, 20)),
		"location": "https://llms.example/",
		"caveats": []map[string]any{
			{"first_party": "repo=github.com/llm-secrets/llms"},
			{"third_party": map[string]string{"key": hex.EncodeToString(caveatKey), "id": "tp-py", "location": "https://auth.example/"}},
			{"first_party": "op=exec"},
		},
		"discharges": []map[string]any{
			{"key": hex.EncodeToString(caveatKey), "id": "tp-py", "location": "https://auth.example/", "caveats": []string{"who=bob"}},
		},
	}
	code, out := runPython(t, desc, "mint")
	if code != 0 {
		t.Fatalf("mint failed: %s", out)
	}
	var minted struct {
		Token      string   `json:"token"`
		Discharges []string `json:"discharges"`
	}
	if err := json.Unmarshal([]byte(out), &minted); err != nil {
		t.Fatal(err)
	}
	m, err := Parse(minted.Token)
	if err != nil {
		t.Fatalf("parse pymacaroons token: %v", err)
	}
	if len(minted.Discharges) != 1 {
		t.Fatalf("got %d discharges, want 1", len(minted.Discharges))
	}
	d, err := Parse(minted.Discharges[0])
	if err != nil {
		t.Fatalf("parse pymacaroons discharge: %v", err)
	}
	check := exactChecker("repo=github.com/llm-secrets/llms", "op=exec", "who=bob")
	if err := m.Verify(rootKey, check, d); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := m.Verify(rootKey, exactChecker("op=exec", "who=bob"), d); err == nil {
		t.Fatal("verified with a caveat unsatisfied")
	}
	if err := m.Verify(caveatKey, check, d); err == nil {
		t.Fatal("verified with the wrong root key")
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}
