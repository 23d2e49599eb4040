package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type peekOptions struct {
	IO *IOStreams
	access

	Name string
}

func newPeekCmd(f *Factory) *cobra.Command {
	opts := &peekOptions{IO: f.IO}
	var token tokenFlags
	cmd := &cobra.Command{
		Use:   "peek KEY",
		Short: "Show a bounded mask, the length and a fingerprint of a secret",
		Long: `Show enough of a secret to tell whether it is the right one, without revealing
it: at most 4 leading characters (none for values under 12 bytes, 2 under 24),
the length, and a fingerprint: 8 hex digits of an HMAC keyed by this store's
identity, so two peeks of one value match while nobody can test guesses
against a fingerprint seen in a transcript.`,
		Args: exactArgs(1, "KEY"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runPeek(opts)
		},
	}
	opts.access = f.accessWithToken(cmd, &token)
	token.register(cmd)
	return cmd
}

func runPeek(opts *peekOptions) error {
	g, c, err := opts.openGate()
	if err != nil {
		return err
	}
	p, err := g.Peek(c, broker.PeekRequest{Name: opts.Name})
	if err != nil {
		return err
	}
	shown := "(hidden)"
	if p.Prefix != "" {
		shown = p.Prefix + "…"
	}
	fprintf(opts.IO.Out, "%s: %s  length %d  fingerprint %s\n", p.Name, shown, p.Length, p.Fingerprint)
	return nil
}
