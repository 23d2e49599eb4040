package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/caveat"
)

func newProfileShowCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show what a profile grants",
		Args:  exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := f.profile(args[0])
			if err != nil {
				return err
			}
			out := f.IO.Out
			fprintf(out, "profile: %s\nsecrets: %s\nttl:     %s\nenv:\n", p.Name, strings.Join(p.Secrets, ", "), p.TTL)
			for _, v := range p.Vars() {
				fprintf(out, "  %s <- %s\n", v, p.Env[v])
			}
			for _, k := range caveat.ListKinds() {
				if items := p.Caveats[k.Name]; len(items) > 0 {
					fprintf(out, "%-8s %s\n", k.Name+":", strings.Join(items, ", "))
				}
			}
			return nil
		},
	}
}
