package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/mcpserver"
)

type mcpOptions struct {
	IO      *IOStreams
	Environ func() []string
	access
}

func newMCPCmd(f *Factory) *cobra.Command {
	opts := &mcpOptions{IO: f.IO, Environ: f.Environ}
	var token tokenFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runMCP(cmd.Context(), opts) },
	}
	opts.access = f.accessWithToken(cmd, &token)
	token.register(cmd)
	cmd.AddCommand(newMCPConfigCmd(f))
	return cmd
}

// viaMCP is how the broker's audit lines name calls made over MCP.
const viaMCP = "mcp"

func runMCP(ctx context.Context, opts *mcpOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	c.Via = viaMCP
	gate := &mcpserver.Direct{
		Broker:  b,
		Caller:  c.Fresh,
		Environ: opts.Environ,
	}
	return serveMCP(ctx, gate, opts.IO.In, opts.IO.Out)
}

func serveMCP(ctx context.Context, gate mcpserver.Gate, in io.Reader, out io.Writer) error {
	return mcpserver.Serve(ctx, mcpserver.New(gate, version()), in, out)
}
