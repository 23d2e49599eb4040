package sandbox

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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

// BenchmarkConnect: a connect(2) from a confined program, unmediated (the
// filter of a broker's child) and through the supervisor (the agent's):
// to a TCP server on the loopback the launcher allows (as the proxy's), to
// one the program serves itself (sock_diag, then the tree's descriptors),
// to a Unix socket the launcher allows (as
// the broker's), and to a Unix socket the program serves itself (the
// supervisor then asks sock_diag and reads the tree's descriptors).
// ns/connect is one socket, connect and close, as the program measured.
func BenchmarkConnect(b *testing.B) {
	if ABI() == 0 {
		b.Skip("no Landlock")
	}
	dir := b.TempDir()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	allowed := filepath.Join(dir, "allowed.sock")
	ul, err := net.Listen("unix", allowed)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range []net.Listener{tcp, ul} {
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	bin, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, kind, addr string }{
		{"tcp", "tcp", tcp.Addr().String()}, {"tcp-own", "owntcp", "127.0.0.1:0"},
		{"unix-allowed", "unix", allowed}, {"unix-own", "own", filepath.Join(dir, "own.sock")},
	} {
		for _, supervised := range []bool{false, true} {
			name := c.name + "/direct"
			if supervised {
				name = c.name + "/supervised"
			}
			b.Run(name, func(b *testing.B) {
				os.Remove(filepath.Join(dir, "own.sock"))
				r, err := BuildFor(Spec{Read: []string{"/"}, Write: []string{dir}, Supervised: supervised}, ABI())
				if err != nil {
					b.Fatal(err)
				}
				w, err := Wrap(r, bin, bin, bin, []string{bin, "connectloop", fmt.Sprintf("%d,%s,%s", b.N, c.kind, c.addr)})
				if err != nil {
					b.Fatal(err)
				}
				var out bytes.Buffer
				cmd := &exec.Cmd{Path: w.Path, Args: w.Args, ExtraFiles: w.ExtraFiles(), Stdout: &out, Stderr: os.Stderr,
					Env: []string{probeEnv + "=1", "GORACE=atexit_sleep_ms=0"}}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				w.Close()
				if supervised {
					sup, err := NewSupervisor(r, []string{allowed})
					if err == nil {
						sup.AllowTCP(tcp.Addr().(*net.TCPAddr).AddrPort()) // as the proxy's
						err = sup.Start(w)
					}
					if err != nil {
						cmd.Process.Kill()
						b.Fatal(err)
					}
					defer sup.Close()
				}
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
				for line := range strings.Lines(out.String()) {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ns "); ok {
						ns, _ := strconv.Atoi(v)
						b.ReportMetric(float64(ns), "ns/connect")
						return
					}
				}
				b.Fatalf("the program failed: %s", out.String())
			})
		}
	}
}
