package cli

import "github.com/spf13/cobra"

func newMintCmd(f *Factory) *cobra.Command {
	var rf restrictFlags
	cmd := &cobra.Command{
		Use:   "mint --secret KEY --ttl 5m [caveat flags]",
		Short: "Issue a token for an agent (prints only the token)",
		Long: `Issue a token under the live session. It must name at least one secret and
expire (--ttl) within the session. Only the token is printed, so
M=$(llms macaroon mint …) captures it.`,
		Args: exactArgs(0, "no arguments (secrets go in --secret)"),
		RunE: func(*cobra.Command, []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			r, err := rf.restrictions(c)
			if err != nil {
				return err
			}
			tok, info, err := b.Mint(r, c)
			return printToken(f, "token", tok, info, err)
		},
	}
	rf.register(cmd, true)
	return cmd
}
