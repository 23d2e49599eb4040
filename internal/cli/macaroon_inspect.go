package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
)

type inspectOptions struct {
	IO    *IOStreams
	Now   func() time.Time
	Token func() (string, error)

	JSON bool
}

func newInspectCmd(f *Factory) *cobra.Command {
	opts := &inspectOptions{IO: f.IO, Now: f.now}
	var t tokenFlags
	cmd := &cobra.Command{
		Use:   "inspect [--macaroon M]",
		Short: "Show a token's id, caveats and expiry (no key needed; nothing is verified)",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runInspect(opts) },
	}
	opts.Token = f.inputToken(cmd, &t)
	t.register(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runInspect(opts *inspectOptions) error {
	tok, err := opts.Token()
	if err != nil {
		return err
	}
	info, err := broker.Inspect(tok)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	// The location is unsigned and arbitrary: escaped, it cannot drive the
	// terminal.
	fprintf(out, "id:       %s\nlocation: \"%s\"\n", info.ID, info.Location)
	if !info.Expires.IsZero() {
		left := info.Expires.Sub(opts.Now()).Truncate(time.Second)
		state := fmt.Sprintf("%s left", left)
		if left <= 0 {
			state = "EXPIRED"
		}
		fprintf(out, "expires:  %s (%s)\n", info.Expires.Format(time.RFC3339), state)
	}
	fprintf(out, "caveats:\n")
	bound := false
	for _, c := range info.Caveats {
		fprintf(out, "  %s\n", c)
		bound = bound || strings.HasPrefix(c, caveat.NameLaunch+"=")
	}
	if bound {
		fprintf(out, "launch:   bound to one run of `llms agent`: honoured only by that launcher's broker, while it runs\n")
	}
	return nil
}
