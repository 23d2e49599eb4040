package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newAttenuateCmd(f *Factory) *cobra.Command {
	var rf restrictFlags
	var t tokenFlags
	cmd := &cobra.Command{
		Use:   "attenuate [--macaroon M] [caveat flags]",
		Short: "Narrow a token offline; the result never allows more than the input",
		Long: `Append caveats to a token. No key or store is needed: any holder can narrow a
token before passing it on. --secret narrows the secret list; --ttl adds an
earlier expiry. Prints only the new token.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			c, err := f.caller(nil, nil)
			if err != nil {
				return err
			}
			r, err := rf.restrictions(c)
			if err != nil {
				return err
			}
			out, err := broker.Attenuate(tok, r, time.Now())
			if err != nil {
				return err
			}
			fprintf(f.IO.Out, "%s\n", out)
			return nil
		},
	}
	rf.register(cmd, true)
	t.register(cmd)
	return cmd
}
