package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/profile"
)

type profileMintOptions struct {
	IO      *IOStreams
	Profile func(name string) (profile.Profile, error)
	access

	Name string
	TTL  time.Duration
}

func newProfileMintCmd(f *Factory) *cobra.Command {
	opts := &profileMintOptions{IO: f.IO, Profile: f.profile, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "mint NAME [--ttl D]",
		Short: "Mint a token for a profile, printed as an export line for eval",
		Long:  `Mint a token with the profile's secrets and caveats: eval "$(llms profile mint backend)".`,
		Args:  exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runProfileMint(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.TTL, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}

func runProfileMint(opts *profileMintOptions) error {
	p, err := opts.Profile(opts.Name)
	if err != nil {
		return err
	}
	tok, err := mintProfile(opts, p)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "export %s=%s\n", envToken, tok)
	return nil
}

// mintProfile mints a token with p's secrets and caveats.
func mintProfile(opts *profileMintOptions, p profile.Profile) (string, error) {
	b, c, err := opts.open()
	if err != nil {
		return "", err
	}
	minted, err := b.Mint(c, profileRestrictions(p, opts.TTL))
	printMintWarnings(opts.IO, minted)
	return minted.Token, err
}
