//go:build ignore

// Command scangen writes the data bench/scan.sh scans: random secret values,
// one per line (for `llms set` and `grep -F -f`), and a text file of log and
// transcript lines of a given size in which some of those values are
// planted, raw, base64-encoded and JSON-escaped. Or, with -git, a `git
// fast-import` stream of a history of many commits with one value planted
// in an old commit and removed in the next. Everything goes to the paths
// given: the bench makes them in a temporary directory.
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	n := flag.Int("n", 100, "number of secret values")
	size := flag.Int64("size", 1<<30, "bytes of text to write")
	planted := flag.Int("planted", 10, "values planted in the text (each in three forms)")
	patterns := flag.String("patterns", "", "write the values here, one per line")
	out := flag.String("out", "", "write the text here")
	commits := flag.Int("git", 0, "instead of text, write a fast-import stream of this many commits to -out")
	flag.Parse()
	if *patterns == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: scangen -patterns FILE -out FILE [-n 100] [-size BYTES] [-git COMMITS]")
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]string, *n)
	pf := create(*patterns)
	for i := range values {
		values[i] = value(rng)
		fmt.Fprintln(pf, values[i])
	}
	closeFile(pf)
	w := create(*out)
	if *commits > 0 {
		history(w.Writer, rng, *commits, values[0])
	} else {
		text(w.Writer, rng, *size, values, *planted)
	}
	closeFile(w)
}

var words = []string{"GET", "POST", "handled", "request", "user", "error", "warning:", "ok",
	"PASS", "FAIL", "compiling", "package", "main.go:42:", "func", "return", "nil", "the",
	"connection", "timeout", "retrying", "in", "ms", "status=200", `{"id":`, `"name":`,
	"/usr/local/lib", "./internal/broker", "--verbose", "=>", "Downloading", "100%"}

// value is a secret of 24 to 48 printable characters, like an API key.
func value(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 24+rng.IntN(25))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return "sk_" + string(b)
}

func line(w *bufio.Writer, rng *rand.Rand) int {
	n, _ := fmt.Fprintf(w, "2026-%02d-%02dT%02d:%02d:%02dZ INFO ", 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60))
	for range 4 + rng.IntN(10) {
		var k int
		switch rng.IntN(6) {
		case 0:
			k, _ = fmt.Fprintf(w, "%016x ", rng.Uint64())
		case 1:
			k, _ = fmt.Fprintf(w, "%d ", rng.IntN(100000))
		default:
			k, _ = w.WriteString(words[rng.IntN(len(words))] + " ")
		}
		n += k
	}
	w.WriteByte('\n')
	return n + 1
}

func text(w *bufio.Writer, rng *rand.Rand, size int64, values []string, planted int) {
	at := make(map[int64]string) // plant a value after the line that crosses each offset
	for i := range planted {
		v := values[i%len(values)]
		at[rng.Int64N(size)] = v
	}
	var written int64
	for written < size {
		before := written
		written += int64(line(w, rng))
		for off, v := range at {
			if before <= off && off < written {
				k, _ := fmt.Fprintf(w, "key=%s auth=%s {\"text\":%s}\n", v,
					base64.StdEncoding.EncodeToString([]byte("user:"+v)), strconv.Quote(v))
				written += int64(k)
				delete(at, off)
			}
		}
	}
}

// history writes commits that each change one of 200 files; commit 1000
// adds the value to one of them and commit 1001 takes it out again.
func history(w *bufio.Writer, rng *rand.Rand, commits int, v string) {
	for c := 1; c <= commits; c++ {
		var body []byte
		for range 20 + rng.IntN(40) {
			body = fmt.Appendf(body, "%s %016x %d\n", words[rng.IntN(len(words))], rng.Uint64(), rng.IntN(1000))
		}
		if c == 1000 {
			body = fmt.Appendf(body, "API_KEY=%s\n", v)
		}
		path := fmt.Sprintf("src/pkg%02d/file%03d.txt", rng.IntN(20), rng.IntN(200))
		if c == 1000 || c == 1001 {
			path = "config/prod.env"
		}
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\ndata 8\ncommit %d\n", 1700000000+c, c%10)
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", path, len(body), body)
	}
}

// output is a buffered file that exits the program when it cannot be
// written.
type output struct {
	*bufio.Writer
	f *os.File
}

func create(path string) output {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scangen:", err)
		os.Exit(2)
	}
	return output{bufio.NewWriterSize(f, 1<<20), f}
}

func closeFile(o output) {
	err := o.Flush()
	if err == nil {
		err = o.f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scangen:", err)
		os.Exit(2)
	}
}
