package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/profile"
)

type profileShowOptions struct {
	IO      *IOStreams
	Profile func(name string) (profile.Profile, error)

	Name string
}

func newProfileShowCmd(f *Factory) *cobra.Command {
	opts := &profileShowOptions{IO: f.IO, Profile: f.profile}
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show what a profile grants",
		Args:  exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runProfileShow(opts)
		},
	}
}

func runProfileShow(opts *profileShowOptions) error {
	p, err := opts.Profile(opts.Name)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	fprintf(out, "profile: %s\nsecrets: %s\nttl:     %s\nenv:\n", p.Name, strings.Join(p.Secrets, ", "), p.TTL)
	for _, v := range p.Vars() {
		fprintf(out, "  %s <- %s\n", v, p.Env[v])
	}
	for _, k := range caveat.ListKinds() {
		if items := p.Caveats[k.Name]; len(items) > 0 {
			fprintf(out, "%-8s %s\n", k.Name+":", strings.Join(items, ", "))
		}
	}
	if len(p.AllowHost) > 0 {
		fprintf(out, "allow_host: %s (llms agent --profile: what the agent may reach)\n", strings.Join(p.AllowHost, ", "))
	}
	return nil
}
