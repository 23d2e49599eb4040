package providermock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var steps = []Step{
	{Name: "shell", Shell: "printenv X", Expect: regexp.MustCompile(`ok`)},
	{Name: "mcp", MCPServer: "llms", MCPTool: "run_with_secrets", MCPInput: map[string]any{"argv": []string{"true"}}, Expect: regexp.MustCompile(`ok`)},
}

func post(t *testing.T, url string, body any) []map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var e map[string]any
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("an event that is not JSON: %s", data)
			}
			events = append(events, e)
		}
	}
	return events
}

// The Anthropic conversation: one tool_use per turn, in order, each result
// recorded by its call id, then the last turn.
func TestAnthropicScript(t *testing.T) {
	s, err := Start(steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := s.URL() + "/v1/messages?beta=true"
	tools := []map[string]any{{"name": "Bash"}, {"name": "mcp__llms__run_with_secrets"}}
	msgs := []any{map[string]any{"role": "user", "content": "go"}}
	for i, want := range []string{"Bash", "mcp__llms__run_with_secrets"} {
		events := post(t, url, map[string]any{"model": "m", "stream": true, "messages": msgs, "tools": tools})
		var block map[string]any
		for _, e := range events {
			if e["type"] == "content_block_start" {
				block = e["content_block"].(map[string]any)
			}
		}
		if block == nil || block["type"] != "tool_use" || block["name"] != want {
			t.Fatalf("turn %d: %v", i, events)
		}
		msgs = append(msgs, map[string]any{"role": "user", "content": []any{map[string]any{"type": "tool_result",
			"tool_use_id": block["id"], "content": []any{map[string]any{"type": "text", "text": "ok " + want}}}}})
	}
	post(t, url, map[string]any{"model": "m", "stream": true, "messages": msgs, "tools": tools})
	if !s.Finished() {
		t.Error("the last turn was not reached")
	}
	for _, r := range s.Results() {
		if !r.Ran || !strings.HasPrefix(r.Output, "ok ") {
			t.Errorf("%s: %+v", r.Step.Name, r)
		}
	}
	// A request that is not the agent's loop (no Bash) is not a step.
	post(t, url, map[string]any{"model": "haiku", "stream": true, "messages": msgs[:1]})
	if s.Requests() != 4 || len(s.Leaks()) != 0 {
		t.Errorf("requests %d, leaks %v", s.Requests(), s.Leaks())
	}
}

// The Responses conversation: exec_command, then the MCP tool in its
// namespace.
func TestOpenAIScript(t *testing.T) {
	s, err := Start(steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := s.URL() + "/v1/responses"
	tools := []map[string]any{{"type": "function", "name": "exec_command"},
		{"type": "namespace", "name": "mcp__llms", "tools": []any{map[string]any{"name": "run_with_secrets"}}}}
	input := []any{map[string]any{"type": "message", "role": "user"}}
	for i, want := range []string{"exec_command", "run_with_secrets"} {
		var item map[string]any
		for _, e := range post(t, url, map[string]any{"model": "m", "input": input, "tools": tools}) {
			if e["type"] == "response.output_item.done" {
				item = e["item"].(map[string]any)
			}
		}
		if item == nil || item["type"] != "function_call" || item["name"] != want {
			t.Fatalf("turn %d: %v", i, item)
		}
		if want == "run_with_secrets" && item["namespace"] != "mcp__llms" {
			t.Errorf("namespace %v", item["namespace"])
		}
		input = append(input, item, map[string]any{"type": "function_call_output", "call_id": item["call_id"], "output": "ok"})
	}
	post(t, url, map[string]any{"model": "m", "input": input, "tools": tools})
	if !s.Finished() || !s.Results()[1].Ran {
		t.Errorf("finished %v, results %+v", s.Finished(), s.Results())
	}
	if got := strings.Join(s.Offered(), ","); got != "exec_command,mcp__llms.run_with_secrets" {
		t.Errorf("offered %s", got)
	}
}

// A forbidden string is found as sent, inside JSON escapes, and wrapped
// across lines; the report does not repeat it.
func TestLeaks(t *testing.T) {
	const secret = "c2VjcmV0LWNhbmFyeS12YWx1ZQ"
	for _, body := range []string{
		`{"messages":[{"content":"` + secret + `"}]}`,
		`{"messages":[{"content":"\u0063` + secret[1:] + `"}]}`,
		`{"input":[{"output":"` + secret[:10] + `\n   ` + secret[10:] + `"}]}`,
	} {
		s, err := Start(nil, []string{secret})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(s.URL()+"/v1/messages", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		leaks := s.Leaks()
		s.Close()
		if len(leaks) != 1 || strings.Contains(leaks[0], secret) {
			t.Errorf("%s: leaks %q", body, leaks)
		}
	}
}

// Start listens on loopback only.
func TestLoopbackOnly(t *testing.T) {
	s, err := Start(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("listening on %s", s.URL())
	}
}
