package agentid

import (
	"os"
	"testing"
)

// Markers alone (no /proc to walk): the cost of the environment checks.
func BenchmarkDetectEnvMarker(b *testing.B) {
	env := envOf(map[string]string{"CLAUDECODE": "1"})
	for b.Loop() {
		if _, ok := Detect(env, "/nonexistent", 1); !ok {
			b.Fatal("not detected")
		}
	}
}

// The real process tree, walked on every request whatever the markers say.
func BenchmarkDetectRealProcessTree(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("no /proc")
	}
	pid := os.Getpid()
	for b.Loop() {
		Detect(noEnv, "/proc", pid)
	}
}
