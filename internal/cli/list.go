package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type listOptions struct {
	JSON  bool
	Token tokenFlags
}

func newListCmd(f *Factory) *cobra.Command {
	var opts listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List secret names (never values)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.caller(cmd, &opts.Token)
			if err != nil {
				return err
			}
			return runList(f, opts, c)
		},
	}
	opts.Token.register(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of {name, updated}")
	return cmd
}

func runList(f *Factory, opts listOptions, c *broker.Caller) error {
	b, err := f.Broker()
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
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	for _, e := range es {
		fprintf(f.IO.Out, "%s\n", e.Name)
	}
	return nil
}
