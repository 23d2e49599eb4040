package agentid

import (
	"os"
	"testing"
)

// The common case: an agent marker, no /proc read at all.
func BenchmarkDetectEnvMarker(b *testing.B) {
	env := envOf(map[string]string{"CLAUDECODE": "1"})
	for b.Loop() {
		if _, ok := Detect(env, "/nonexistent", 1); !ok {
			b.Fatal("not detected")
		}
	}
}

// The slow case: no marker, so the whole real process tree is walked.
func BenchmarkDetectRealProcessTree(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("no /proc")
	}
	pid := os.Getpid()
	for b.Loop() {
		Detect(noEnv, "/proc", pid)
	}
}
