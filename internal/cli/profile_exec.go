package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type profileExecOptions struct {
	profileMintOptions
	Environ func() []string

	Argv []string
}

func newProfileExecCmd(f *Factory) *cobra.Command {
	opts := &profileExecOptions{
		profileMintOptions: profileMintOptions{IO: f.IO, Profile: f.profile, access: f.accessWithoutToken()},
		Environ:            f.Environ,
	}
	cmd := &cobra.Command{
		Use:   "exec NAME [--ttl D] -- CMD [ARGS…]",
		Short: "Mint a token for a profile and run CMD under it",
		Long: `Mint a short-lived token for the profile and run CMD under it, with the
profile's variables injected: the profile's caveats are enforced for this run
exactly as they would be for an agent holding the token.`,
		Args: func(_ *cobra.Command, args []string) error {
			n := len(args)
			if n > 1 && args[1] == "--" {
				n--
			}
			if n < 2 {
				return usagef("usage: llms profile exec NAME -- CMD [ARGS…]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags stop at NAME, so the "--" before CMD arrives as an argument.
			if args[1] == "--" {
				args = append([]string{args[0]}, args[2:]...)
			}
			opts.Name, opts.Argv = args[0], args[1:]
			return runProfileExec(cmd.Context(), opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().DurationVar(&opts.TTL, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}

// runProfileExec mints a token for the profile and runs exec under it, as
// the caller holding that token.
func runProfileExec(ctx context.Context, opts *profileExecOptions) error {
	p, err := opts.Profile(opts.Name)
	if err != nil {
		return err
	}
	tok, err := mintProfile(&opts.profileMintOptions, p)
	if err != nil {
		return err
	}
	underToken := func() (*broker.Caller, error) {
		c, err := opts.Caller()
		if err != nil {
			return nil, err
		}
		c.Token, c.TokenGiven = tok, true
		return c, nil
	}
	return runExec(ctx, &execOptions{
		IO: opts.IO, Environ: opts.Environ, Profile: opts.Profile,
		access: access{Caller: underToken, Broker: opts.Broker},
		Inject: profileInjections(p), Argv: opts.Argv,
	})
}
