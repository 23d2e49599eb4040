package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type attenuateOptions struct {
	IO  *IOStreams
	Now func() time.Time
	// Token reads the token to narrow; Caller describes who is asking (for
	// --here). No store is opened.
	Token  func() (string, error)
	Caller func() (*broker.Caller, error)

	Restrict restrictFlags
}

func newAttenuateCmd(f *Factory) *cobra.Command {
	opts := &attenuateOptions{IO: f.IO, Now: f.now, Caller: f.callerWithoutToken}
	var t tokenFlags
	cmd := &cobra.Command{
		Use:   "attenuate [--macaroon M] [caveat flags]",
		Short: "Narrow a token offline; the result never allows more than the input",
		Long: `Append caveats to a token. No key or store is needed: any holder can narrow a
token before passing it on. --secret narrows the secret list; --ttl adds an
earlier expiry. Prints only the new token.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runAttenuate(opts) },
	}
	opts.Token = f.inputToken(cmd, &t)
	opts.Restrict.register(cmd, true)
	t.register(cmd)
	return cmd
}

func runAttenuate(opts *attenuateOptions) error {
	tok, err := opts.Token()
	if err != nil {
		return err
	}
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	r, err := opts.Restrict.restrictions(c)
	if err != nil {
		return err
	}
	out, err := broker.Attenuate(tok, r, opts.Now())
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "%s\n", out)
	return nil
}
