package cli

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
)

// AgentClient runs exec, peek and list as clients of the agent-mode broker
// when the launcher's socket is in the environment ($LLM_SECRETS_SOCKET):
// same flags, same errors, same output, but the broker outside the sandbox
// decides and starts the child. It parses the command's own flag set
// without building the command tree or opening the store, which the
// sandbox hides anyway. ok is false outside agent mode, for any other
// command and for --help: the full CLI runs those.
func AgentClient(args []string, f *Factory) (code int, ok bool) {
	sock, found := f.LookupEnv(agentsock.SocketEnv)
	if !found || sock == "" || len(args) == 0 {
		return 0, false
	}
	fs := pflag.NewFlagSet("llms "+args[0], pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var token tokenFlags
	acc := access{
		Remote: &agentsock.Client{Socket: sock},
		Caller: func() (*broker.Caller, error) {
			c := &broker.Caller{}
			var err error
			if c.Cwd, err = f.getwd(); err != nil {
				return nil, err
			}
			c.Token, c.TokenGiven, err = f.token(fs, &token)
			return c, err
		},
	}
	var check cobra.PositionalArgs
	var run func(args []string) error
	switch args[0] {
	case "exec":
		opts := &execOptions{IO: f.IO, Environ: f.Environ, Profile: f.profile, access: acc}
		opts.addFlags(fs, &token)
		check = execArgs
		run = func(args []string) error { opts.Argv = args; return runExec(context.Background(), opts) }
	case "peek":
		opts := &peekOptions{IO: f.IO, access: acc}
		token.addTo(fs)
		check = exactArgs(1, "KEY")
		run = func(args []string) error { opts.Name = args[0]; return runPeek(opts) }
	case "list":
		opts := &listOptions{IO: f.IO, access: acc}
		opts.addFlags(fs, &token)
		check = exactArgs(0, "no arguments")
		run = func([]string) error { return runList(opts) }
	default:
		return 0, false
	}
	var dir string
	fs.StringVar(&dir, "dir", "", "")
	err := fs.Parse(args[1:])
	switch {
	case errors.Is(err, pflag.ErrHelp):
		return 0, false
	case err != nil:
		err = usageError{Err: err}
	case fs.Changed("dir"):
		err = usagef("--dir: in agent mode the store is the launcher's; $%s names its broker", agentsock.SocketEnv)
	default:
		if err = check(nil, fs.Args()); err == nil {
			err = run(fs.Args())
		}
	}
	return finish(f, err), true
}
