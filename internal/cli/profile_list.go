package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/profile"
)

func newProfileListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List profiles",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			all, err := profile.Load(f.profilesPath())
			if err != nil {
				return usageError{err}
			}
			for _, n := range profile.Names(all) {
				p := all[n]
				fprintf(f.IO.Out, "%s\t%s\tttl %s\n", n, strings.Join(p.Secrets, ","), p.TTL)
			}
			return nil
		},
	}
}
