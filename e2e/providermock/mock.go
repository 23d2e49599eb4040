// Package providermock is a scripted model behind the streaming APIs the
// agent CLIs call — Anthropic's Messages API (Claude Code) and OpenAI's
// Responses API (Codex) — for the end-to-end stage. It listens on
// 127.0.0.1 only. It drives the agent's tools through a list of steps, one
// tool call per turn, records each tool's result, and checks every request
// body it receives for a list of forbidden strings (a secret's every form).
//
// It owns the two wire formats as far as the clients read them, and
// nothing else: it does not judge what a result means (the test does, with
// each step's Expect), and it refuses to listen anywhere but loopback.
package providermock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// A Step is one tool call the model makes.
type Step struct {
	Name string
	// Shell is a command for the client's own shell tool (Claude Code's
	// Bash, Codex's exec_command); otherwise MCPTool is a tool of the MCP
	// server named MCPServer, called with MCPInput.
	Shell     string
	MCPServer string
	MCPTool   string
	MCPInput  map[string]any
	// Expect must match the tool's result, as the client sends it back:
	// a step the client refused or skipped fails.
	Expect *regexp.Regexp
	// Attack: the command is meant to fail. Any other must succeed.
	Attack bool
}

// A Result is what came back for one step.
type Result struct {
	Step   Step
	Ran    bool
	Output string
}

// Server is one scripted conversation per provider path.
type Server struct {
	steps     []Step
	forbidden []string
	ln        net.Listener
	srv       *http.Server

	mu       sync.Mutex
	offered  []string // the tools the agent's loop last offered
	outputs  map[int]string
	requests int
	leaks    []string
	final    bool
}

// Start listens on a free loopback port.
func Start(steps []Step, forbidden []string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{steps: steps, forbidden: forbidden, ln: ln, outputs: map[int]string{}}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Results says, step by step, whether the tool ran and what it returned.
func (s *Server) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Result, len(s.steps))
	for i, st := range s.steps {
		o, ran := s.outputs[i]
		out[i] = Result{Step: st, Ran: ran, Output: o}
	}
	return out
}

// Finished says whether the model was asked for its last turn, after
// every step's result.
func (s *Server) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final
}

// Offered lists the tools the agent's last request offered the model (a
// namespace's as NAMESPACE.TOOL): what a step that never ran could call.
func (s *Server) Offered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.offered...)
}

func (s *Server) offer(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offered = names
}

// Requests counts the model requests received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Leaks lists the requests that held a forbidden string, and which form.
func (s *Server) Leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.leaks...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.check(r.URL.Path, body)
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v1/messages"):
		s.anthropic(w, body)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/v1/responses"):
		s.openai(w, body)
	case r.Method == http.MethodHead || r.Method == http.MethodGet:
		w.WriteHeader(http.StatusOK) // reachability probes
	default:
		http.Error(w, "not part of the script", http.StatusNotFound)
	}
}

// check looks for every forbidden string in the body: as sent, in the
// text of its JSON strings, and in that text without blanks (a base64 or
// hex dump wrapped across lines).
func (s *Server) check(path string, body []byte) {
	var doc any
	views := []string{string(body)}
	if json.Unmarshal(body, &doc) == nil {
		var b strings.Builder
		collect(doc, &b)
		text := b.String()
		views = append(views, text, strings.Join(strings.Fields(text), ""), strings.ToLower(strings.Join(strings.Fields(text), "")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	for _, f := range s.forbidden {
		for _, v := range views {
			if strings.Contains(v, f) {
				s.leaks = append(s.leaks, fmt.Sprintf("request %d to %s holds the form %q…", s.requests, path, f[:min(len(f), 6)]))
				break
			}
		}
	}
}

func collect(v any, b *strings.Builder) {
	switch v := v.(type) {
	case string:
		b.WriteString(v)
		b.WriteByte('\n')
	case []any:
		for _, x := range v {
			collect(x, b)
		}
	case map[string]any:
		for k, x := range v {
			b.WriteString(k)
			b.WriteByte('\n')
			collect(x, b)
		}
	}
}

// next records the results the request carries (by the tool call ids the
// mock gave, "call_N") and returns the step to take now: the first one
// without a result, or -1 when all have one.
func (s *Server) next(results map[string]string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, out := range results {
		var i int
		if _, err := fmt.Sscanf(id, "call_%d", &i); err == nil && i >= 0 && i < len(s.steps) {
			s.outputs[i] = out
		}
	}
	for i := range s.steps {
		if _, ok := s.outputs[i]; !ok {
			return i
		}
	}
	s.final = true
	return -1
}

// sse writes one server-sent event.
func sse(w io.Writer, event string, data any) {
	b, _ := json.Marshal(data)
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

func streamHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
}

// textOf flattens a tool result's content: a string, or blocks of text.
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var b bytes.Buffer
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					b.WriteString(t)
				}
			}
		}
		return b.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
