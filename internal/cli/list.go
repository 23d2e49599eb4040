package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/broker"
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
	opts.addFlags(cmd.Flags(), &token)
	return cmd
}

// addFlags registers list's flags; the agent-mode client parses the same.
func (opts *listOptions) addFlags(fs *pflag.FlagSet, token *tokenFlags) {
	token.addTo(fs)
	fs.BoolVar(&opts.JSON, "json", false, "print a JSON array of {name, updated}")
}

func runList(opts *listOptions) error {
	g, c, err := opts.openGate()
	if err != nil {
		return err
	}
	res, err := g.List(c, broker.ListRequest{WithTimes: opts.JSON})
	if err != nil {
		return err
	}
	es := res.Entries
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
