package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type deleteOptions struct {
	IO *IOStreams
	access

	Name  string
	Force bool
}

func newDeleteCmd(f *Factory) *cobra.Command {
	opts := &deleteOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete a secret (asks on a terminal unless --force)",
		Args:  exactArgs(1, "KEY"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runDelete(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "delete without asking")
	return cmd
}

func runDelete(opts *deleteOptions) error {
	if err := broker.ValidateName(opts.Name); err != nil {
		return err
	}
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	exists, err := b.Has(c, broker.NameRequest{Name: opts.Name})
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %s", broker.ErrNotFound, opts.Name)
	}
	if !opts.Force {
		if !opts.IO.StdinTTY {
			return usagef("refusing to delete %s without confirmation: standard input is not a terminal; pass --force", opts.Name)
		}
		fprintf(opts.IO.ErrOut, "Delete secret %s? This cannot be undone. [y/N] ", opts.Name)
		line, _ := bufio.NewReader(opts.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fprintf(opts.IO.ErrOut, "not deleted\n")
			return nil
		}
	}
	if err := b.Delete(c, broker.NameRequest{Name: opts.Name}); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "deleted: %s\n", opts.Name)
	return nil
}
