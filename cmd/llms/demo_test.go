package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// TestDemo runs `make demo`'s script with this binary: the store, exec and
// delegation, and agent mode — the identity file refused to the agent, its
// llms exec served — and no value on its output.
func TestDemo(t *testing.T) {
	t.Parallel()
	if sandbox.ABI() == 0 {
		t.Skip("agent mode needs a kernel with Landlock")
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "demo.sh"), llmsBin(t))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "GORACE=atexit_sleep_ms=0"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"agent used STRIPE_KEY",
		"--- agent mode",
		"identity.txt: Permission denied",
		"in the agent, the child sees: [REDACTED:STRIPE_KEY]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo does not show %q:\n%s", want, text)
		}
	}
	if v := regexp.MustCompile(`sk_live_demo_[0-9a-f]|db-demo-[0-9a-f]|AGE-SECRET-KEY`).FindString(text); v != "" {
		t.Errorf("the demo shows a value (%s…):\n%s", v, text)
	}
}
