package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the store location, identity, number of secrets and problems",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runStatus(f) },
	}
}

func runStatus(f *Factory) error {
	out := f.IO.Out
	dir, err := f.StoreDir()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "version:     %s\n", version())
	fmt.Fprintf(out, "store:       %s\n", dir)
	b, err := f.Broker()
	if errors.Is(err, broker.ErrNoStore) {
		fmt.Fprintf(out, "identity:    missing (run `llms init`)\n")
		return errors.New("no store")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "identity:    present\n")
	es, err := b.List(false)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "secrets:     %d\n", len(es))
	if w := b.Warnings(); len(w) > 0 {
		fmt.Fprintf(out, "permissions: %d problem(s) repaired (see warnings above)\n", len(w))
	} else {
		fmt.Fprintf(out, "permissions: ok\n")
	}
	return nil
}
