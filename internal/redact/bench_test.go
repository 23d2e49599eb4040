package redact

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// The benchmarks mask 1 MiB of program output with 50 secrets of 16 to 64
// random printable bytes, that is 50 values × all their encodings:
//
//	go test -run '^$' -bench BenchmarkWriter -count 5 ./internal/redact/

const benchOutputSize = 1 << 20

func benchSecrets(rng *rand.Rand) []Secret {
	secrets := make([]Secret, 50)
	for i := range secrets {
		v := make([]byte, 16+rng.IntN(49))
		for j := range v {
			v[j] = byte(' ' + 1 + rng.IntN(94)) // printable, no space
		}
		secrets[i] = Secret{Name: fmt.Sprintf("SECRET_%d", i), Value: v}
	}
	return secrets
}

// benchLogLine returns a line of the sort builds, tests and servers print:
// words, paths, numbers, hex ids and key=value pairs.
func benchLogLine(rng *rand.Rand) []byte {
	words := []string{"GET", "POST", "handled", "request", "user", "error", "warning:", "ok",
		"PASS", "FAIL", "compiling", "package", "main.go:42:", "func", "return", "nil", "the",
		"connection", "timeout", "retrying", "in", "ms", "status=200", "{\"id\":", "\"name\":",
		"/usr/local/lib", "./internal/broker", "--verbose", "=>", "Downloading", "100%"}
	var b bytes.Buffer
	fmt.Fprintf(&b, "2025-%02d-%02dT%02d:%02d:%02d.%03dZ INFO ", 1+rng.IntN(12), 1+rng.IntN(28),
		rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000))
	for range 4 + rng.IntN(10) {
		switch rng.IntN(6) {
		case 0:
			fmt.Fprintf(&b, "%016x ", rng.Uint64())
		case 1:
			fmt.Fprintf(&b, "%d ", rng.IntN(100000))
		default:
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// benchOutput returns about benchOutputSize bytes of log lines. If dense,
// every line also carries one encoding of one of the secrets.
func benchOutput(rng *rand.Rand, secrets []Secret, dense bool) []byte {
	var out []byte
	for len(out) < benchOutputSize {
		line := benchLogLine(rng)
		if dense {
			f := forms(secrets[rng.IntN(len(secrets))].Value)
			at := rng.IntN(len(line))
			line = append(line[:at:at], append(f[rng.IntN(len(f))].text, line[at:]...)...)
		}
		out = append(out, line...)
	}
	return out
}

// benchWrite masks output in writes of chunk bytes.
func benchWrite(b *testing.B, r *Redactor, output []byte, chunk int) {
	b.SetBytes(int64(len(output)))
	// The machine may be shared: report the throughput per CPU second of
	// this goroutine's thread, which other processes do not inflate.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	defer func() {
		b.ReportMetric(float64(b.N)*float64(len(output))/(threadCPU()-cpu0)/1e6, "MB/cpu-s")
	}()
	for b.Loop() {
		w := r.NewWriter(io.Discard)
		for p := output; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := w.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSetup(b *testing.B, dense bool) (*Redactor, []byte) {
	rng := rand.New(rand.NewPCG(3, 4))
	secrets := benchSecrets(rng)
	r := New(secrets)
	output := benchOutput(rng, secrets, dense)
	var masked bytes.Buffer
	w := r.NewWriter(&masked)
	if _, err := w.Write(output); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if replaced := bytes.Count(masked.Bytes(), []byte("[REDACTED:")); dense != (replaced > 0) {
		b.Fatalf("dense=%v but %d replacements", dense, replaced)
	}
	return r, output
}

// BenchmarkWriterText is the common case: output with no secrets in it,
// read from a pipe 32 KiB at a time.
func BenchmarkWriterText(b *testing.B) {
	r, output := benchSetup(b, false)
	benchWrite(b, r, output, 32<<10)
}

// BenchmarkWriterLines is interactive output: one Write per line.
func BenchmarkWriterLines(b *testing.B) {
	r, output := benchSetup(b, false)
	benchWrite(b, r, output, 80)
}

// BenchmarkWriterDense has a secret to mask on every line, about every 100 bytes.
func BenchmarkWriterDense(b *testing.B) {
	r, output := benchSetup(b, true)
	benchWrite(b, r, output, 32<<10)
}

func BenchmarkNew(b *testing.B) {
	secrets := benchSecrets(rand.New(rand.NewPCG(3, 4)))
	for b.Loop() {
		New(secrets)
	}
}

// threadCPU returns the CPU time, user and system, of the calling thread in
// seconds.
func threadCPU() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &u); err != nil {
		panic(err)
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}
