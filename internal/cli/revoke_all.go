package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type revokeAllOptions struct {
	IO *IOStreams
	access

	Rotate bool
}

func newRevokeAllCmd(f *Factory) *cobra.Command {
	opts := &revokeAllOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "revoke-all [--rotate]",
		Short: "Destroy every root key: every token and the session die at once",
		Long: `Destroy every root key and the session, so every token ever issued stops
verifying. With --rotate, also generate a new age identity and re-encrypt every
secret under it (crash-safe: the old identity is kept until the last file is
re-encrypted; if interrupted, run the command again).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runRevokeAll(opts) },
	}
	cmd.Flags().BoolVar(&opts.Rotate, "rotate", false, "also replace the age identity and re-encrypt the store")
	return cmd
}

func runRevokeAll(opts *revokeAllOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	if err := b.RevokeAll(c, broker.RevokeAllRequest{Rotate: opts.Rotate}); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "revoked: every token and the session\n")
	if opts.Rotate {
		fprintf(opts.IO.Out, "rotated: new identity; every secret re-encrypted\n")
	}
	return nil
}
