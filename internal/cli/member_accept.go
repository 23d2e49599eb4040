package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type memberAcceptOptions struct {
	IO     *IOStreams
	Open   func() (*broker.Broker, *sharedSelection, error)
	Caller func() (*broker.Caller, error)

	Reencrypt bool
}

func newMemberAcceptCmd(f *Factory) *cobra.Command {
	opts := &memberAcceptOptions{IO: f.IO, Open: f.sharedBroker, Caller: f.callerWithoutToken}
	cmd := &cobra.Command{
		Use:   "accept",
		Short: "Accept the members recipients.txt names now (after checking them)",
		Long: `Accept the member set recipients.txt names now, after checking the change
"llms member list" shows: from then on your writes encrypt to it. Check a new
recipient with its owner first — anyone who can push could have added one.
The secrets "llms sync" held back, because you changed them while the members
changed elsewhere, are re-encrypted to the accepted set (every secret, after a
conflict of recipients.txt settled by the union of both sides); --reencrypt
re-encrypts every secret in any case.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runMemberAccept(opts) },
	}
	cmd.Flags().BoolVar(&opts.Reencrypt, "reencrypt", false, "also re-encrypt every secret to the accepted set")
	return cmd
}

func runMemberAccept(opts *memberAcceptOptions) error {
	b, sel, err := opts.Open()
	if err != nil {
		return err
	}
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	diff, err := b.AcceptMembers(c, opts.Reencrypt)
	if err != nil {
		return err
	}
	if len(diff) == 0 {
		fprintf(opts.IO.Out, "accepted the members of %s (unchanged)\n", sel.Dir)
	} else {
		fprintf(opts.IO.Out, "accepted the members of %s:\n", sel.Dir)
		for _, d := range diff {
			fprintf(opts.IO.Out, "  %s\n", d)
		}
	}
	fprintf(opts.IO.Out, "run `llms sync` to share what changed.\n")
	return nil
}
