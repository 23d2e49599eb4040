package cli

import (
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type migrateOptions struct {
	IO       *IOStreams
	StoreDir func() (string, error)
	Getenv   func(string) string
	// Caller sees a token in the environment too: migrate refuses one.
	Caller func() (*broker.Caller, error)

	From string
	Yes  bool
}

func newMigrateCmd(f *Factory) *cobra.Command {
	opts := &migrateOptions{IO: f.IO, StoreDir: f.StoreDir, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "migrate [--from DIR] [--yes]",
		Short: "Move an llm-secrets v3 store (identity.txt + store.age) into llms",
		Long: `Move the secrets of an llm-secrets v3 store into llms, then remove what that
tool left in plaintext. Without --from, the store is looked for where that tool
kept it: $LLM_SECRETS_DIR, $XDG_DATA_HOME/llm-secrets (~/.local/share/llm-secrets),
then ~/.llm-secrets.

Everything is read and checked before anything changes: an invalid name, a
name llms already holds with another value, or a store that does not decrypt
changes nothing. migrate says what it will do and asks (--yes answers for
you; without a terminal and without --yes it refuses). Then it imports every
secret, and only once all are stored removes root.key and session.json (the
old macaroon root key and session, kept in plaintext) and store.age. If it
stops midway, run it again: it finishes.

When both stores share a directory, the v3 identity.txt becomes the llms
identity and the old audit.jsonl is kept as llm-secrets-v3-audit.jsonl.
Tokens minted by llm-secrets v3 are not honoured. Only the human migrates:
an agent, or anyone holding a token, is refused.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runMigrate(opts) },
	}
	// No token flags: a token in the environment is seen, and refused.
	opts.Caller = func() (*broker.Caller, error) { return f.callerWithToken(cmd, &tokenFlags{}) }
	cmd.Flags().StringVar(&opts.From, "from", "", "directory of the llm-secrets v3 store")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "migrate without asking")
	return cmd
}

func runMigrate(opts *migrateOptions) error {
	to, err := opts.StoreDir()
	if err != nil {
		return err
	}
	from := opts.From
	if from != "" {
		if from, err = filepath.Abs(from); err != nil {
			return usageError{Err: err}
		}
	} else {
		found, ok := broker.FindV3Store(to, opts.Getenv)
		if !ok {
			return usagef("no llm-secrets v3 store (identity.txt and store.age) found; pass --from DIR")
		}
		from = found
	}
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	m, err := broker.PlanMigration(c, broker.MigrationRequest{From: from, To: to})
	if err != nil {
		return err
	}
	defer m.Discard()
	describeMigration(opts.IO, m)
	if !opts.Yes {
		if ok, err := askYes(opts.IO, "Proceed?", "to migrate"); err != nil || !ok {
			return err
		}
	}
	res, err := m.Run()
	for _, name := range res.Imported {
		fprintf(opts.IO.Out, "imported: %s\n", name)
	}
	for _, p := range res.Removed {
		fprintf(opts.IO.Out, "removed: %s\n", p)
	}
	if err != nil {
		return err
	}
	fprintf(opts.IO.Out, "migrated %d secret(s) into %s\n", len(m.Names), m.To)
	return nil
}

// describeMigration says what Run will do, before it is asked to.
func describeMigration(io_ *IOStreams, m *broker.Migration) {
	out := io_.Out
	fprintf(out, "llm-secrets v3 store: %s (%d secret(s))\n", m.From, len(m.Names))
	fprintf(out, "migrate will:\n")
	if m.Adopt {
		fprintf(out, "  keep identity.txt as the identity of the llms store in the same directory\n")
	}
	if m.MoveAudit != "" {
		fprintf(out, "  rename its audit.jsonl to %s (llms keeps its own, chained log)\n", filepath.Base(m.MoveAudit))
	}
	for _, name := range m.Names {
		what := "import"
		if slices.Contains(m.Present, name) {
			what = "keep (already imported, same value)"
		}
		fprintf(out, "  %s %s\n", what, name)
	}
	fprintf(out, "  into the llms store in %s\n", m.To)
	for _, p := range m.Remove {
		fprintf(out, "  then remove %s%s\n", p, retiredNote(filepath.Base(p)))
	}
	for _, p := range m.Keep {
		fprintf(out, "  keep %s (delete it yourself once you no longer need the old store's backups)\n", p)
	}
	fprintf(out, "Tokens minted by llm-secrets v3 are not honoured: start a session (llms session-start) and mint new ones.\n")
}

func retiredNote(name string) string {
	switch name {
	case "root.key":
		return " (its macaroon root key, in plaintext)"
	case "session.json":
		return " (its session token, in plaintext)"
	case "leases.json":
		return " (its lease records; its tokens are not honoured)"
	case "store.age":
		return " (the old store)"
	}
	return ""
}
