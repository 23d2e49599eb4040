package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type memberAddOptions struct {
	IO     *IOStreams
	Open   func() (*broker.Broker, *sharedSelection, error)
	Caller func() (*broker.Caller, error)

	Name, Recipient string
}

func newMemberAddCmd(f *Factory) *cobra.Command {
	opts := &memberAddOptions{IO: f.IO, Open: f.sharedBroker, Caller: f.callerWithoutToken}
	return &cobra.Command{
		Use:   "add NAME RECIPIENT",
		Short: "Add a member and re-encrypt every secret to the new set",
		Long: `Add a member: RECIPIENT is their age X25519 recipient ("llms recipient" on
their machine prints it; a CI runner's comes from age-keygen). Every secret is
re-encrypted to the new set in this one command; a kill at any moment leaves
each secret readable by the old set or the new, and the next command finishes.
ssh and post-quantum recipients are refused.`,
		Args: exactArgs(2, "NAME RECIPIENT"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name, opts.Recipient = args[0], args[1]
			return runMemberAdd(opts)
		},
	}
}

func runMemberAdd(opts *memberAddOptions) error {
	b, sel, err := opts.Open()
	if err != nil {
		return err
	}
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	if err := b.AddMember(c, broker.Member{Name: opts.Name, Recipient: opts.Recipient}); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "added %s to %s; every secret is re-encrypted to the new set.\nRun `llms sync` to share the change.\n", opts.Name, sel.Dir)
	return nil
}
