package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/teamsync"
)

type resolveOptions struct {
	IO           *IOStreams
	Setup        func() (teamsync.Options, *sharedSelection, func(), error)
	Name         string
	Ours, Theirs bool
	Remote       string
}

func newResolveCmd(f *Factory) *cobra.Command {
	opts := &resolveOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "resolve NAME --ours|--theirs",
		Short: "Settle a secret that both you and the remote changed (after llms sync stopped)",
		Long: `Settle a secret "llms sync" reported as changed on both sides: --theirs takes
the remote's ciphertext, --ours keeps yours (the next sync pushes it over the
remote's). Nothing is decrypted, no value is written anywhere in plaintext, and
no conflict marker is ever written. Run "llms sync" afterwards.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runResolve(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Ours, "ours", false, "keep your value")
	cmd.Flags().BoolVar(&opts.Theirs, "theirs", false, "take the remote's value")
	cmd.Flags().StringVar(&opts.Remote, "remote", "origin", "the git remote synced with")
	opts.Setup = func() (teamsync.Options, *sharedSelection, func(), error) { return f.syncSetup(opts.Remote, false) }
	return cmd
}

func runResolve(opts *resolveOptions) error {
	if opts.Ours == opts.Theirs {
		return usagef("give exactly one of --ours and --theirs")
	}
	o, _, done, err := opts.Setup()
	if err != nil {
		return err
	}
	defer done()
	if err := teamsync.Resolve(o, opts.Name, opts.Theirs); err != nil {
		return err
	}
	side := "yours"
	if opts.Theirs {
		side = "the remote's"
	}
	fprintf(opts.IO.Out, "resolved %s: %s is kept; run `llms sync`\n", opts.Name, side)
	return nil
}
