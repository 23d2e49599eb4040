package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newInspectCmd(f *Factory) *cobra.Command {
	var t tokenFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--macaroon M]",
		Short: "Show a token's id, caveats and expiry (no key needed; nothing is verified)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			info, err := broker.Inspect(tok)
			if err != nil {
				return err
			}
			return printTokenInfo(f, info, asJSON)
		},
	}
	t.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printTokenInfo(f *Factory, info broker.TokenInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	// The location is unsigned and arbitrary: quoted, it cannot drive the
	// terminal.
	fprintf(f.IO.Out, "id:       %s\nlocation: \"%s\"\n", info.ID, info.Location)
	if !info.Expires.IsZero() {
		left := time.Until(info.Expires).Truncate(time.Second)
		state := fmt.Sprintf("%s left", left)
		if left <= 0 {
			state = "EXPIRED"
		}
		fprintf(f.IO.Out, "expires:  %s (%s)\n", info.Expires.Format(time.RFC3339), state)
	}
	fprintf(f.IO.Out, "caveats:\n")
	for _, c := range info.Caveats {
		fprintf(f.IO.Out, "  %s\n", c) // caveats parsed: printable ASCII only
	}
	return nil
}
