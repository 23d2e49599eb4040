package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/setup"
)

// MCPServerName is the MCP server's own program, installed beside llms:
// `llms mcp` execs it (docs/adr/0036). Only it links the MCP SDK, whose
// package initialisers every other command would otherwise pay for.
const MCPServerName = "llms-mcp"

// MCPServe runs the MCP server (internal/mcpserver) on s.In and s.Out
// until the client goes. Only llms-mcp has one; in llms it is nil and
// `llms mcp` execs llms-mcp.
type MCPServe func(ctx context.Context, s MCPSession) error

// MCPSession is what the MCP server acts with: the broker in this process,
// or inside agent mode the launcher's broker behind its socket.
type MCPSession struct {
	Broker broker.Service
	// Caller describes who asks, afresh for each call.
	Caller  func() *broker.Caller
	Environ func() []string
	Version string
	// HTTP names the launch's credential-proxy bindings (VAR=KEY@HOST), for describe_access.
	HTTP []string
	In   io.Reader
	Out  io.Writer
}

// MCPMain is llms-mcp: `llms mcp` alone, without its subcommands (mcp
// config would name llms-mcp as the command to start), with the same flags
// and gate, serving with serve.
func MCPMain(args []string, f *Factory, serve MCPServe) int {
	f.serveMCP = serve
	root := NewRootCmd(f)
	if cmd, _, err := root.Find([]string{"mcp"}); err == nil {
		cmd.RemoveCommand(cmd.Commands()...)
	}
	root.SetArgs(append([]string{"mcp"}, args...))
	return finish(f, root.Execute())
}

type mcpOptions struct {
	IO        *IOStreams
	Environ   func() []string
	LookupEnv func(string) (string, bool)
	// NoTokenCaller describes the caller when the token file cannot be read.
	NoTokenCaller func() (*broker.Caller, error)
	// Serve runs the server; nil execs llms-mcp beside Executable instead.
	Serve      MCPServe
	Executable func() (string, error)
	access
}

func newMCPCmd(f *Factory) *cobra.Command {
	opts := &mcpOptions{IO: f.IO, Environ: f.Environ, LookupEnv: f.LookupEnv, NoTokenCaller: f.callerWithoutToken,
		Serve: f.serveMCP, Executable: os.Executable}
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Serve == nil {
				return execMCPServer(opts.Executable, cmd.Flags(), opts.Environ())
			}
			return runMCP(cmd.Context(), opts)
		},
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
	s := MCPSession{Environ: opts.Environ, Version: version(), In: opts.IO.In, Out: opts.IO.Out}
	var c *broker.Caller
	var err error
	if sock, ok := opts.LookupEnv(agentsock.SocketEnv); ok && sock != "" {
		// Agent mode: the store is the launcher's, behind its socket.
		if c, err = opts.Caller(); err == nil {
			s.Broker = &agentsock.Client{Socket: sock}
		}
	} else {
		c, err = opts.Caller()
		var tfe tokenFileError
		if errors.As(err, &tfe) {
			c, err = opts.startWithoutToken(tfe)
		}
		if err == nil {
			s.Broker, err = opts.Broker()
		}
	}
	if err != nil {
		return err
	}
	c.Via = agentsock.ViaMCP
	var bindings []string
	if v, ok := opts.LookupEnv(broker.HTTPBindingsEnv); ok && v != "" {
		bindings = strings.Split(v, ",")
	}
	s.Caller, s.HTTP = c.Fresh, bindings
	return opts.Serve(ctx, s)
}

// execMCPServer replaces llms with llms-mcp from llms's own directory,
// handing on the flags given (--dir, the token's) and the environment. The
// directory is the executable's, never $PATH: what starts is what was
// installed with llms, not a program some directory on the caller's path
// provides.
func execMCPServer(executable func() (string, error), flags *pflag.FlagSet, env []string) error {
	self, err := executable()
	if err != nil {
		return fmt.Errorf("finding llms itself: %w", err)
	}
	path := filepath.Join(filepath.Dir(self), MCPServerName)
	args := []string{MCPServerName}
	flags.Visit(func(fl *pflag.Flag) { args = append(args, "--"+fl.Name+"="+fl.Value.String()) })
	err = unix.Exec(path, args, env)
	return fmt.Errorf("the MCP server is its own program, %s, installed beside llms: %s: %w (install both: see README.md)", MCPServerName, path, err)
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
