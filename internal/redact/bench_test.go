package redact

import (
	"bytes"
	"encoding/base64"
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

// benchWrite masks output in writes of chunk bytes, a new stream each
// loop.
func benchWrite(b *testing.B, r *Redactor, output []byte, chunk int) {
	defer perCPUSecond(b, len(output))()
	for b.Loop() {
		w := r.NewWriter(io.Discard)
		writeChunks(b, w, output, chunk)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStream feeds output to w in writes of chunk bytes, once each loop,
// as one long stream, and closes it.
func benchStream(b *testing.B, w io.WriteCloser, output []byte, chunk int) {
	defer perCPUSecond(b, len(output))()
	for b.Loop() {
		writeChunks(b, w, output, chunk)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func writeChunks(b *testing.B, w io.Writer, output []byte, chunk int) {
	for p := output; len(p) > 0; {
		n := min(chunk, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			b.Fatal(err)
		}
		p = p[n:]
	}
}

// perCPUSecond sets the benchmark's bytes per loop and returns the
// function that reports them per CPU second of this goroutine's thread,
// which other processes on a shared machine do not inflate.
func perCPUSecond(b *testing.B, size int) (report func()) {
	b.SetBytes(int64(size))
	runtime.LockOSThread()
	cpu0 := threadCPU()
	return func() {
		b.ReportMetric(float64(b.N)*float64(size)/(threadCPU()-cpu0)/1e6, "MB/cpu-s")
		runtime.UnlockOSThread()
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

// The benchmarks of bench/cat.sh and bench/scan.sh, on the data those
// scripts make: base64 text in 76-column lines (what `exec -- cat` of a
// big file reads), and log lines with values like API keys (what `llms
// scan` reads).

// benchBase64Secrets returns n values of 16 to 64 base64 characters, as
// bench/cat.sh sets them.
func benchBase64Secrets(rng *rand.Rand, n int) []Secret {
	secrets := make([]Secret, n)
	for i := range secrets {
		raw := make([]byte, 48)
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		v := []byte(base64.StdEncoding.EncodeToString(raw))[:16+(i+1)*48/n]
		secrets[i] = Secret{Name: fmt.Sprintf("X%02d", i+1), Value: v}
	}
	return secrets
}

// benchKeySecrets returns n values like API keys, as bench/scangen makes
// them.
func benchKeySecrets(rng *rand.Rand, n int) []Secret {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	secrets := make([]Secret, n)
	for i := range secrets {
		v := []byte("sk_")
		for range 24 + rng.IntN(25) {
			v = append(v, alphabet[rng.IntN(len(alphabet))])
		}
		secrets[i] = Secret{Name: fmt.Sprintf("SECRET_%d", i+1), Value: v}
	}
	return secrets
}

// benchBase64Text returns benchOutputSize bytes of random base64 in
// 76-column lines, as `base64 -w 76` prints it.
func benchBase64Text(rng *rand.Rand) []byte {
	raw := make([]byte, benchOutputSize/77*57+57)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	var out bytes.Buffer
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 0 {
		n := min(76, len(enc))
		out.WriteString(enc[:n])
		out.WriteByte('\n')
		enc = enc[n:]
	}
	return out.Bytes()[:benchOutputSize]
}

// BenchmarkWriterBase64 is bench/cat.sh's `exec -- cat`: 20 secrets, base64
// text, read from the runner's 1 MiB pipe in 1 MiB writes, as one long
// stream.
func BenchmarkWriterBase64(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := New(benchBase64Secrets(rng, 20))
	benchStream(b, r.NewWriter(io.Discard), benchBase64Text(rng), 1<<20)
}

// newBenchFinder returns a Finder that fails on any finding: the
// benchmarks' text holds none.
func newBenchFinder(r *Redactor) *Finder {
	return r.NewFinder(func(m Found) error { return fmt.Errorf("found %s at %d", m.Secret, m.Start) })
}

// BenchmarkFinderLog is bench/scan.sh: 100 key-like values, log lines, in
// the scan's 256 KiB reads.
func BenchmarkFinderLog(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	r := New(benchKeySecrets(rng, 100))
	benchStream(b, newBenchFinder(r), benchOutput(rng, nil, false), 256<<10)
}

// BenchmarkFinderBase64 is the same search over random base64 text.
func BenchmarkFinderBase64(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	r := New(benchKeySecrets(rng, 100))
	benchStream(b, newBenchFinder(r), benchBase64Text(rng), 256<<10)
}
