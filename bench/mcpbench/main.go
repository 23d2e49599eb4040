//go:build ignore

// Command mcpbench measures `llms mcp` over stdio as an MCP host sees it:
// it starts the server with the Go SDK's CommandTransport, initializes,
// and times N sequential tools/call round trips of each measured call,
// after a warm-up. It prints one line per call with p50, p90, p99 and max
// in milliseconds, and writes the raw latencies as JSON.
//
//	go run bench/mcpbench/main.go -llms bin/llms -n 1000 -out bench/out/mcp.json
//
// The server inherits this process's environment: LLM_SECRETS_DIR and
// LLM_SECRETS_MACAROON_FILE say which store and which token (bench/mcp.sh
// makes both). The token must allow secret k and the programs run.
//
// The build tag keeps it out of `go list ./...` (and the import graph
// internal/archtest pins); run it by file name.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type measured struct {
	Name string         `json:"name"`
	Tool string         `json:"tool"`
	Args map[string]any `json:"args"`
	MS   []float64      `json:"ms"`
}

func main() {
	llms := flag.String("llms", "bin/llms", "the llms binary")
	n := flag.Int("n", 1000, "sequential calls per measured call")
	warmup := flag.Int("warmup", 50, "calls before timing")
	out := flag.String("out", "", "write the latencies here as JSON")
	flag.Parse()

	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpbench", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: exec.Command(*llms, "mcp")}, nil)
	if err != nil {
		fail("connect: %v", err)
	}
	defer cs.Close()

	runs := []*measured{
		{Name: "run_with_secrets true", Tool: "run_with_secrets", Args: map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "k"}}},
		{Name: "list_secrets", Tool: "list_secrets", Args: map[string]any{}},
	}
	for _, m := range runs {
		for i := 0; i < *warmup+*n; i++ {
			start := time.Now()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: m.Tool, Arguments: m.Args})
			elapsed := time.Since(start)
			if err != nil {
				fail("%s: %v", m.Name, err)
			}
			if res.IsError {
				b, _ := json.Marshal(res.Content)
				fail("%s: tool error %s", m.Name, b)
			}
			if i >= *warmup {
				m.MS = append(m.MS, float64(elapsed.Nanoseconds())/1e6)
			}
		}
		s := slices.Sorted(slices.Values(m.MS))
		fmt.Printf("%-24s n=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f ms\n", m.Name, len(s), pct(s, 50), pct(s, 90), pct(s, 99), s[len(s)-1])
	}
	if *out != "" {
		b, _ := json.Marshal(runs)
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fail("%v", err)
		}
	}
}

// pct is the nearest-rank percentile of sorted s.
func pct(s []float64, p int) float64 {
	i := (len(s)*p+99)/100 - 1
	return s[max(i, 0)]
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mcpbench: "+format+"\n", args...)
	os.Exit(2)
}
