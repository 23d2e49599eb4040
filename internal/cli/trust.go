package cli

import (
	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/repoconf"
)

type trustOptions struct {
	IO       *IOStreams
	StoreDir func() (string, error)
	Config   func() (*repoconf.Config, error)
}

func newTrustCmd(f *Factory) *cobra.Command {
	opts := &trustOptions{IO: f.IO, StoreDir: f.StoreDir, Config: f.repoConfig}
	return &cobra.Command{
		Use:   "trust",
		Short: "Let llms use the shared store this repository's .llm-secrets.toml names",
		Long: `Trust the .llm-secrets.toml of the repository around the working directory,
as it is now: its SHA-256 is pinned in your data dir, and llms uses the store it
names only while the file is unchanged (a changed file needs "llms trust" again,
like "direnv allow"). The file can only name a directory inside the repository
and a branch; nothing in it is run.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runTrust(opts) },
	}
}

func runTrust(opts *trustOptions) error {
	conf, err := opts.Config()
	if err != nil {
		return err
	}
	if conf == nil {
		return usagef("no %s at the top of a git repository around the working directory", repoconf.FileName)
	}
	dir, err := opts.StoreDir()
	if err != nil {
		return err
	}
	if err := repoconf.Trust(dir, *conf); err != nil {
		return err
	}
	fprintf(opts.IO.Out, "trusted: %s\n  store:  %s\n  branch: %s\n", conf.Path, conf.Store, conf.Branch)
	return nil
}
