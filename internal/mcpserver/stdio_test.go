package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// FuzzFilterLines: whatever the client sends, the filter never panics,
// passes on only single JSON-RPC 2.0 messages, one per line, and answers
// every other non-blank line with exactly one JSON-RPC error.
func FuzzFilterLines(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n",
		"not json\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n",
		`[{"jsonrpc":"2.0","id":1,"method":"a"}]` + "\n" + `{"jsonrpc":"1.0","id":1,"method":"a"}`,
		"\xff\xfe\n\n   \n{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"a\"}",
		`{"jsonrpc":"2.0","id":"x","result":{}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var pass, reply bytes.Buffer
		if err := filterLines(strings.NewReader(in), &pass, &reply); err != nil {
			t.Fatalf("filterLines: %v", err)
		}
		passed := bytes.Count(pass.Bytes(), []byte("\n"))
		sc := bufio.NewScanner(bytes.NewReader(pass.Bytes()))
		sc.Buffer(nil, MaxLine+2)
		for sc.Scan() {
			if _, err := jsonrpc.DecodeMessage(sc.Bytes()); err != nil || !json.Valid(sc.Bytes()) {
				t.Fatalf("passed on %q: %v", sc.Bytes(), err)
			}
		}
		nonBlank := 0
		for _, line := range strings.Split(in, "\n") {
			if strings.TrimSpace(line) != "" {
				nonBlank++
			}
		}
		answered := bytes.Count(reply.Bytes(), []byte("\n"))
		if answered+passed != nonBlank {
			t.Fatalf("%d lines, %d passed on and %d answered", nonBlank, passed, answered)
		}
		for _, line := range strings.Split(strings.TrimSpace(reply.String()), "\n") {
			if line != "" && !strings.Contains(line, `"id":null,"error"`) {
				t.Fatalf("answer %q", line)
			}
		}
	})
}
