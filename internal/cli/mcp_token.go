package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/llm-secrets/llms/internal/durable"
	"github.com/llm-secrets/llms/internal/human"
	"github.com/spf13/cobra"
)

type mcpTokenOptions struct {
	IO        *IOStreams
	ConfigDir func() string
	Home      func() string
	access

	Restrict  restrictFlags
	TokenFile string
}

func newMCPTokenCmd(f *Factory) *cobra.Command {
	opts := &mcpTokenOptions{IO: f.IO, ConfigDir: f.configDir, Home: func() string { return f.Getenv("HOME") },
		access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "token --secret KEY --ttl 8h [caveat flags] [--token-file FILE]",
		Short: "Mint a token for the MCP server and save it to the file its entry names",
		Long: `Mint a delegated token, as "llms macaroon mint" does, and save it to the token
file the MCP entry names (default <config>/llm-secrets/mcp.token): created
mode 0600, its directory 0700 when missing, replaced in one step, so that a
refusal or a crash leaves the old file as it was. The token is never printed.

A --ttl beyond the session's remaining time is cut to it, with a note: the
token ends with the session. Restart the client's MCP server afterwards: it
reads the file when it starts.`,
		Args: exactArgs(0, "no arguments (secrets go in --secret)"),
		RunE: func(*cobra.Command, []string) error { return runMCPToken(opts) },
	}
	opts.Restrict.register(cmd, true)
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "the file to write (default <config>/llm-secrets/mcp.token)")
	return cmd
}

func runMCPToken(opts *mcpTokenOptions) error {
	path := opts.TokenFile
	if path == "" {
		path = filepath.Join(opts.ConfigDir(), "llm-secrets", "mcp.token")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	b, c, r, err := openToMint(opts.access, &opts.Restrict)
	if err != nil {
		return err
	}
	r.UpToSession = true
	m, err := b.Mint(c, r)
	if err != nil {
		return err
	}
	if m.CutTo > 0 {
		fprintf(opts.IO.ErrOut, "llms: note: the session has %s left: the token expires with it, at %s, not in %s\n",
			m.CutTo.Truncate(time.Second), m.Info.Expires.Format(time.RFC3339), opts.Restrict.ttl)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("token %s was minted but not saved: %w (llms revoke %s)", m.Info.ID, err, m.Info.ID)
	}
	if err := durable.ReplaceFile(path, []byte(m.Token+"\n"), 0o600); err != nil {
		return fmt.Errorf("token %s was minted but not saved: %w (llms revoke %s)", m.Info.ID, err, m.Info.ID)
	}
	fprintf(opts.IO.Out, "wrote: %s (token %s, expires %s)\n", human.TildePath(opts.Home(), path), m.Info.ID,
		m.Info.Expires.Format(time.RFC3339))
	fprintf(opts.IO.ErrOut, "restart the client's llms MCP server (or the client): it reads the file when it starts\n")
	return nil
}
