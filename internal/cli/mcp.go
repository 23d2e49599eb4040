package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/mcpserver"
	"github.com/llm-secrets/llms/internal/setup"
)

type mcpOptions struct {
	IO        *IOStreams
	Environ   func() []string
	LookupEnv func(string) (string, bool)
	// NoTokenCaller describes the caller when the token file cannot be read.
	NoTokenCaller func() (*broker.Caller, error)
	access
}

func newMCPCmd(f *Factory) *cobra.Command {
	opts := &mcpOptions{IO: f.IO, Environ: f.Environ, LookupEnv: f.LookupEnv, NoTokenCaller: f.callerWithoutToken}
	var token tokenFlags
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve secrets to an MCP client over stdio, under one delegated token",
		Long: `Serve the Model Context Protocol over stdin/stdout, for agents that speak it
(Claude Code, Cursor, Codex, VS Code, Gemini CLI…). Tools: list_secrets,
describe_access, peek_secret, run_with_secrets, request_secret, audit_recent.
No tool returns a secret value or a token.

The server acts with exactly one delegated token: --macaroon, --macaroon-file,
$LLM_SECRETS_MACAROON or $LLM_SECRETS_MACAROON_FILE. Inside agent mode
(llms agent -- AGENT) it asks the launcher's broker over its socket instead,
which judges every call as the agent's. Every call is verified, checked
against the policy and audited (event "mcp") as it comes, so a token that
expires or is revoked stops working at once. Without a token the server
starts and lists its tools, and every tool says what the human should run. The
session token, or any token that names no secret, is refused.

"llms mcp config CLIENT" prints the configuration entry for a client.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runMCP(cmd.Context(), opts) },
	}
	opts.access = f.accessWithToken(cmd, &token)
	token.register(cmd)
	cmd.AddCommand(newMCPConfigCmd(f), newMCPTokenCmd(f))
	return cmd
}

func runMCP(ctx context.Context, opts *mcpOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var b broker.Service
	var c *broker.Caller
	var err error
	if sock, ok := opts.LookupEnv(agentsock.SocketEnv); ok && sock != "" {
		// Agent mode: the store is the launcher's, behind its socket.
		if c, err = opts.Caller(); err == nil {
			b = &agentsock.Client{Socket: sock}
		}
	} else {
		c, err = opts.Caller()
		var tfe tokenFileError
		if errors.As(err, &tfe) {
			c, err = opts.startWithoutToken(tfe)
		}
		if err == nil {
			b, err = opts.Broker()
		}
	}
	if err != nil {
		return err
	}
	c.Via = agentsock.ViaMCP
	return mcpserver.Serve(ctx, mcpserver.New(mcpserver.Config{Broker: b, Caller: c.Fresh, Environ: opts.Environ, Version: version()}),
		opts.IO.In, opts.IO.Out)
}

// startWithoutToken is the caller of a server whose token file cannot be
// read: a client starts the server as soon as its entry is written, before
// the human has saved a token, and a server that exits shows as failed with
// nothing said. It serves without a token, every tool naming the file and
// the command that writes it; the client restarts it once the file is there.
func (opts *mcpOptions) startWithoutToken(tfe tokenFileError) (*broker.Caller, error) {
	c, err := opts.NoTokenCaller()
	if err != nil {
		return nil, err
	}
	fprintf(opts.IO.ErrOut, "llms mcp: no token: %v; serving without one (every tool says what to run)\n", tfe.err)
	c.NoToken = fmt.Sprintf("its token file cannot be read (%v). Ask the human to run "+
		"`llms mcp token --secret KEY --ttl 8h --token-file %s` in their terminal, which writes it, and then to restart this MCP server",
		tfe.err, setup.ShellQuote(tfe.path))
	return c, nil
}
