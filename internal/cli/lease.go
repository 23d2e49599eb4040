package cli

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/caveat"
)

func newLeaseCmd(f *Factory) *cobra.Command {
	var rf restrictFlags
	cmd := &cobra.Command{
		Use:   "lease KEY --ttl 5m [caveat flags]",
		Short: "Issue a recorded, revocable token for one secret (prints only the token)",
		Long: `A lease is a token for one secret, minted with the same checks as
"macaroon mint" (live session, policy max_ttl) and recorded: "llms leases"
lists it, "llms revoke ID" ends it.`,
		Args: exactArgs(1, "KEY"),
		RunE: func(_ *cobra.Command, args []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			r, err := rf.restrictions(c)
			if err != nil {
				return err
			}
			r.Lists[caveat.NameSecret] = []string{args[0]}
			tok, info, err := b.Lease(r, c)
			return printToken(f, "lease", tok, info, err)
		},
	}
	rf.register(cmd, false)
	return cmd
}

func newLeasesCmd(f *Factory) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "leases",
		Short: "List the tokens issued (leases and mints) that are still active",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			list, err := b.Leases(all, c)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				if list == nil {
					return enc.Encode([]struct{}{})
				}
				return enc.Encode(list)
			}
			now := time.Now()
			for _, l := range list {
				state := "active, " + l.Expires.Sub(now).Truncate(time.Second).String() + " left"
				switch {
				case !l.Revoked.IsZero():
					state = "revoked"
				case !now.Before(l.Expires):
					state = "expired"
				}
				fprintf(f.IO.Out, "%s  %-5s  %-22s  %s  (%s)\n", l.ID, l.Kind, strings.Join(l.Secrets, ","), l.Expires.Format(time.RFC3339), state)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include leases that expired or were revoked in the last day")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
