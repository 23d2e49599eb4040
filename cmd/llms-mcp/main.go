// Command llms-mcp is the MCP server of llms: `llms mcp` execs it from the
// directory llms is installed in (docs/adr/0036). It is a program of its
// own so that only it links the MCP SDK and what the SDK imports (net/http,
// encoding/gob, a JSON-schema library), whose package initialisers every
// other llms command would otherwise pay for at start-up.
package main

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/cli"
	"github.com/llm-secrets/llms/internal/mcpmain"
)

func main() {
	// Not dumpable, as llms: no core file can hold a value, and other
	// processes of the same user can neither ptrace it nor read its memory.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	os.Exit(cli.MCPMain(os.Args[1:], cli.NewFactory(), mcpmain.Serve))
}
