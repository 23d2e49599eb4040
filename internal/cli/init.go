package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type initOptions struct {
	IO       *IOStreams
	StoreDir func() (string, error)
	Getenv   func(string) string
	// Shared and Name are --shared DIR and --name (init_shared.go).
	Shared, Name string
	shared       func(*initOptions) error
}

func newInitCmd(f *Factory) *cobra.Command {
	opts := &initOptions{IO: f.IO, StoreDir: f.StoreDir, Getenv: f.Getenv, shared: f.initShared}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new store: directory, age identity and recipients",
		Long: `Create a new store: the directory (mode 0700), an age X25519 identity
(identity.txt, 0600) and its recipients file. Refuses to touch an existing store,
and a directory holding an llm-secrets v3 store: ` + "`llms migrate`" + ` moves that one.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			if opts.Shared != "" {
				return opts.shared(opts)
			}
			return runInit(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Shared, "shared", "", "create a shared store in `DIR`, inside a git repository (see llms member, llms sync)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "with --shared: your member name (default $USER)")
	return cmd
}

func runInit(opts *initOptions) error {
	dir, err := opts.StoreDir()
	if err != nil {
		return err
	}
	if err := broker.Init(dir); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "initialised store: %s\n", dir)
	noteV3Store(opts.IO, dir, opts.Getenv)
	return nil
}

// noteV3Store points at migrate when an llm-secrets v3 store is where that
// tool kept it.
func noteV3Store(io_ *IOStreams, dir string, getenv func(string) string) {
	if v3, ok := broker.FindV3Store(dir, getenv); ok {
		fprintf(io_.ErrOut, "llms: an llm-secrets v3 store is in %s: `llms migrate` moves its secrets into llms\n", v3)
	}
}
