// Package mcpmain is the body of llms-mcp, the MCP server's own program:
// it joins the CLI's `mcp` command (flags, token, gate: cli.MCPMain) to the
// MCP server (internal/mcpserver) over the broker in this process or, inside
// agent mode, the launcher's broker behind its socket.
//
// It exists so that the MCP SDK is linked into llms-mcp alone (ADR 0036):
// llms itself never imports it, and `llms mcp` execs llms-mcp. It refuses
// to hold any logic of its own beyond that join.
package mcpmain

import (
	"context"

	"github.com/llm-secrets/llms/internal/cli"
	"github.com/llm-secrets/llms/internal/mcpserver"
)

// Serve runs the MCP server on the session's stdio (a cli.MCPServe).
func Serve(ctx context.Context, s cli.MCPSession) error {
	srv := mcpserver.New(mcpserver.Config{Broker: s.Broker, Caller: s.Caller, Environ: s.Environ, Version: s.Version, HTTP: s.HTTP})
	return mcpserver.Serve(ctx, srv, s.In, s.Out)
}
