package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/llm-secrets/llms/internal/broker"
)

// Instructions tell the model how to use the tools.
const Instructions = `llms lets you USE secrets (API keys, passwords) without ever seeing them.
No tool returns a secret value, and none ever will: do not ask for one.

- list_secrets: the secret names your token allows and that exist.
- describe_access: what your token permits (secrets, operations, programs, repository, branch, expiry).
- run_with_secrets: run a command (an argv array, no shell) with secrets injected as environment
  variables, e.g. {"argv": ["psql", "-h", "db"], "inject": {"PGPASSWORD": "DB_PASSWORD"}}.
  Its output comes back with every secret value replaced by [REDACTED:NAME].
  To use a secret in a shell pipeline, run ["sh", "-c", "... \"$VAR\" ..."] if your token allows sh.
  For an HTTP API, bind the secret to its host instead: {"argv": ["curl", "-H", ...], "http":
  {"API_KEY": "OPENAI_KEY@api.openai.com"}} gives the command a placeholder in API_KEY that a proxy
  replaces with the value only in requests to that host; the command never holds the value.
- peek_secret: a short prefix, the length and a fingerprint, to tell which value is stored.
- request_secret: when a secret you need does not exist, ask the human for it. The human stores the
  value from their own terminal with the command the tool returns; never ask them to paste it into the chat.
- audit_recent: what your token did, allowed and denied.

A refusal says why (token scope, expiry, policy). Tell the human the command it suggests; do not
try to work around it.`

// Limits on one call.
const (
	MaxArgs           = 1024
	MaxArgvBytes      = 128 << 10
	MaxInjections     = 64
	DefaultTimeout    = 60
	MaxTimeout        = 600
	DefaultMaxOutput  = 64 << 10
	MaxOutputCap      = 1 << 20
	defaultAuditLimit = 20
)

// New builds the server.
func New(cfg Config) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "llms", Title: "llm-secrets", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: Instructions,
		Logger:       slog.New(slog.DiscardHandler),
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	t := &tools{cfg}
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)}
	addTool(s, &mcp.Tool{Name: "list_secrets", Title: "List secrets",
		Description: "The names of the secrets your token allows that exist in the store. Never values.",
		Annotations: readOnly}, t.list)
	addTool(s, &mcp.Tool{Name: "describe_access", Title: "Describe access",
		Description: "What your delegated token permits: secrets, operations, programs, repository, branch, agent, expiry and time left.",
		Annotations: readOnly}, t.describe)
	addTool(s, &mcp.Tool{Name: "peek_secret", Title: "Peek at a secret",
		Description: "A bounded mask of one secret: at most 4 leading characters (none for values under 12 bytes), its length and a keyed fingerprint. Never the value.",
		Annotations: readOnly}, t.peek)
	addTool(s, &mcp.Tool{Name: "run_with_secrets", Title: "Run a command with secrets",
		Description: "Runs argv (no shell) with the named secrets injected as environment variables (inject: VAR -> SECRET), " +
			"or bound to an HTTP host (http: VAR -> SECRET@HOST[:PORT]: VAR holds a placeholder that a proxy replaces with the value only in requests to HOST). " +
			"Returns the exit code and the output with every secret value, and its base64, hex and URL-encoded forms, replaced by [REDACTED:NAME]. " +
			"cwd must be inside the repository (or working directory) the server runs in; stdin is empty; the command is killed after timeout_seconds.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(true), OpenWorldHint: new(true)},
		InputSchema: runInputSchema()}, t.run)
	addTool(s, &mcp.Tool{Name: "request_secret", Title: "Ask the human for a secret",
		Description: "Records that you need a secret that does not exist yet, and why; returns the command the human runs " +
			"in their own terminal to store it. The value never passes through this conversation.",
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: new(false)}}, t.request)
	addTool(s, &mcp.Tool{Name: "audit_recent", Title: "Recent audit entries",
		Description: "The last audit entries recorded under your token (allowed and denied), oldest first.",
		Annotations: readOnly}, t.audit)
	return s
}

// addTool registers a typed handler that never panics and that refuses,
// before reaching the broker, when the server holds no token.
func addTool[In, Out any](s *mcp.Server, tool *mcp.Tool, h func(context.Context, In) (Out, error)) {
	if tool.InputSchema == nil {
		tool.InputSchema = schemaFor[In](nil)
	}
	tool.OutputSchema = schemaFor[Out](nil)
	mcp.AddTool(s, tool, func(ctx context.Context, _ *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, out Out, err error) {
		defer func() {
			if r := recover(); r != nil {
				var zero Out
				// The panic's value is not shown: it could hold anything.
				res, out, err = nil, zero, fmt.Errorf("internal error in %s; the server keeps serving", tool.Name)
			}
		}()
		out, err = h(ctx, in)
		if err != nil {
			var zero Out
			return nil, zero, toolError(err)
		}
		return nil, out, nil
	})
}

// toolError makes a broker error readable for the model: denials keep
// their reason; nothing else is added.
func toolError(err error) error {
	switch {
	case errors.Is(err, broker.ErrCommandNotFound), errors.Is(err, broker.ErrCommandNotExecutable):
		return fmt.Errorf("cannot run the command: %v", err)
	}
	return err
}

type tools struct{ Config }

type noInput struct{}

// ListOutput is list_secrets' result.
type ListOutput struct {
	Secrets []string `json:"secrets" jsonschema:"secret names, sorted; never values"`
}

func (t *tools) list(ctx context.Context, _ noInput) (ListOutput, error) {
	res, err := t.Broker.List(t.Caller(), broker.ListRequest{})
	names := make([]string, len(res.Entries))
	for i, e := range res.Entries {
		names[i] = e.Name
	}
	return ListOutput{Secrets: names}, err
}

// DescribeOutput is describe_access' result.
type DescribeOutput struct {
	TokenID  string   `json:"token_id" jsonschema:"the token's id, as audit lines and revocation name it"`
	Secrets  []string `json:"secrets" jsonschema:"secrets the token allows (they may not all exist yet)"`
	Ops      []string `json:"ops" jsonschema:"operations allowed: exec, peek, list"`
	Programs []string `json:"programs" jsonschema:"programs run_with_secrets may start (a base name, or a full path); empty means any"`
	Repos    []string `json:"repos" jsonschema:"repositories the token works in; empty means any"`
	Branches []string `json:"branches" jsonschema:"branches the token works on; empty means any"`
	Agents   []string `json:"agents" jsonschema:"agents that may use the token; empty means any"`
	Who      []string `json:"who" jsonschema:"git user emails the token works for; empty means any"`
	Expires  string   `json:"expires" jsonschema:"expiry, RFC 3339 UTC"`
	// TimeLeftSeconds is 0 once the token expired.
	TimeLeftSeconds int64    `json:"time_left_seconds" jsonschema:"seconds until the token expires"`
	Caveats         []string `json:"caveats" jsonschema:"every restriction as written in the token; all must hold"`
	HTTP            []string `json:"http" jsonschema:"bindings of your launch, VAR=SECRET@HOST:PORT: VAR holds a placeholder that the proxy replaces with the value only in requests to HOST:PORT"`
}

func (t *tools) describe(ctx context.Context, _ noInput) (DescribeOutput, error) {
	acc, err := t.Broker.DescribeAccess(t.Caller())
	if err != nil {
		return DescribeOutput{}, err
	}
	out := DescribeOutput{TokenID: acc.TokenID,
		Secrets: nonNil(acc.Scope["secret"]), Ops: nonNil(acc.Scope["op"]), Programs: nonNil(acc.Scope["cmd"]),
		Repos: nonNil(acc.Scope["repo"]), Branches: nonNil(acc.Scope["branch"]), Agents: nonNil(acc.Scope["agent"]),
		Who: nonNil(acc.Scope["who"]), Expires: acc.Expires.UTC().Format(time.RFC3339),
		TimeLeftSeconds: int64(acc.TimeLeft / time.Second), Caveats: []string{}, HTTP: nonNil(t.HTTP)}
	if _, ok := acc.Scope["op"]; !ok {
		out.Ops = []string{"exec", "peek", "list"}
	}
	for _, c := range acc.Caveats {
		out.Caveats = append(out.Caveats, c.Kind+"="+strings.Join(c.Items, ","))
	}
	return out, nil
}

// PeekInput names one secret.
type PeekInput struct {
	Name string `json:"name" jsonschema:"the secret's name"`
}

// PeekOutput is peek_secret's result.
type PeekOutput struct {
	Name        string `json:"name"`
	Prefix      string `json:"prefix" jsonschema:"at most 4 leading characters; empty for values under 12 bytes"`
	Length      int    `json:"length" jsonschema:"the value's length in bytes"`
	Fingerprint string `json:"fingerprint" jsonschema:"8 hex digits of a keyed HMAC of the value: equal values, equal fingerprints"`
}

func (t *tools) peek(ctx context.Context, in PeekInput) (PeekOutput, error) {
	p, err := t.Broker.Peek(t.Caller(), broker.PeekRequest{Name: in.Name})
	return PeekOutput{Name: p.Name, Prefix: p.Prefix, Length: p.Length, Fingerprint: p.Fingerprint}, err
}

// RequestInput is request_secret's input.
type RequestInput struct {
	Name   string `json:"name" jsonschema:"the secret's name (letters, digits, _ . -)"`
	Reason string `json:"reason" jsonschema:"why you need it, for the human (one line, at most 300 bytes)"`
}

// RequestOutput is request_secret's result.
type RequestOutput struct {
	Name    string `json:"name"`
	Status  string `json:"status" jsonschema:"pending: the human has been asked"`
	Command string `json:"command" jsonschema:"what the human runs in their own terminal to store the value"`
	Message string `json:"message" jsonschema:"what to tell the human"`
}

func (t *tools) request(ctx context.Context, in RequestInput) (RequestOutput, error) {
	r, err := t.Broker.RequestSecret(t.Caller(), broker.AskRequest{Name: in.Name, Reason: in.Reason})
	if err != nil {
		return RequestOutput{}, err
	}
	cmd := "llms set " + r.Name
	return RequestOutput{Name: r.Name, Status: "pending", Command: cmd,
		Message: fmt.Sprintf("Ask the human to run `%s` in their own terminal (it prompts for the value; `llms requests` lists what agents asked for), "+
			"then to give you a token that names %s. Never ask them to paste the value here.", cmd, r.Name)}, nil
}

// AuditInput is audit_recent's input.
type AuditInput struct {
	Limit int `json:"limit,omitempty" jsonschema:"how many entries, 1-200 (default 20)"`
}

// AuditOutput is audit_recent's result.
type AuditOutput struct {
	Entries []AuditEntry `json:"entries"`
}

func (t *tools) audit(ctx context.Context, in AuditInput) (AuditOutput, error) {
	limit := in.Limit
	if limit == 0 {
		limit = defaultAuditLimit
	}
	es, err := t.Broker.AuditRecent(t.Caller(), broker.AuditRecentRequest{Limit: limit})
	out := AuditOutput{Entries: make([]AuditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = auditEntry(e)
	}
	return out, err
}

// sortedKeys returns m's keys in order, so injections are deterministic.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// schemaFor derives T's schema, states that no field is ever null (Go's
// nil slices and maps are never sent or needed), and lets edit tighten it.
func schemaFor[T any](edit func(*jsonschema.Schema)) *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(err) // a programming error in a fixed type, caught by every test
	}
	notNull(s)
	if edit != nil {
		edit(s)
	}
	return s
}

// notNull turns every "T or null" in s into T.
func notNull(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && slices.Contains(s.Types, "null") {
		i := slices.Index(s.Types, "null")
		s.Type, s.Types = s.Types[1-i], nil
	}
	for _, p := range s.Properties {
		notNull(p)
	}
	notNull(s.Items)
	notNull(s.AdditionalProperties)
}
