package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
)

// TestMemberChangeCrashSafety kills `llms member add` and `member remove`
// of a 1,000-secret shared store with SIGKILL at random moments. After
// every kill, before anything recovers, each secret file must open with
// the identity both sets share (alice's) and hold its value; then the
// next command finishes the change, after which bob opens every file
// exactly when recipients.txt names him. MEMBER_CRASH_TRIALS (default 2)
// sets the number of kills; bench/member-crash.sh runs 200.
func TestMemberChangeCrashSafety(t *testing.T) {
	t.Parallel()
	const secrets = 1000
	trials := 2
	if v := os.Getenv("MEMBER_CRASH_TRIALS"); v != "" {
		// A typo must not run zero kills and pass.
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MEMBER_CRASH_TRIALS=%q: want a count of at least 1", v)
		}
		trials = n
	}
	bin := llmsBin(t)
	work := t.TempDir()
	shared := filepath.Join(work, "repo", "team")
	if out, err := exec.Command("git", "init", "-q", filepath.Join(work, "repo")).CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	aliceEnv := append(llmsEnv(filepath.Join(work, "alice")), "LLM_SECRETS_STORE="+shared, "USER=alice")
	bobEnv := llmsEnv(filepath.Join(work, "bob"))
	mustRun(t, bin, bobEnv, "", "init")
	bobRecip := strings.TrimSpace(mustRun(t, bin, bobEnv, "", "recipient"))
	mustRun(t, bin, aliceEnv, "", "init", "--shared", shared)
	var env bytes.Buffer
	for i := range secrets {
		fmt.Fprintf(&env, "K%04d=member-crash-value-%04d\n", i, i)
	}
	envFile := filepath.Join(work, "all.env")
	if err := os.WriteFile(envFile, env.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, bin, aliceEnv, "", "import", envFile)
	alice, bob := identity(t, filepath.Join(work, "alice")), identity(t, filepath.Join(work, "bob"))

	start := time.Now()
	mustRun(t, bin, aliceEnv, "", "member", "add", "bob", bobRecip)
	span := time.Since(start)
	mustRun(t, bin, aliceEnv, "", "member", "remove", "bob")

	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	member, interrupted := false, 0
	for trial := range trials {
		args := []string{"member", "add", "bob", bobRecip}
		if member {
			args = []string{"member", "remove", "bob"}
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = aliceEnv
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(span))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
		if err != nil && !killed {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if killed {
			interrupted++
		}
		for i := range secrets {
			name := fmt.Sprintf("K%04d", i)
			v, err := decryptFile(filepath.Join(shared, "secrets", name+".age"), alice)
			if err != nil || v != fmt.Sprintf("member-crash-value-%04d", i) {
				t.Fatalf("trial %d: %s does not open with the identity both sets share after a kill: %v", trial, name, err)
			}
		}
		// Any command finishes an interrupted change first.
		list := mustRun(t, bin, aliceEnv, "", "member", "list")
		member = strings.Contains(list, "  bob ")
		for i := range secrets {
			_, err := decryptFile(filepath.Join(shared, "secrets", fmt.Sprintf("K%04d.age", i)), bob)
			if (err == nil) != member {
				t.Fatalf("trial %d: bob a member: %v, yet K%04d opens with his identity: %v", trial, member, i, err == nil)
			}
		}
	}
	t.Logf("%d kills of member changes on %d secrets (a change takes %v); every file stayed readable", interrupted, secrets, span.Round(time.Millisecond))
}

func identity(t *testing.T, dataDir string) age.Identity {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func decryptFile(path string, id age.Identity) (string, error) {
	ct, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		return "", err
	}
	v, err := io.ReadAll(r)
	return string(v), err
}
