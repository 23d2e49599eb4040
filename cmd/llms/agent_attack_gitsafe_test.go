package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// The "gitsafe" phase of the attack agent: what the human's own llms does
// with what the agent leaves behind, and what the agent can do in the
// shared places of the machine.
//
//   - The human's commands, from inside: every command for the human alone
//     is refused with one sentence and exit status 3, before the store is
//     touched, also with $LLM_SECRETS_SOCKET removed.
//   - A core.fsmonitor planted in the working tree's .git/config, which the
//     human's `llms scan --git` must not run (checked by the test after the
//     session).

const envAttackMarks = "ATTACK_MARKS_DIR"

// humanOnlyCommands are llms commands for the human alone, each as the
// agent would try it (stdin "x\n").
var humanOnlyCommands = [][]string{
	{"macaroon", "mint", "--secret", "K", "--ttl", "5m"},
	{"session-start", "--ttl", "1h"},
	{"revoke-all"},
	{"revoke", "0123456789abcdef"},
	{"set", "--stdin", "K"},
	{"delete", "K"},
	{"init"},
	{"import", "/dev/null"},
	{"lease", "K", "--ttl", "5m"},
	{"leases"},
	{"session-info"},
	{"audit"},
	{"audit", "verify"},
	{"requests"},
	{"policy", "check", "--key", "K"},
	{"macaroon", "verify", "--macaroon", "x"},
	{"profile", "mint", "p"},
	{"profile", "exec", "p", "--", "true"},
	{"migrate", "--yes"},
	{"scan", "."},
	{"setup", "claude"},
}

func attackGitsafe(report func(string, bool, string), llms, store, work string) int {
	for _, args := range humanOnlyCommands {
		name := "human-only-" + strings.Join(args[:min(2, len(args))], "-")
		for _, unset := range []bool{false, true} {
			env := append(os.Environ(), "LLM_SECRETS_DIR="+store)
			if unset {
				name += "-no-socket-variable"
				env = dropEnv(env, "LLM_SECRETS_SOCKET")
			}
			cmd := exec.Command(llms, args...)
			cmd.Env, cmd.Stdin = env, strings.NewReader("x\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			clean := len(lines) == 1 && strings.Contains(lines[0], "is for the human")
			report(name, err == nil, fmt.Sprintf("exit %d, one sentence: %v: %s", cmd.ProcessState.ExitCode(), clean, firstLineOf(stderr.String())))
		}
	}

	// A program the human's git would run, planted in the tree's config.
	marks := os.Getenv(envAttackMarks)
	hook := filepath.Join(work, ".git", "fsmonitor-hook")
	err := os.WriteFile(hook, []byte("#!/bin/sh\n: > "+filepath.Join(marks, "fsmonitor")+"\n"), 0o755)
	if err == nil {
		cmd := exec.Command("git", "config", "core.fsmonitor", hook)
		cmd.Dir = work
		err = cmd.Run()
	}
	report("plant-core.fsmonitor", err == nil, errnoDetail(err))
	return 0
}

func dropEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func errnoDetail(err error) string {
	if err == nil {
		return "succeeded"
	}
	return err.Error()
}

// expectedGitsafe is each attempt's required outcome, and a part of its
// detail that says it failed for the right reason.
func expectedGitsafe() map[string][2]string {
	want := map[string][2]string{
		"plant-core.fsmonitor": {"allowed", ""},
	}
	for _, args := range humanOnlyCommands {
		name := "human-only-" + strings.Join(args[:min(2, len(args))], "-")
		want[name] = [2]string{"refused", "exit 3, one sentence: true"}
		want[name+"-no-socket-variable"] = [2]string{"refused", "exit 3, one sentence: true"}
	}
	return want
}

// TestAgentModeAttacksGitsafe launches `llms agent` around the attack agent
// in its "gitsafe" phase, checks every attempt, then runs the human's
// `llms scan --git` in the tree the agent wrote.
func TestAgentModeAttacksGitsafe(t *testing.T) {
	if sandbox.ABI() == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs a kernel with Landlock for agent mode")
		}
		t.Skip("no Landlock on this kernel")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "gitsafe-canary-" + hex.EncodeToString(raw)

	root := t.TempDir()
	home, store, work, marks := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj"), filepath.Join(root, "marks")
	for _, d := range []string{home, work, marks} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	bin := llmsBin(t)
	agent := filepath.Join(filepath.Dir(bin), attackAgentName)
	self, _ := os.Executable()
	if err := os.Symlink(self, agent); err != nil {
		t.Fatal(err)
	}
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"), "GIT_CONFIG_NOSYSTEM=1",
		envAttackStore + "=" + store, envAttackHome + "=" + home, envAttackLLMS + "=" + bin, envAttackWork + "=" + work,
		envAttackMarks + "=" + marks, envAttackPhase + "=gitsafe"}
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	git := exec.Command("git", "init", "-q", "-b", "main")
	git.Dir, git.Env = work, env
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(work, "notes.txt"), []byte("nothing secret\n"), 0o600)

	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "agent", "--agent", "claude-code", "--secret", "K", "--ttl", "10m", "--cmd", "sh", "--", agent)
	cmd.Env, cmd.Dir = env, work
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms agent: %v\nstderr: %s", err, errb.String())
	}
	t.Logf("llms agent -- attackagent (gitsafe): %v", time.Since(start).Round(time.Millisecond))
	checkAttempts(t, out.String(), expectedGitsafe())

	// The human scans the tree the agent wrote: the planted fsmonitor does
	// not run.
	scan := exec.Command(bin, "scan", "--git")
	scan.Dir, scan.Env = work, env
	if o, err := scan.CombinedOutput(); err != nil {
		t.Errorf("llms scan --git: %v\n%s", err, o)
	}
	if _, err := os.Stat(filepath.Join(marks, "fsmonitor")); err == nil {
		t.Error("the human's llms scan --git ran the fsmonitor the agent planted")
	}
	if strings.Contains(out.String()+errb.String(), canary) {
		t.Error("the canary appears in the output")
	}
}

// checkAttempts checks the attack agent's ATTEMPT lines against want, and
// logs one line per attempt.
func checkAttempts(t *testing.T, out string, want map[string][2]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		name, got, detail := f[1], f[2], ""
		if len(f) == 4 {
			detail = f[3]
		}
		w, known := want[name]
		mark := "ok  "
		if !known || got != w[0] || !strings.Contains(detail, w[1]) {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s %s", name, got, detail, w[0], w[1])
		}
		seen[name] = true
		t.Logf("%s %-48s %-8s %s", mark, name, got, detail)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("attempt %s was not made", name)
		}
	}
}
