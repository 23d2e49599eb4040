package runner

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// writerOnly hides every method but Write, as the redacting writer Run is
// given in production would: no ReadFrom shortcut to the file beneath.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// BenchmarkRunCat pushes a 256 MiB file through cat: with cat's stdout
// directly on /dev/null ("direct"), through a pipe into a second cat on
// /dev/null ("pipe", the cost of reading the output at all), and through
// Run and a plain writer on /dev/null ("run"). Compare run with both:
//
//	go test -run '^$' -bench RunCat -count 6 ./internal/runner
func BenchmarkRunCat(b *testing.B) {
	const size = 256 << 20
	cat, err := exec.LookPath("cat")
	if err != nil {
		b.Skip("no cat")
	}
	input := filepath.Join(b.TempDir(), "input")
	f, err := os.Create(input)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for range size / len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()

	b.Run("direct", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			cmd := exec.Command(cat, input)
			cmd.Stdout = devNull
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipe", func(b *testing.B) {
		// The floor for any program that reads cat's output: cat | cat.
		b.SetBytes(size)
		for b.Loop() {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			producer := exec.Command(cat, input)
			producer.Stdout = w
			consumer := exec.Command(cat)
			consumer.Stdin, consumer.Stdout = r, devNull
			if err := producer.Start(); err != nil {
				b.Fatal(err)
			}
			if err := consumer.Start(); err != nil {
				b.Fatal(err)
			}
			w.Close()
			r.Close()
			if err := producer.Wait(); err != nil {
				b.Fatal(err)
			}
			if err := consumer.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		b.SetBytes(size)
		spec := Spec{Path: cat, Args: []string{"cat", input}, Stdout: writerOnly{devNull}, Stderr: writerOnly{devNull}}
		for b.Loop() {
			if code, err := Run(context.Background(), spec); err != nil || code != 0 {
				b.Fatalf("code %d, err %v", code, err)
			}
		}
	})
}
