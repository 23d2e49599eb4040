// Command llms is a secrets manager for AI coding agents. See README.md.
package main

import (
	"os"

	"github.com/llm-secrets/llms/internal/cli"
	"github.com/llm-secrets/llms/internal/sandbox"
	"golang.org/x/sys/unix"
)

func main() {
	// Not dumpable: no core file can hold a value, and other processes of
	// the same user can neither ptrace llms nor read its memory. The child
	// started by exec is dumpable again (execve resets it).
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	os.Exit(dispatch(os.Args[1:], cli.NewFactory()))
}

// dispatch runs the hidden entry points before anything else: in agent
// mode every program starts as `llms __sandbox-exec --rules-fd=N PATH ARGV…`,
// which confines itself and execs PATH without building the command tree,
// and the agent under `llms __agent-guard`, which ends its tree.
// Then, inside agent mode, exec, peek and list go to the launcher's broker
// as thin clients, also without the command tree.
func dispatch(args []string, f *cli.Factory) int {
	if len(args) > 0 && args[0] == sandbox.ExecArg {
		return sandbox.Main(args[1:], os.Stderr)
	}
	if len(args) > 0 && args[0] == sandbox.GuardArg {
		return sandbox.GuardMain(args[1:], os.Stderr)
	}
	if code, ok := cli.AgentClient(args, f); ok {
		return code
	}
	return cli.Main(args, f)
}
