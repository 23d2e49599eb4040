package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/llm-secrets/llms/internal/cfgedit"
	"github.com/llm-secrets/llms/internal/setup"
	"github.com/spf13/cobra"
)

type mcpConfigOptions struct {
	IO *IOStreams
	// ConfigDir is the user's configuration directory; Executable finds
	// this binary.
	ConfigDir  func() string
	Executable func() (string, error)

	Client    string
	TokenFile string
	Command   string
	Name      string
}

// mcpClients are the clients `llms mcp config` knows, with where their
// configuration lives.
var mcpClients = map[string]string{
	"claude": "run the command above: it adds the entry to ~/.claude.json (user scope; --scope project writes the repository's .mcp.json instead)",
	"cursor": "merge into ~/.cursor/mcp.json",
	"codex":  "append to ~/.codex/config.toml",
	"vscode": "merge into your user mcp.json (Command Palette: \"MCP: Open User Configuration\")",
	"gemini": "merge into ~/.gemini/settings.json",
}

func mcpClientNames() []string {
	names := make([]string, 0, len(mcpClients))
	for n := range mcpClients {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func newMCPConfigCmd(f *Factory) *cobra.Command {
	opts := &mcpConfigOptions{IO: f.IO, ConfigDir: f.configDir, Executable: os.Executable}
	cmd := &cobra.Command{
		Use:   "config " + strings.Join(mcpClientNames(), "|"),
		Short: "Print the MCP configuration entry for a client",
		Long: `Print the entry that makes CLIENT start "llms mcp" (on stdout), and where it
goes and how to save the token (on stderr). For claude the entry is the
command that adds it ("claude mcp add-json …"), ready to paste.

The entry names the token by file (LLM_SECRETS_MACAROON_FILE), never by value:
a configuration file may be committed or synced, a token file stays in your
config directory, mode 0600, and is replaced when the token expires.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("expected one client: %s", strings.Join(mcpClientNames(), ", "))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Client = args[0]
			return runMCPConfig(opts)
		},
	}
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "the token file the entry names (default <config>/llm-secrets/mcp.token)")
	cmd.Flags().StringVar(&opts.Command, "command", "", "the llms binary the client starts (default this binary's absolute path)")
	cmd.Flags().StringVar(&opts.Name, "name", "llms", "the server's name in the client's configuration")
	return cmd
}

func runMCPConfig(opts *mcpConfigOptions) error {
	where, ok := mcpClients[opts.Client]
	if !ok {
		return usagef("unknown client %q: want one of %s", opts.Client, strings.Join(mcpClientNames(), ", "))
	}
	if opts.Name == "" || strings.ContainsFunc(opts.Name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return usagef("--name %q: use letters, digits, '-' and '_'", opts.Name)
	}
	tokenFile, command, err := setup.EntryPaths(opts.TokenFile, opts.Command, opts.ConfigDir, opts.Executable)
	if err != nil {
		return err
	}
	var out string
	switch opts.Client {
	case "claude":
		// Claude Code takes one server, as JSON, on its command line.
		var entry []byte
		if entry, err = cfgedit.MarshalPlain(setup.MCPServer(opts.Client, command, tokenFile)); err == nil {
			out = "claude mcp add-json --scope user " + opts.Name + " " + setup.ShellQuote(string(entry)) + "\n"
		}
	case "codex":
		out = setup.CodexMCPTable(opts.Name, command, tokenFile)
	case "vscode":
		out, err = jsonText(map[string]any{"servers": map[string]any{opts.Name: setup.MCPServer(opts.Client, command, tokenFile)}})
	default:
		out, err = jsonText(map[string]any{"mcpServers": map[string]any{opts.Name: setup.MCPServer(opts.Client, command, tokenFile)}})
	}
	if err != nil {
		return err
	}
	// JSON and TOML escape every control character, and the shell quote
	// keeps them quoted: out is safe as is.
	fmt.Fprint(opts.IO.Out, out)
	fprintf(opts.IO.ErrOut, "# %s: %s\n", opts.Client, where)
	fprintf(opts.IO.ErrOut, "# then save a delegated token to the file it names (the value is never in the entry):\n"+
		"#   %s\n"+
		"# or run the agent in agent mode (llms agent -- AGENT), where the entry needs no token.\n", setup.TokenCommand(opts.TokenFile, tokenFile))
	return nil
}

func jsonText(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}
