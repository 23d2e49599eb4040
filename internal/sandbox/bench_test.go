package sandbox

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// benchSpec is agent mode's rule set for this machine's home directory.
func benchSpec(b *testing.B) Spec {
	home, err := os.UserHomeDir()
	if err != nil {
		b.Skip("no home directory")
	}
	work := b.TempDir()
	s, err := AgentSpec(AgentOptions{Homes: []string{home}, DataDir: filepath.Join(home, ".local", "share", "llm-secrets"),
		Workdir: work, TempDir: os.TempDir(), Agent: "claude-code"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBuild: compiling the rule set, once per `llms agent`.
func BenchmarkBuild(b *testing.B) {
	if ABI() == 0 {
		b.Skip("no Landlock")
	}
	s := benchSpec(b)
	var n int
	for b.Loop() {
		r, err := Build(s)
		if err != nil {
			b.Fatal(err)
		}
		n = len(r.Rules)
	}
	b.ReportMetric(float64(n), "rules")
}

// BenchmarkRestrict: confining one thread with the prepared rule set,
// what the broker pays for each child it starts (the thread is then
// discarded; BenchmarkThread is that part alone).
func BenchmarkRestrict(b *testing.B) {
	if ABI() == 0 {
		b.Skip("no Landlock")
	}
	r, err := Build(benchSpec(b))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Prepare(r)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for b.Loop() {
		done := make(chan error)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			done <- p.Restrict()
		}()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThread: a goroutine on a locked thread that is then discarded,
// the part of BenchmarkRestrict that is not confinement.
func BenchmarkThread(b *testing.B) {
	for b.Loop() {
		done := make(chan error)
		go func() {
			runtime.LockOSThread()
			done <- nil
		}()
		<-done
	}
}
