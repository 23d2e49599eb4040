package cli

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type leasesOptions struct {
	IO  *IOStreams
	Now func() time.Time
	access

	All  bool
	JSON bool
}

func newLeasesCmd(f *Factory) *cobra.Command {
	opts := &leasesOptions{IO: f.IO, Now: f.now, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "leases",
		Short: "List the tokens issued (leases and mints) that are still active",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runLeases(opts) },
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "include leases that expired or were revoked in the last day")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runLeases(opts *leasesOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	list, err := b.Leases(c, broker.LeasesRequest{All: opts.All})
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if list == nil {
			return enc.Encode([]struct{}{})
		}
		return enc.Encode(list)
	}
	now := opts.Now()
	for _, l := range list {
		state := "active, " + l.Expires.Sub(now).Truncate(time.Second).String() + " left"
		switch {
		case !l.Revoked.IsZero():
			state = "revoked"
		case !now.Before(l.Expires):
			state = "expired"
		}
		fprintf(opts.IO.Out, "%s  %-5s  %-22s  %s  (%s)\n", l.ID, l.Kind, strings.Join(l.Secrets, ","), l.Expires.Format(time.RFC3339), state)
	}
	return nil
}
