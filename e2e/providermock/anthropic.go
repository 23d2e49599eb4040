package providermock

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// anthropicRequest is what the mock reads of a Messages API request.
type anthropicRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

// anthropic answers a Messages API request. The agent's own loop is the
// request that offers the Bash tool; any other (a title, a summary) gets
// a short text.
func (s *Server) anthropic(w http.ResponseWriter, body []byte) {
	var req anthropicRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	agentLoop := false
	var names []string
	for _, t := range req.Tools {
		agentLoop = agentLoop || t.Name == "Bash"
		names = append(names, t.Name)
	}
	if !agentLoop {
		s.anthropicReply(w, req, nil, "ok")
		return
	}
	s.offer(names)
	results := map[string]string{}
	for _, m := range req.Messages {
		var blocks []map[string]any
		if json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		for _, b := range blocks {
			if b["type"] == "tool_result" {
				id, _ := b["tool_use_id"].(string)
				results[id] = textOf(b["content"])
			}
		}
	}
	i := s.next(results)
	if i < 0 {
		s.anthropicReply(w, req, nil, "done")
		return
	}
	st := s.steps[i]
	name, input := "Bash", map[string]any{"command": st.Shell, "description": st.Name}
	if st.Shell == "" {
		name, input = "mcp__"+st.MCPServer+"__"+st.MCPTool, st.MCPInput
	}
	s.anthropicReply(w, req, &toolUse{ID: fmt.Sprintf("call_%d", i), Name: name, Input: input}, "")
}

type toolUse struct {
	ID    string
	Name  string
	Input map[string]any
}

func (s *Server) anthropicReply(w http.ResponseWriter, req anthropicRequest, tool *toolUse, text string) {
	stop := "end_turn"
	if tool != nil {
		stop = "tool_use"
	}
	usage := map[string]int{"input_tokens": 1, "output_tokens": 1}
	if !req.Stream {
		content := []any{map[string]any{"type": "text", "text": text}}
		if tool != nil {
			content = []any{map[string]any{"type": "tool_use", "id": tool.ID, "name": tool.Name, "input": tool.Input}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "msg_mock", "type": "message", "role": "assistant", "model": req.Model,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage})
		return
	}
	streamHeaders(w)
	sse(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_mock", "type": "message",
		"role": "assistant", "model": req.Model, "content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": usage}})
	if tool != nil {
		args, _ := json.Marshal(tool.Input)
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": tool.ID, "name": tool.Name, "input": map[string]any{}}})
		sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": string(args)}})
	} else {
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": text}})
	}
	sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	sse(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": 1}})
	sse(w, "message_stop", map[string]any{"type": "message_stop"})
}
