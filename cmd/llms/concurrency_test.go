package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentAccessAudit runs 32 llms processes at once — exec and set
// interleaved — and checks the audit log afterwards: exactly one line per
// access, the chain verifies, and no line is torn or interleaved.
func TestConcurrentAccessAudit(t *testing.T) {
	t.Parallel()
	bin := llmsBin(t)
	dir := filepath.Join(t.TempDir(), "store")
	env := llmsEnv(dir)
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, "concurrency-canary-value", "set", "--stdin", "K")

	const procs = 32
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cmd *exec.Cmd
			if i%2 == 0 {
				cmd = exec.Command(bin, "exec", "-i", "K", "--", "true")
			} else {
				cmd = exec.Command(bin, "set", "--stdin", fmt.Sprintf("S%02d", i))
				cmd.Stdin = strings.NewReader(fmt.Sprintf("value-%02d-xyz", i))
			}
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process %d: %v: %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	out := mustRun(t, bin, env, "", "audit", "verify")
	// init writes nothing; the first set is line 1, then one line each.
	if want := fmt.Sprintf("ok: %d lines, chain intact\n", 1+procs); out != want {
		t.Fatalf("audit verify = %q, want %q", out, want)
	}
	f, err := os.Open(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, `{"time":`) || !strings.HasSuffix(line, `"}`) || strings.Count(line, `"mac":`) != 1 {
			t.Fatalf("torn or interleaved line: %.80s…", line)
		}
		for _, ev := range []string{"exec", "set"} {
			if strings.Contains(line, `"event":"`+ev+`"`) {
				events[ev]++
			}
		}
	}
	if events["exec"] != procs/2 || events["set"] != procs/2+1 {
		t.Fatalf("events = %v, want %d exec and %d set", events, procs/2, procs/2+1)
	}
}
