package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/caveat"
)

func newVerifyCmd(f *Factory) *cobra.Command {
	var t tokenFlags
	var op, program string
	var secrets []string
	cmd := &cobra.Command{
		Use:   "verify [--macaroon M] [--key K] [--op OP] [--cmd PROG]",
		Short: "Check a token's signature and every caveat against the current context",
		Long: `Verify the token against this store's root keys and check every caveat as a
real request would: --key the secret(s) asked for, --op the operation (default
exec), --cmd the program exec would start. Prints which caveat fails and why.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			info, err := b.CheckToken(tok, op, secrets, program, c)
			if err != nil {
				return err
			}
			fprintf(f.IO.Out, "valid: token %s allows this request\n", info.ID)
			return nil
		},
	}
	t.register(cmd)
	cmd.Flags().StringSliceVar(&secrets, "key", nil, "secret(s) the request asks for")
	cmd.Flags().StringVar(&op, "op", "", "operation ("+strings.Join(caveat.Ops(), ", ")+"; default exec)")
	cmd.Flags().StringVar(&program, "cmd", "", "program exec would start")
	return cmd
}
