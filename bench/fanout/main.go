//go:build ignore

// Command fanout starts N copies of a command at once and waits for all of
// them: an agent's parallel test suite, each test running `llms exec`.
// It prints how many failed (with the first lines of their stderr, one of
// each distinct kind) and the wall time each took from start to exit:
// p50, p99, max. bench/agent-concurrent.sh runs it inside agent mode.
//
//	go build -o fanout bench/fanout/main.go
//	fanout 1000 llms exec --inject X=k -- true
//
// The build tag keeps it out of `go list ./...`; build it by file name.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: fanout N CMD [ARG...]")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "fanout: N must be a positive number")
		os.Exit(2)
	}
	argv := os.Args[2:]
	took := make([]time.Duration, n)
	errs := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stderr bytes.Buffer
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stderr = &stderr
			<-start
			t0 := time.Now()
			err := cmd.Run()
			took[i] = time.Since(t0)
			if err != nil {
				line, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
				errs[i] = fmt.Sprintf("%v: %s", err, line)
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	failed := map[string]int{}
	total := 0
	for _, e := range errs {
		if e != "" {
			failed[e]++
			total++
		}
	}
	for e, c := range failed {
		fmt.Printf("failed %d×: %s\n", c, e)
	}
	slices.Sort(took)
	ms := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 1, 64) }
	fmt.Printf("fanout: %d started, %d failed, wall %s ms, each p50 %s ms, p99 %s ms, max %s ms\n",
		n, total, ms(wall), ms(took[n/2]), ms(took[n*99/100]), ms(took[n-1]))
}
