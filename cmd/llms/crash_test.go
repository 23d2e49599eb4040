package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/store"
)

// TestCrashSafety kills `llms set` and `llms delete` with SIGKILL at random
// moments and checks, after every kill, that the store opens and every
// secret holds its old or its new value (or, for delete, is gone or old).
// CRASH_TRIALS sets the number of kills (bench/crash.sh runs thousands).
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	trials := 300
	if s := os.Getenv("CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("CRASH_TRIALS: %v", err)
		}
		trials = n
	}
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")

	const keys = 4
	// current[k] is the value k must have; pending[k] the one a killed
	// writer may or may not have installed ("" for a delete).
	current := map[string]string{}
	for k := range keys {
		name := fmt.Sprintf("K%d", k)
		current[name] = "initial-" + name
		mustRun(t, bin, env, current[name], "set", "--stdin", name)
	}

	// Calibrate: how long one set takes, so kills land across its life.
	start := time.Now()
	mustRun(t, bin, env, current["K0"], "set", "--stdin", "K0")
	span := time.Since(start)

	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	var killedMidway, finished int
	for i := range trials {
		name := fmt.Sprintf("K%d", rng.IntN(keys))
		var args []string
		newValue := ""
		if rng.IntN(4) == 0 && current[name] != "" {
			args = []string{"delete", "--force", name}
		} else {
			newValue = fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", rng.IntN(3000)))
			args = []string{"set", "--stdin", name}
		}
		if current[name] == "" && newValue == "" {
			continue
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(newValue)
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
			t.Fatalf("trial %d: llms %v: %v", i, args, err)
		}

		s, err := store.Open(dir)
		if err != nil {
			t.Fatalf("trial %d: store does not open after kill: %v", i, err)
		}
		for k := range keys {
			n := fmt.Sprintf("K%d", k)
			got, err := s.Read(n)
			switch {
			case errors.Is(err, store.ErrNotFound):
				if current[n] != "" && !(n == name && newValue == "") {
					t.Fatalf("trial %d: %s vanished", i, n)
				}
				current[n] = ""
			case err != nil:
				t.Fatalf("trial %d: %s unreadable after kill: %v", i, n, err)
			case string(got) == current[n]:
			case n == name && string(got) == newValue && newValue != "":
				current[n] = newValue
			default:
				t.Fatalf("trial %d: %s holds neither its old nor its new value", i, n)
			}
		}
	}
	t.Logf("%d trials: %d killed mid-run, %d finished before the kill", trials, killedMidway, finished)
	if trials >= 50 && (killedMidway == 0 || finished == 0) {
		t.Fatalf("kills did not spread over the run: %d killed, %d finished", killedMidway, finished)
	}
}
