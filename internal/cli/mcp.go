package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/mcpserver"
)

type mcpOptions struct {
	Token tokenFlags
}

func newMCPCmd(f *Factory) *cobra.Command {
	var opts mcpOptions
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve secrets to an MCP client over stdio, under one delegated token",
		Long: `Serve the Model Context Protocol over stdin/stdout, for agents that speak it
(Claude Code, Cursor, Codex, VS Code, Gemini CLI…). Tools: list_secrets,
describe_access, peek_secret, run_with_secrets, request_secret, audit_recent.
No tool returns a secret value or a token.

The server acts with exactly one delegated token: --macaroon, --macaroon-file,
$LLM_SECRETS_MACAROON or $LLM_SECRETS_MACAROON_FILE. Every call is verified,
checked against the policy and audited (event "mcp") as it comes, so a token
that expires or is revoked stops working at once. Without a token the server
starts and lists its tools, and every tool says what the human should run. The
session token, or any token that names no secret, is refused.

"llms mcp config CLIENT" prints the configuration entry for a client.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.caller(cmd, &opts.Token)
			if err != nil {
				return err
			}
			return runMCP(cmd.Context(), f, c)
		},
	}
	opts.Token.register(cmd)
	cmd.AddCommand(newMCPConfigCmd(f))
	return cmd
}

// viaMCP is how the broker's audit lines name calls made over MCP.
const viaMCP = "mcp"

func runMCP(ctx context.Context, f *Factory, c *broker.Caller) error {
	// Open once now, so that a missing store fails at start (and its
	// repaired problems are reported once); each call opens its own.
	b, err := f.Broker()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	c.Via = viaMCP
	gate := &mcpserver.Direct{
		Open:       func() (*broker.Broker, error) { return broker.Open(b.Dir()) },
		Caller:     c.Fresh,
		Environ:    f.Environ,
		TokenGiven: c.TokenGiven && strings.TrimSpace(c.Token) != "",
	}
	s := mcpserver.New(gate, version())
	return mcpserver.Serve(ctx, s, f.IO.In, f.IO.Out)
}
