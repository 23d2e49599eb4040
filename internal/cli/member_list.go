package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type memberListOptions struct {
	IO   *IOStreams
	Open func() (*broker.Broker, *sharedSelection, error)
}

func newMemberListCmd(f *Factory) *cobra.Command {
	opts := &memberListOptions{IO: f.IO, Open: f.sharedBroker}
	return &cobra.Command{
		Use:   "list",
		Short: "List the members, and any change you have not accepted",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runMemberList(opts) },
	}
}

func runMemberList(opts *memberListOptions) error {
	b, sel, err := opts.Open()
	if err != nil {
		return err
	}
	current, accepted, err := b.Members()
	if err != nil {
		return err
	}
	own, _ := b.Recipient()
	fprintf(opts.IO.Out, "members of %s:\n", sel.Dir)
	for _, m := range current {
		you := ""
		if m.Recipient == own {
			you = "  (you)"
		}
		fprintf(opts.IO.Out, "  %-20s %s%s\n", m.Name, m.Recipient, you)
	}
	switch diff := broker.MemberDiff(accepted, current); {
	case accepted == nil:
		fprintf(opts.IO.Out, "You have not accepted these members: check each recipient with its owner, then run `llms member accept`.\n")
	case len(diff) > 0:
		fprintf(opts.IO.Out, "Not accepted — recipients.txt changed since you accepted it:\n")
		for _, d := range diff {
			fprintf(opts.IO.Out, "  %s\n", d)
		}
		fprintf(opts.IO.Out, "Nothing is encrypted to this set until you check it and run `llms member accept`.\n")
	}
	return nil
}
