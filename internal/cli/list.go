package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"
)

type listOptions struct {
	IO *IOStreams
	access

	JSON bool
}

func newListCmd(f *Factory) *cobra.Command {
	opts := &listOptions{IO: f.IO}
	var token tokenFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List secret names (never values)",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runList(opts) },
	}
	opts.access = f.accessWithToken(cmd, &token)
	token.register(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of {name, updated}")
	return cmd
}

func runList(opts *listOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	es, err := b.List(opts.JSON, c)
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
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	for _, e := range es {
		fprintf(opts.IO.Out, "%s\n", e.Name)
	}
	return nil
}
