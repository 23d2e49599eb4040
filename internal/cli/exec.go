package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/profile"
)

type execOptions struct {
	IO      *IOStreams
	Environ func() []string
	// Profile loads a profile by name.
	Profile func(name string) (profile.Profile, error)
	access

	Inject      []string
	ProfileName string
	NoRedact    bool
	Argv        []string
}

func newExecCmd(f *Factory) *cobra.Command {
	opts := &execOptions{IO: f.IO, Environ: f.Environ, Profile: f.profile}
	var token tokenFlags
	cmd := &cobra.Command{
		Use:   "exec --inject VAR=KEY [--inject …] -- CMD [ARGS…]",
		Short: "Run a command with secrets in its environment and its output redacted",
		Long: `Run CMD with exactly the given argv (no shell), its environment plus one
variable per --inject. "--inject KEY" is short for "--inject KEY=KEY".

Every injected value, and its base64, hex and URL-encoded forms, is replaced by
[REDACTED:KEY] in the command's stdout and stderr as they stream. When llms's
stdout is a terminal the command runs on a pseudo-terminal, so colours and
interactive programs keep working. Signals are forwarded; llms exits with the
command's status (128+n if it died from signal n).

--no-redact passes output through untouched. It is dangerous: anything the
command prints, including a value, reaches your screen and any transcript. It
is refused unless stdout is a terminal.`,
		Args: execArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			return runExec(cmd.Context(), opts)
		},
	}
	opts.access = f.accessWithToken(cmd, &token)
	opts.addFlags(cmd.Flags(), &token)
	return cmd
}

// addFlags registers exec's flags; the agent-mode client parses the same.
func (opts *execOptions) addFlags(fs *pflag.FlagSet, token *tokenFlags) {
	// Everything after the first positional argument belongs to CMD.
	fs.SetInterspersed(false)
	fs.StringArrayVarP(&opts.Inject, "inject", "i", nil, "inject secret KEY as variable VAR (VAR=KEY, or KEY)")
	token.addTo(fs)
	fs.Var(nonEmpty{&opts.ProfileName}, "profile", "inject the variables of this profile (profiles.toml)")
	fs.BoolVar(&opts.NoRedact, "no-redact", false, "DANGEROUS: do not redact output (terminal only)")
}

func execArgs(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usagef("no command given (usage: llms exec --inject VAR=KEY -- CMD [ARGS…])")
	}
	return nil
}

func parseInjections(specs []string) ([]broker.Injection, error) {
	out := make([]broker.Injection, 0, len(specs))
	for _, s := range specs {
		v, k, ok := strings.Cut(s, "=")
		if !ok {
			k = v
		}
		if v == "" || k == "" {
			return nil, usagef("--inject %q: want VAR=KEY", s)
		}
		out = append(out, broker.Injection{Var: v, Secret: k})
	}
	return out, nil
}

func runExec(ctx context.Context, opts *execOptions) error {
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	specs := opts.Inject
	if opts.ProfileName != "" {
		p, err := opts.Profile(opts.ProfileName)
		if err != nil {
			return err
		}
		specs = append(profileInjections(p), specs...)
	}
	inject, err := parseInjections(specs)
	if err != nil {
		return err
	}
	g, err := opts.gate()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	code, err := g.Exec(ctx, c, broker.ExecRequest{
		Inject:   inject,
		Argv:     opts.Argv,
		Env:      opts.Environ(),
		Stdin:    opts.IO.StdinFile,
		Stdout:   opts.IO.Out,
		Stderr:   opts.IO.ErrOut,
		PTY:      opts.IO.StdoutTTY && opts.IO.StdinTTY,
		NoRedact: opts.NoRedact,
		Warn:     func(s string) { fprintf(opts.IO.ErrOut, "llms: warning: %s\n", s) },
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return childExit{Code: code}
	}
	return nil
}
