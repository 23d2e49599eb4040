package cli

import (
	"github.com/spf13/cobra"
)

func newRevokeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke TOKEN-ID",
		Short: "Deny one token (and every attenuation of it) from now on",
		Args:  exactArgs(1, "TOKEN-ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			if err := b.Revoke(args[0], c); err != nil {
				return err
			}
			fprintf(f.IO.Out, "revoked: %s\n", args[0])
			return nil
		},
	}
}

func newRevokeAllCmd(f *Factory) *cobra.Command {
	var rotate bool
	cmd := &cobra.Command{
		Use:   "revoke-all [--rotate]",
		Short: "Destroy every root key: every token and the session die at once",
		Long: `Destroy every root key and the session, so every token ever issued stops
verifying. With --rotate, also generate a new age identity and re-encrypt every
secret under it (crash-safe: the old identity is kept until the last file is
re-encrypted; if interrupted, run the command again).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			if err := b.RevokeAll(rotate, c); err != nil {
				return err
			}
			fprintf(f.IO.Out, "revoked: every token and the session\n")
			if rotate {
				fprintf(f.IO.Out, "rotated: new identity; every secret re-encrypted\n")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&rotate, "rotate", false, "also replace the age identity and re-encrypt the store")
	return cmd
}
