package cli

import "github.com/spf13/cobra"

type mintOptions struct {
	IO *IOStreams
	access

	Restrict restrictFlags
}

func newMintCmd(f *Factory) *cobra.Command {
	opts := &mintOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "mint --secret KEY --ttl 5m [caveat flags]",
		Short: "Issue a token for an agent (prints only the token)",
		Long: `Issue a token under the live session. It must name at least one secret and
expire (--ttl) within the session. Only the token is printed, so
M=$(llms macaroon mint …) captures it.`,
		Args: exactArgs(0, "no arguments (secrets go in --secret)"),
		RunE: func(*cobra.Command, []string) error { return runMint(opts) },
	}
	opts.Restrict.register(cmd, true)
	return cmd
}

func runMint(opts *mintOptions) error {
	b, c, r, err := openToMint(opts.access, &opts.Restrict)
	if err != nil {
		return err
	}
	minted, err := b.Mint(c, r)
	return printToken(opts.IO, "token", minted, err)
}
