package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type recipientOptions struct {
	IO       *IOStreams
	StoreDir func() (string, error)
}

func newRecipientCmd(f *Factory) *cobra.Command {
	opts := &recipientOptions{IO: f.IO, StoreDir: f.StoreDir}
	return &cobra.Command{
		Use:   "recipient",
		Short: "Print this machine's age recipient (public), to hand to a shared store's member",
		Long: `Print the age recipient (age1…) of your identity, the one in your data dir
(--dir). It is public: a member of a shared store adds you with
"llms member add NAME RECIPIENT".`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runRecipient(opts) },
	}
}

func runRecipient(opts *recipientOptions) error {
	dir, err := opts.StoreDir()
	if err != nil {
		return err
	}
	b, err := broker.Open(dir)
	if err != nil {
		return err
	}
	r, err := b.Recipient()
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "%s\n", r)
	return nil
}
