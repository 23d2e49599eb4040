package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/cli"
)

// llmsBin returns a path named "llms" that runs this test binary as the
// CLI (testscript.Main dispatches on the program name), with llms-mcp
// beside it as `llms mcp` looks for it. They are hard links, not symbolic
// ones: llms finds llms-mcp in the directory of its own executable, which
// the kernel reports with symbolic links resolved.
func llmsBin(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"llms", cli.MCPServerName} {
		if err := linkOrCopy(self, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "llms")
}

// linkOrCopy hard-links from at to, or copies it where the two are on
// different file systems.
func linkOrCopy(from, to string) error {
	if os.Link(from, to) == nil {
		return nil
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// llmsEnv is a minimal environment for a store at dir.
func llmsEnv(dir string) []string {
	return []string{"LLM_SECRETS_DIR=" + dir, "PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(dir),
		"LLMS_TEST_PROCROOT=" + filepath.Join(filepath.Dir(dir), ".proc"),
		// A race-enabled llms otherwise sleeps a second at every exit.
		"GORACE=atexit_sleep_ms=0"}
}

// run runs the CLI and returns stdout, stderr and the exit status.
func run(t testing.TB, bin string, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func mustRun(t testing.TB, bin string, env []string, stdin string, args ...string) string {
	t.Helper()
	out, errs, code := run(t, bin, env, stdin, args...)
	if code != 0 {
		t.Fatalf("llms %v: exit %d: %s", args, code, errs)
	}
	return out
}
