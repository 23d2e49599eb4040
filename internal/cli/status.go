package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the store location, identity, number of secrets, session and problems",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runStatus(f) },
	}
}

func runStatus(f *Factory) error {
	out := f.IO.Out
	dir, err := f.StoreDir()
	if err != nil {
		return err
	}
	fprintf(out, "version:     %s\n", version())
	fprintf(out, "store:       %s\n", dir)
	b, err := f.Broker()
	if errors.Is(err, broker.ErrNoStore) {
		fprintf(out, "identity:    missing (run `llms init`)\n")
		return errors.New("no store")
	}
	if err != nil {
		return err
	}
	c, err := f.caller(nil, nil)
	if err != nil {
		return err
	}
	s, err := b.Status(c)
	if err != nil {
		return err
	}
	fprintf(out, "identity:    present\n")
	if s.Rotating {
		fprintf(out, "rotation:    INCOMPLETE — run `llms revoke-all --rotate` again to finish it\n")
	}
	fprintf(out, "secrets:     %d\n", s.Secrets)
	if s.Session != nil {
		fprintf(out, "session:     live until %s (%s left)\n", s.Session.Expires.Format(time.RFC3339), time.Until(s.Session.Expires).Truncate(time.Second))
	} else {
		fprintf(out, "session:     none (%v)\n", s.SessionErr)
	}
	if s.Agent != "" {
		fprintf(out, "agent:       %s — secrets need a token here\n", s.Agent)
	} else {
		fprintf(out, "agent:       none detected\n")
	}
	if len(s.Warnings) > 0 {
		fprintf(out, "permissions: %d problem(s) repaired (see warnings above)\n", len(s.Warnings))
	} else {
		fprintf(out, "permissions: ok\n")
	}
	return nil
}
