package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type statusOptions struct {
	IO       *IOStreams
	Now      func() time.Time
	StoreDir func() (string, error)
	Getenv   func(string) string
	access
}

func newStatusCmd(f *Factory) *cobra.Command {
	opts := &statusOptions{IO: f.IO, Now: f.now, StoreDir: f.StoreDir, Getenv: f.Getenv, access: f.accessWithoutToken()}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the store location, identity, number of secrets, session and problems",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runStatus(opts) },
	}
}

func runStatus(opts *statusOptions) error {
	out := opts.IO.Out
	fprintf(out, "version:     %s\n", version())
	if sock := getenvOrEmpty(opts.Getenv, envSocket); sock != "" {
		// Inside agent mode the store is the broker's, out of reach.
		fprintf(out, "store:       served by the agent-mode broker at %s\n", sock)
		printAgentModeStatus(out)
		return nil
	}
	dir, err := opts.StoreDir()
	if err != nil {
		return err
	}
	fprintf(out, "store:       %s\n", dir)
	printAgentModeStatus(out)
	b, err := opts.Broker()
	if errors.Is(err, broker.ErrV3Store) {
		fprintf(out, "identity:    an llm-secrets v3 store (run `llms migrate`)\n")
		return errors.New("no llms store yet")
	}
	if errors.Is(err, broker.ErrNoStore) {
		fprintf(out, "identity:    missing (run `llms init`)\n")
		noteV3Store(opts.IO, dir, opts.Getenv)
		return errors.New("no store")
	}
	if err != nil {
		return err
	}
	c, err := opts.Caller()
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
		fprintf(out, "session:     live until %s (%s left)\n", s.Session.Expires.Format(time.RFC3339), s.Session.Expires.Sub(opts.Now()).Truncate(time.Second))
	} else {
		fprintf(out, "session:     none (%v)\n", s.SessionErr)
	}
	if s.Agent != "" {
		fprintf(out, "agent:       %s — secrets need a token here\n", s.Agent)
	} else {
		fprintf(out, "agent:       none detected\n")
	}
	if s.Requests > 0 {
		fprintf(out, "requests:    %d secret(s) asked for by agents (llms requests)\n", s.Requests)
	}
	if v3, ok := broker.FindV3Store(dir, opts.Getenv); ok {
		fprintf(out, "v3 store:    %s (run `llms migrate` to move it here)\n", v3)
	}
	if len(s.Warnings) > 0 {
		fprintf(out, "permissions: %d problem(s) repaired (see warnings above)\n", len(s.Warnings))
	} else {
		fprintf(out, "permissions: ok\n")
	}
	return nil
}

// getenvOrEmpty is getenv(name), or "" without a getenv.
func getenvOrEmpty(getenv func(string) string, name string) string {
	if getenv == nil {
		return ""
	}
	return getenv(name)
}
