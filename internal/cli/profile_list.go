package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/profile"
)

type profileListOptions struct {
	IO       *IOStreams
	Profiles func() (map[string]profile.Profile, error)
}

func newProfileListCmd(f *Factory) *cobra.Command {
	opts := &profileListOptions{IO: f.IO, Profiles: f.profiles}
	return &cobra.Command{
		Use:   "list",
		Short: "List profiles",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return runProfileList(opts) },
	}
}

func runProfileList(opts *profileListOptions) error {
	all, err := opts.Profiles()
	if err != nil {
		return err
	}
	for _, n := range profile.Names(all) {
		p := all[n]
		fprintf(opts.IO.Out, "%s\t%s\tttl %s\n", n, strings.Join(p.Secrets, ","), p.TTL)
	}
	return nil
}
