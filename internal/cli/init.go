package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newInitCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a new store: directory, age identity and recipients",
		Long: `Create a new store: the directory (mode 0700), an age X25519 identity
(identity.txt, 0600) and its recipients file. Refuses to touch an existing store.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			dir, err := f.StoreDir()
			if err != nil {
				return err
			}
			if err := broker.Init(dir); err != nil {
				return err
			}
			fprintf(f.IO.Out, "initialised store: %s\n", dir)
			return nil
		},
	}
}
