package cli

import (
	"time"

	"github.com/spf13/cobra"
)

func newSessionStartCmd(f *Factory) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "session-start",
		Short: "Start a session: the root authority that delegated tokens are minted from",
		Long: `Create a fresh root key and the session token (a root macaroon expiring after
--ttl), both sealed in the store. "llms macaroon mint" then issues narrower,
shorter tokens under it. Nothing is printed that could be used as a token.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			s, err := b.StartSession(ttl, c)
			if err != nil {
				return err
			}
			fprintf(f.IO.Out, "session started: expires %s (in %s)\n", s.Expires.Format(time.RFC3339), ttl)
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 8*time.Hour, "session lifetime")
	return cmd
}

func newSessionInfoCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "session-info",
		Short: "Show who started the live session, where, and when it expires",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			b, err := f.Broker()
			if err != nil {
				return err
			}
			s, err := b.CurrentSession()
			if err != nil {
				return err
			}
			fprintf(f.IO.Out, "user:     %s\nhost:     %s\ndir:      %s\nstarted:  %s\nexpires:  %s (%s left)\nroot key: %s\n",
				s.User, s.Host, s.Dir, s.Created.Format(time.RFC3339), s.Expires.Format(time.RFC3339),
				time.Until(s.Expires).Truncate(time.Second), s.KeyID)
			return nil
		},
	}
}
