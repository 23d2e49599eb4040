package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type listOptions struct {
	JSON bool
}

func newListCmd(f *Factory) *cobra.Command {
	var opts listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List secret names (never values)",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runList(f, opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of {name, updated}")
	return cmd
}

func runList(f *Factory, opts listOptions) error {
	b, err := f.Broker()
	if err != nil {
		return err
	}
	es, err := b.List(opts.JSON)
	if err != nil {
		return err
	}
	if opts.JSON {
		type item struct {
			Name    string    `json:"name"`
			Updated time.Time `json:"updated"`
		}
		items := make([]item, len(es))
		for i, e := range es {
			items[i] = item{e.Name, e.Updated}
		}
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	for _, e := range es {
		fmt.Fprintln(f.IO.Out, e.Name)
	}
	return nil
}
