package cli

import (
	"time"

	"github.com/spf13/cobra"
)

func newProfileExecCmd(f *Factory) *cobra.Command {
	var ttl time.Duration
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
			p, err := f.profile(args[0])
			if err != nil {
				return err
			}
			tok, err := mintProfile(f, args[0], ttl)
			if err != nil {
				return err
			}
			c, err := f.caller(nil, nil)
			if err != nil {
				return err
			}
			c.Token, c.TokenGiven = tok, true
			return runExec(cmd.Context(), f, execOptions{Inject: profileInjections(p), Argv: args[1:]}, c)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}
