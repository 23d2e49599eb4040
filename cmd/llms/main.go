// Command llms is a secrets manager for AI coding agents. See README.md.
package main

import (
	"os"

	"github.com/llm-secrets/llms/internal/cli"
	"golang.org/x/sys/unix"
)

func main() {
	// Not dumpable: no core file can hold a value, and other processes of
	// the same user can neither ptrace llms nor read its memory. The child
	// started by exec is dumpable again (execve resets it).
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	os.Exit(cli.Main(os.Args[1:], cli.NewFactory()))
}
