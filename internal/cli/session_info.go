package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type sessionInfoOptions struct {
	IO     *IOStreams
	Now    func() time.Time
	Broker func() (*broker.Broker, error)
}

func newSessionInfoCmd(f *Factory) *cobra.Command {
	opts := &sessionInfoOptions{IO: f.IO, Now: f.now, Broker: f.Broker}
	return &cobra.Command{
		Use:   "session-info",
		Short: "Show who started the live session, where, and when it expires",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runSessionInfo(opts) },
	}
}

func runSessionInfo(opts *sessionInfoOptions) error {
	b, err := opts.Broker()
	if err != nil {
		return err
	}
	s, err := b.CurrentSession()
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "user:     %s\nhost:     %s\ndir:      %s\nstarted:  %s\nexpires:  %s (%s left)\nroot key: %s\n",
		s.User, s.Host, s.Dir, s.Created.Format(time.RFC3339), s.Expires.Format(time.RFC3339),
		s.Expires.Sub(opts.Now()).Truncate(time.Second), s.KeyID)
	return nil
}
