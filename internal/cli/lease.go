package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/caveat"
)

type leaseOptions struct {
	IO *IOStreams
	access

	Secret   string
	Restrict restrictFlags
}

func newLeaseCmd(f *Factory) *cobra.Command {
	opts := &leaseOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "lease KEY --ttl 5m [caveat flags]",
		Short: "Issue a recorded, revocable token for one secret (prints only the token)",
		Long: `A lease is a token for one secret, minted with the same checks as
"macaroon mint" (live session, policy max_ttl) and recorded: "llms leases"
lists it, "llms revoke ID" ends it.`,
		Args: exactArgs(1, "KEY"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Secret = args[0]
			return runLease(opts)
		},
	}
	opts.Restrict.register(cmd, false)
	return cmd
}

func runLease(opts *leaseOptions) error {
	b, c, r, err := openToMint(opts.access, &opts.Restrict)
	if err != nil {
		return err
	}
	r.Lists[caveat.NameSecret] = []string{opts.Secret}
	minted, err := b.Lease(c, r)
	return printToken(opts.IO, "lease", minted, err)
}
