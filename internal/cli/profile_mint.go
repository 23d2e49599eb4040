package cli

import (
	"time"

	"github.com/spf13/cobra"
)

func newProfileMintCmd(f *Factory) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "mint NAME [--ttl D]",
		Short: "Mint a token for a profile, printed as an export line for eval",
		Long:  `Mint a token with the profile's secrets and caveats: eval "$(llms profile mint backend)".`,
		Args:  exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			tok, err := mintProfile(f, args[0], ttl)
			if err != nil {
				return err
			}
			fprintf(f.IO.Out, "export %s=%s\n", envToken, tok)
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}

func mintProfile(f *Factory, name string, ttl time.Duration) (string, error) {
	p, err := f.profile(name)
	if err != nil {
		return "", err
	}
	b, c, err := f.gate(nil, nil)
	if err != nil {
		return "", err
	}
	tok, _, err := b.Mint(profileRestrictions(p, ttl), c)
	return tok, err
}
