package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type sessionStartOptions struct {
	IO *IOStreams
	access

	TTL time.Duration
}

func newSessionStartCmd(f *Factory) *cobra.Command {
	opts := &sessionStartOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "session-start",
		Short: "Start a session: the root authority that delegated tokens are minted from",
		Long: `Create a fresh root key and the session token (a root macaroon expiring after
--ttl), both sealed in the store. "llms macaroon mint" then issues narrower,
shorter tokens under it. Nothing is printed that could be used as a token.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runSessionStart(opts) },
	}
	cmd.Flags().DurationVar(&opts.TTL, "ttl", 8*time.Hour, "session lifetime")
	return cmd
}

func runSessionStart(opts *sessionStartOptions) error {
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	s, err := b.StartSession(c, broker.SessionRequest{TTL: opts.TTL})
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "session started: expires %s (in %s)\n", s.Expires.Format(time.RFC3339), opts.TTL)
	return nil
}
