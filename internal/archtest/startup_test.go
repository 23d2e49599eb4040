package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start-up guards, coarse enough for a loaded 2-CPU machine: they catch a
// heavy dependency or initialiser coming back (the MCP SDK doubled every
// start), not a few per cent. bench/version.sh and bench/exec.sh measure
// the targets themselves (docs/PERFORMANCE.md).
//
// Page faults are the main cost of a short Go process on the VMs we
// measure on and do not depend on load, so they carry the guard; CPU time
// is load-sensitive and gets a wide bound.
const (
	// llms --version vs a static hello-world: 1.6x the page faults
	// (2.7x with the MCP SDK linked), 1.6-1.9x the CPU.
	maxVersionFaults = 2.2
	maxVersionCPU    = 4.0
	// llms exec -i X=k -- true vs sh -c 'X=$(age -d …) exec true': about
	// 1.0x the CPU of the one-liner (target 0.8x of its wall time).
	maxExecCPU = 2.0
	guardRuns  = 21
)

func TestStartupGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds llms")
	}
	dir := t.TempDir()
	llms := filepath.Join(dir, "llms")
	build(t, ".", "-o", llms, module+"cmd/llms")
	hello := filepath.Join(dir, "hello.go")
	if err := os.WriteFile(hello, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	build(t, dir, "-o", filepath.Join(dir, "hello"), hello)

	v := cost(t, dir, nil, llms, "--version")
	h := cost(t, dir, nil, filepath.Join(dir, "hello"))
	t.Logf("llms --version: %d page faults, %v CPU; hello-world: %d, %v", v.faults, v.cpu, h.faults, h.cpu)
	check(t, "llms --version vs hello-world, page faults", float64(v.faults)/float64(h.faults), maxVersionFaults)
	check(t, "llms --version vs hello-world, CPU", float64(v.cpu)/float64(h.cpu), maxVersionCPU)

	if _, err := exec.LookPath("age"); err != nil {
		t.Log("no age: the exec guard is skipped")
		return
	}
	store := filepath.Join(dir, "store")
	env := append(os.Environ(), "LLM_SECRETS_DIR="+store, "HOME="+dir)
	// Under an AI agent (its marker in the environment, or one among the
	// test's ancestors) set and exec refuse without a token (exit 3).
	for _, args := range [][]string{{"init"}, {"set", "--stdin", "k"}, {"exec", "-i", "X=k", "--", "true"}} {
		cmd := exec.Command(llms, args...)
		cmd.Dir, cmd.Env = dir, env
		cmd.Stdin = strings.NewReader("guard_0123456789abcdef0123456789\n")
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3 {
			t.Logf("llms %v refuses here, an agent is detected around the test: the exec guard is skipped: %s", args, out)
			return
		}
		if err != nil {
			t.Fatalf("llms %v: %v\n%s", args, err, out)
		}
	}
	e := cost(t, store, env, llms, "exec", "-i", "X=k", "--", "true")
	a := cost(t, store, env, "sh", "-c", `X=$(age -d -i identity.txt secrets/k.age) exec true`)
	t.Logf("llms exec: %d page faults, %v CPU; sh+age: %d, %v", e.faults, e.cpu, a.faults, a.cpu)
	check(t, "llms exec vs sh+age, CPU", float64(e.cpu)/float64(a.cpu), maxExecCPU)
}

func build(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build", "-trimpath"}, args...)...)
	cmd.Dir = dir
	// GO111MODULE=off lets the hello-world build outside the module.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if dir != "." {
		cmd.Env = append(cmd.Env, "GO111MODULE=off")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}

type startCost struct {
	faults int64
	cpu    time.Duration
}

// cost is the median page faults and CPU time (user and system, the
// process and what it waited for) of guardRuns runs of argv.
func cost(t *testing.T, dir string, env []string, argv ...string) startCost {
	t.Helper()
	var faults []int64
	var cpus []time.Duration
	for range guardRuns {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		faults = append(faults, ru.Minflt+ru.Majflt)
		cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	slices.Sort(faults)
	slices.Sort(cpus)
	return startCost{faults[guardRuns/2], cpus[guardRuns/2]}
}

func check(t *testing.T, what string, ratio, limit float64) {
	t.Helper()
	if ratio > limit {
		t.Errorf("%s: %.2fx, over the guard's %.1fx (see docs/PERFORMANCE.md, bench/)", what, ratio, limit)
	}
}
