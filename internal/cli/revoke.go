package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type revokeOptions struct {
	IO *IOStreams
	access

	ID string
}

func newRevokeCmd(f *Factory) *cobra.Command {
	opts := &revokeOptions{IO: f.IO, access: f.accessWithoutToken()}
	return &cobra.Command{
		Use:   "revoke TOKEN-ID",
		Short: "Deny one token (and every attenuation of it) from now on",
		Args:  exactArgs(1, "TOKEN-ID"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runRevoke(opts)
		},
	}
}

func runRevoke(opts *revokeOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	if err := b.Revoke(c, broker.RevokeRequest{ID: opts.ID}); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "revoked: %s\n", opts.ID)
	return nil
}
