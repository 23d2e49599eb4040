package cli

import (
	"errors"
	"fmt"
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
	fmt.Fprintf(out, "version:     %s\n", version())
	fmt.Fprintf(out, "store:       %s\n", dir)
	b, err := f.Broker()
	if errors.Is(err, broker.ErrV3Store) {
		fmt.Fprintf(out, "identity:    an llm-secrets v3 store (run `llms migrate`)\n")
		return errors.New("no llms store yet")
	}
	if errors.Is(err, broker.ErrNoStore) {
		fmt.Fprintf(out, "identity:    missing (run `llms init`)\n")
		noteV3Store(f, dir)
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
	fmt.Fprintf(out, "identity:    present\n")
	if s.Rotating {
		fmt.Fprintf(out, "rotation:    INCOMPLETE — run `llms revoke-all --rotate` again to finish it\n")
	}
	fmt.Fprintf(out, "secrets:     %d\n", s.Secrets)
	if s.Session != nil {
		fmt.Fprintf(out, "session:     live until %s (%s left)\n", s.Session.Expires.Format(time.RFC3339), time.Until(s.Session.Expires).Truncate(time.Second))
	} else {
		fmt.Fprintf(out, "session:     none (%v)\n", s.SessionErr)
	}
	if s.Agent != "" {
		fmt.Fprintf(out, "agent:       %s — secrets need a token here\n", s.Agent)
	} else {
		fmt.Fprintf(out, "agent:       none detected\n")
	}
	if v3, ok := broker.FindV3Store(dir, f.Getenv); ok {
		fmt.Fprintf(out, "v3 store:    %s (run `llms migrate` to move it here)\n", v3)
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(out, "permissions: %d problem(s) repaired (see warnings above)\n", len(s.Warnings))
	} else {
		fmt.Fprintf(out, "permissions: ok\n")
	}
	return nil
}
