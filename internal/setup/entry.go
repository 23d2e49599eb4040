package setup

// The MCP server entry: what setup writes into an agent's configuration
// and "llms mcp config" prints.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
)

// TokenCommand is the command that saves a token to the file an entry
// names: --token-file only when the entry names another file than the
// default (given is the --token-file the entry was made with).
func TokenCommand(given, tokenFile string) string {
	cmd := "llms mcp token --secret KEY --ttl 8h"
	if given != "" {
		cmd += " --token-file " + ShellQuote(tokenFile)
	}
	return cmd
}

// EntryPaths resolves the token file (default <config>/llm-secrets/mcp.token)
// and the binary an entry starts (default this one), both absolute.
func EntryPaths(tokenFile, command string, configDir func() string, executable func() (string, error)) (string, string, error) {
	if tokenFile == "" {
		tokenFile = filepath.Join(configDir(), "llm-secrets", "mcp.token")
	}
	tokenFile, err := filepath.Abs(tokenFile)
	if err != nil {
		return "", "", err
	}
	if command == "" {
		if command, err = executable(); err != nil {
			return "", "", fmt.Errorf("cannot find this binary's path (pass --command): %w", err)
		}
	}
	return tokenFile, command, nil
}

// MCPServer is the entry that makes client start "llms mcp" with the token
// named by file, never by value: the JSON object of the clients whose
// configuration is JSON.
func MCPServer(client, command, tokenFile string) map[string]any {
	server := map[string]any{"command": command, "args": []string{"mcp"}, "env": map[string]string{broker.TokenFileEnv: tokenFile}}
	if client == "vscode" || client == "claude" {
		server["type"] = "stdio"
	}
	return server
}

// CodexMCPTable is the same entry as a table of Codex's config.toml, laid
// out as Codex writes it back (the env as a sub-table), so that Codex's
// rewrites of the file leave it as it is. Codex starts a server with a
// few variables of its own only: env_vars passes on agent mode's socket
// and token, without which the server inside agent mode has no broker.
func CodexMCPTable(name, command, tokenFile string) string {
	return fmt.Sprintf("[mcp_servers.%s]\ncommand = %s\nargs = [\"mcp\"]\nenv_vars = [%q, %q]\n\n[mcp_servers.%s.env]\n%s = %s\n",
		name, tomlString(command), agentsock.SocketEnv, broker.TokenEnv, name, broker.TokenFileEnv, tomlString(tokenFile))
}

// tomlString quotes s as a TOML basic string; JSON's escapes are TOML's.
func tomlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
