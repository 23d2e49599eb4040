package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
)

type verifyOptions struct {
	IO    *IOStreams
	Token func() (string, error)
	access

	Op      string
	Secrets []string
	Program string
}

func newVerifyCmd(f *Factory) *cobra.Command {
	opts := &verifyOptions{IO: f.IO, access: f.accessWithoutToken()}
	var t tokenFlags
	cmd := &cobra.Command{
		Use:   "verify [--macaroon M] [--key K] [--op OP] [--cmd PROG]",
		Short: "Check a token's signature and every caveat against the current context",
		Long: `Verify the token against this store's root keys and check every caveat as a
real request would: --key the secret(s) asked for, --op the operation (default
exec), --cmd the program exec would start. Prints which caveat fails and why.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runVerify(opts) },
	}
	opts.Token = f.inputToken(cmd, &t)
	t.register(cmd)
	cmd.Flags().StringSliceVar(&opts.Secrets, "key", nil, "secret(s) the request asks for")
	cmd.Flags().StringVar(&opts.Op, "op", "", "operation ("+strings.Join(caveat.Ops(), ", ")+"; default exec)")
	cmd.Flags().StringVar(&opts.Program, "cmd", "", "program exec would start")
	return cmd
}

func runVerify(opts *verifyOptions) error {
	tok, err := opts.Token()
	if err != nil {
		return err
	}
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	info, err := b.CheckToken(c, broker.CheckTokenRequest{Token: tok, Op: opts.Op, Secrets: opts.Secrets, Program: opts.Program})
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "valid: token %s allows this request\n", info.ID)
	return nil
}
