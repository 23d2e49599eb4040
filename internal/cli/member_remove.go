package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type memberRemoveOptions struct {
	IO     *IOStreams
	Open   func() (*broker.Broker, *sharedSelection, error)
	Caller func() (*broker.Caller, error)

	Name         string
	RotatePrompt bool
}

func newMemberRemoveCmd(f *Factory) *cobra.Command {
	opts := &memberRemoveOptions{IO: f.IO, Open: f.sharedBroker, Caller: f.callerWithoutToken}
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a member, re-encrypt every secret to the rest, list what they could read",
		Long: `Remove a member and re-encrypt every secret to the members left, so that
nothing written from now on, nor any file as it is now, opens with their
identity. Removal cannot take back what they already read: the command lists
every secret they could read, with when it was last written, so you can rotate
each at its source. --rotate-prompt walks you through setting each new value.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runMemberRemove(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.RotatePrompt, "rotate-prompt", false, "then ask for a new value of each secret they could read")
	return cmd
}

func runMemberRemove(opts *memberRemoveOptions) error {
	if opts.RotatePrompt && (!opts.IO.StdinTTY || opts.IO.ReadSecret == nil) {
		return usageError{Err: errors.New("--rotate-prompt asks for values at a terminal; standard input is not one")}
	}
	b, sel, err := opts.Open()
	if err != nil {
		return err
	}
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	exposed, err := b.RemoveMember(c, opts.Name)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "removed %s from %s; every secret is re-encrypted to the members left.\n", opts.Name, sel.Dir)
	if len(exposed) == 0 {
		fprintf(opts.IO.Out, "The store holds no secret: %s could read none.\nRun `llms sync` to share the change.\n", opts.Name)
		return nil
	}
	fprintf(opts.IO.Out, "%s could read these %d secrets, and may have kept them; rotate each at its source:\n", opts.Name, len(exposed))
	for _, e := range exposed {
		fprintf(opts.IO.Out, "  %-40s last written %s\n", e.Name, e.Updated.Format(time.RFC3339))
	}
	if opts.RotatePrompt {
		return rotatePrompt(opts, b, c, exposed)
	}
	fprintf(opts.IO.Out, "Run `llms sync` to share the change (and `llms set NAME` for each new value).\n")
	return nil
}

// rotatePrompt asks for each secret's new value; an empty one skips it.
func rotatePrompt(opts *memberRemoveOptions, b *broker.Broker, c *broker.Caller, exposed []broker.Entry) error {
	skipped := 0
	for _, e := range exposed {
		value, err := opts.IO.ReadSecret("New value for " + e.Name + " (rotate it at its source first; empty skips): ")
		if err != nil {
			return err
		}
		if len(value) == 0 {
			skipped++
			continue
		}
		again, err := opts.IO.ReadSecret("Again: ")
		if err != nil {
			return err
		}
		if string(again) != string(value) {
			fprintf(opts.IO.ErrOut, "llms: the two values differ; %s skipped\n", e.Name)
			skipped++
			continue
		}
		if err := broker.CheckValue(value); err != nil {
			fprintf(opts.IO.ErrOut, "llms: %s skipped: %s\n", e.Name, err)
			skipped++
			continue
		}
		res, err := b.Set(c, broker.SetRequest{Name: e.Name, Value: value})
		if err != nil {
			return err
		}
		warnShort(opts.IO, e.Name, value)
		reportStored(opts.IO, e.Name, res)
	}
	fprintf(opts.IO.Out, "%d of %d secrets have a new value; run `llms sync` to share them.\n", len(exposed)-skipped, len(exposed))
	return nil
}
