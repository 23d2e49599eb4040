package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/store"
)

// TestImportCrashSafety kills `llms import` with SIGKILL at random moments
// and checks, after every kill, that the import happened whole or not at
// all: every entry of the file holds its new value, or every one holds what
// it held before (an older value, or nothing). Half the names exist before
// the first import, so the batch both adds and replaces.
func TestImportCrashSafety(t *testing.T) {
	t.Parallel()
	const entries, trials = 60, 30
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	current := map[string]string{}
	for i := range entries / 2 {
		name := fmt.Sprintf("IMP_%03d", i)
		current[name] = "before-" + name
		mustRun(t, bin, env, current[name], "set", "--stdin", name)
	}
	envFile := filepath.Join(t.TempDir(), "batch.env")
	write := func(trial int) map[string]string {
		next := map[string]string{}
		var b strings.Builder
		for i := range entries {
			name := fmt.Sprintf("IMP_%03d", i)
			next[name] = fmt.Sprintf("trial-%d-%s-%s", trial, name, strings.Repeat("v", i%7*100))
			fmt.Fprintf(&b, "%s=%s\n", name, next[name])
		}
		if err := os.WriteFile(envFile, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return next
	}

	// Calibrate: how long one import takes, so kills land across its life.
	next := write(-1)
	start := time.Now()
	mustRun(t, bin, env, "", "import", envFile)
	span := time.Since(start)
	current = next

	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	var killedMidway, finished int
	for trial := range trials {
		next := write(trial)
		cmd := exec.Command(bin, "import", envFile)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(span) * 3 / 2)))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
			killedMidway++
		} else if err == nil {
			finished++
		} else {
			t.Fatalf("trial %d: llms import: %v", trial, err)
		}

		s, err := store.Open(dir)
		if err != nil {
			t.Fatalf("trial %d: store does not open after kill: %v", trial, err)
		}
		var asBefore, asNew []string
		for name := range next {
			got, err := s.Read(name)
			switch {
			case err == nil && string(got) == next[name]:
				asNew = append(asNew, name)
			case err == nil && string(got) == current[name],
				errors.Is(err, store.ErrNotFound) && current[name] == "":
				asBefore = append(asBefore, name)
			default:
				t.Fatalf("trial %d: %s holds neither its old nor its new value (%v)", trial, name, err)
			}
		}
		if len(asBefore) > 0 && len(asNew) > 0 {
			t.Fatalf("trial %d: the import is half done: %d entries new, %d as before (e.g. %s)", trial, len(asNew), len(asBefore), asBefore[0])
		}
		if len(asNew) > 0 {
			current = next
		}
	}
	t.Logf("%d trials: %d killed mid-run, %d finished before the kill", trials, killedMidway, finished)
	if killedMidway == 0 || finished == 0 {
		t.Fatalf("kills did not spread over the run: %d killed, %d finished", killedMidway, finished)
	}
}
