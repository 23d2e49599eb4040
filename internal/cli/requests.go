package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type requestsOptions struct {
	IO  *IOStreams
	Now func() time.Time
	access

	JSON    bool
	Dismiss string
}

func newRequestsCmd(f *Factory) *cobra.Command {
	opts := &requestsOptions{IO: f.IO, Now: f.now, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "List the secrets agents asked for (request_secret); llms set NAME answers one",
		Long: `List the pending requests agents made with the MCP tool request_secret: the
name, who asked, when and why. Store the value from your own terminal with
"llms set NAME", which answers the request; --dismiss NAME drops one without
storing anything. A name marked "exists" is already stored: setting it would
replace its value.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(_ *cobra.Command, _ []string) error {
			return runRequests(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&opts.Dismiss, "dismiss", "", "drop the request for this name")
	return cmd
}

func runRequests(opts *requestsOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	if opts.Dismiss != "" {
		if err := b.DismissRequest(c, broker.NameRequest{Name: opts.Dismiss}); err != nil {
			return err
		}
		fprintf(opts.IO.Out, "dismissed: %s\n", opts.Dismiss)
		return nil
	}
	list, err := b.Requests(c)
	if err != nil {
		return err
	}
	if opts.JSON {
		type item struct {
			broker.SecretRequest
			Exists bool `json:"exists"`
		}
		items := make([]item, len(list))
		for i, r := range list {
			items[i] = item{r, r.Exists}
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	if len(list) == 0 {
		fprintf(opts.IO.ErrOut, "no pending requests\n")
		return nil
	}
	for _, r := range list {
		agent := r.Agent
		if agent == "" {
			agent = "unknown agent"
		}
		exists := ""
		if r.Exists {
			exists = " (exists: setting it replaces the value)"
		}
		// The reason was checked for control characters when it was
		// recorded, and fprintf escapes any that a corrupt file holds.
		fprintf(opts.IO.Out, "%s%s\n  asked by %s (token %s) %s ago in %s %s\n  reason: %s\n  answer: llms set %s\n",
			r.Name, exists, agent, r.TokenID, opts.Now().Sub(r.Created).Truncate(time.Second).String(), orDash(r.Repo), orDash(r.Branch), r.Reason, r.Name)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
