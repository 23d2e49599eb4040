package mcpserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The tools in process, over the SDK's in-memory transport: the server's
// own cost per call, without the pipe and the process boundary that
// bench/mcp.sh measures.
func benchmarkTool(b *testing.B, name string, args func(*fixture) map[string]any) {
	f := newFixture(b)
	tok := f.mint(time.Hour, map[string][]string{"secret": {"A"}})
	cs := f.connect(tok)
	a := args(f)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: a})
		if err != nil || res.IsError {
			b.Fatalf("%s: %v %v", name, err, text(res))
		}
	}
}

func BenchmarkListSecrets(b *testing.B) {
	benchmarkTool(b, "list_secrets", func(*fixture) map[string]any { return map[string]any{} })
}

func BenchmarkRunTrue(b *testing.B) {
	benchmarkTool(b, "run_with_secrets", func(*fixture) map[string]any {
		return map[string]any{"argv": []string{"true"}, "inject": map[string]string{"X": "A"}}
	})
}
