package providermock

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// openaiRequest is what the mock reads of a Responses API request.
type openaiRequest struct {
	Model string           `json:"model"`
	Input []map[string]any `json:"input"`
	Tools []map[string]any `json:"tools"`
}

// openai answers a Responses API request. The agent's own loop is the
// request that offers the exec_command tool; any other gets a short text.
func (s *Server) openai(w http.ResponseWriter, body []byte) {
	var req openaiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	agentLoop := false
	var names []string
	for _, t := range req.Tools {
		agentLoop = agentLoop || t["name"] == "exec_command"
		name, _ := t["name"].(string)
		inner, _ := t["tools"].([]any)
		if len(inner) == 0 {
			names = append(names, name)
		}
		for _, it := range inner {
			if m, ok := it.(map[string]any); ok {
				names = append(names, fmt.Sprintf("%s.%v", name, m["name"]))
			}
		}
	}
	var item map[string]any
	if agentLoop {
		s.offer(names)
		results := map[string]string{}
		for _, it := range req.Input {
			if it["type"] == "function_call_output" {
				id, _ := it["call_id"].(string)
				results[id] = textOf(it["output"])
			}
		}
		if i := s.next(results); i >= 0 {
			item = s.openaiCall(i)
		}
	}
	if item == nil {
		text := "ok"
		if agentLoop {
			text = "done"
		}
		item = map[string]any{"type": "message", "role": "assistant", "id": "msg_mock",
			"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}}
	}
	streamHeaders(w)
	sse(w, "response.created", map[string]any{"type": "response.created", "response": map[string]any{"id": "resp_mock"}})
	sse(w, "response.output_item.added", map[string]any{"type": "response.output_item.added", "output_index": 0, "item": item})
	sse(w, "response.output_item.done", map[string]any{"type": "response.output_item.done", "output_index": 0, "item": item})
	sse(w, "response.completed", map[string]any{"type": "response.completed", "response": map[string]any{"id": "resp_mock",
		"usage": map[string]any{"input_tokens": 1, "input_tokens_details": nil, "output_tokens": 1,
			"output_tokens_details": nil, "total_tokens": 2}}})
}

// openaiCall is step i as a function call: exec_command for the shell, the
// MCP server's tool in its namespace (mcp__SERVER) otherwise.
func (s *Server) openaiCall(i int) map[string]any {
	st := s.steps[i]
	call := map[string]any{"type": "function_call", "id": fmt.Sprintf("fc_%d", i), "call_id": fmt.Sprintf("call_%d", i)}
	var args any = map[string]any{"cmd": st.Shell}
	if st.Shell == "" {
		call["namespace"] = "mcp__" + st.MCPServer
		call["name"] = st.MCPTool
		args = st.MCPInput
	} else {
		call["name"] = "exec_command"
	}
	b, _ := json.Marshal(args)
	call["arguments"] = string(b)
	return call
}
