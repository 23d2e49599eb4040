package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/profile"
)

// configDir is $XDG_CONFIG_HOME, else ~/.config.
func (f *Factory) configDir() string {
	base := f.Getenv("XDG_CONFIG_HOME")
	if base == "" || !filepath.IsAbs(base) {
		base = filepath.Join(f.Getenv("HOME"), ".config")
	}
	return base
}

// profilesPath is <config>/llm-secrets/profiles.toml.
func (f *Factory) profilesPath() string {
	return filepath.Join(f.configDir(), "llm-secrets", "profiles.toml")
}

func (f *Factory) profile(name string) (profile.Profile, error) {
	p, err := profile.Get(f.profilesPath(), name)
	if err != nil {
		return p, usageError{err}
	}
	return p, nil
}

func profileRestrictions(p profile.Profile, ttl time.Duration) broker.Restrictions {
	if ttl == 0 {
		ttl = p.TTL
	}
	lists := maps.Clone(p.Caveats)
	if lists == nil {
		lists = map[string][]string{}
	}
	lists[caveat.NameSecret] = p.Secrets
	return broker.Restrictions{TTL: ttl, Lists: lists}
}

func profileInjections(p profile.Profile) []string {
	var out []string
	for _, v := range p.Vars() {
		out = append(out, v+"="+p.Env[v])
	}
	return out
}

func newProfileCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Named bundles of secrets, variables, lifetime and caveats (profiles.toml)",
		Long: `Profiles live in $XDG_CONFIG_HOME/llm-secrets/profiles.toml
(~/.config/llm-secrets/profiles.toml):

  [profiles.backend]
  secrets = ["DB_PASSWORD", "STRIPE_KEY"]   # required, never empty
  ttl     = "15m"                           # required
  branch  = ["main"]                        # optional caveats: ` + caveatNames(false) + `
  cmd     = ["psql"]
  [profiles.backend.env]
  PGPASSWORD = "DB_PASSWORD"                # default: a variable named like the secret`,
	}
	cmd.AddCommand(newProfileListCmd(f), newProfileShowCmd(f), newProfileMintCmd(f), newProfileExecCmd(f))
	return cmd
}

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
				fmt.Fprintf(f.IO.Out, "%s\t%s\tttl %s\n", n, strings.Join(p.Secrets, ","), p.TTL)
			}
			return nil
		},
	}
}

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
			fmt.Fprintf(out, "profile: %s\nsecrets: %s\nttl:     %s\nenv:\n", p.Name, strings.Join(p.Secrets, ", "), p.TTL)
			for _, v := range p.Vars() {
				fmt.Fprintf(out, "  %s <- %s\n", v, p.Env[v])
			}
			for _, k := range caveat.ListKinds() {
				if items := p.Caveats[k.Name]; len(items) > 0 {
					fmt.Fprintf(out, "%-8s %s\n", k.Name+":", strings.Join(items, ", "))
				}
			}
			return nil
		},
	}
}

func newProfileMintCmd(f *Factory) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "mint NAME [--ttl D]",
		Short: "Mint a token for a profile, printed as an export line for eval",
		Long:  `Mint a token with the profile's secrets and caveats: eval "$(llms profile mint backend)".`,
		Args:  exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			tok, err := mintProfile(f, args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "export %s=%s\n", envToken, tok)
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}

func mintProfile(f *Factory, name string, ttl time.Duration) (string, error) {
	p, err := f.profile(name)
	if err != nil {
		return "", err
	}
	b, c, err := f.gate(nil, nil)
	if err != nil {
		return "", err
	}
	tok, _, err := b.Mint(profileRestrictions(p, ttl), c)
	return tok, err
}

func newProfileExecCmd(f *Factory) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "exec NAME [--ttl D] -- CMD [ARGS…]",
		Short: "Mint a token for a profile and run CMD under it",
		Long: `Mint a short-lived token for the profile and run CMD under it, with the
profile's variables injected: the profile's caveats are enforced for this run
exactly as they would be for an agent holding the token.`,
		Args: func(_ *cobra.Command, args []string) error {
			n := len(args)
			if n > 1 && args[1] == "--" {
				n--
			}
			if n < 2 {
				return usagef("usage: llms profile exec NAME -- CMD [ARGS…]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags stop at NAME, so the "--" before CMD arrives as an argument.
			if args[1] == "--" {
				args = append([]string{args[0]}, args[2:]...)
			}
			p, err := f.profile(args[0])
			if err != nil {
				return err
			}
			tok, err := mintProfile(f, args[0], ttl)
			if err != nil {
				return err
			}
			c, err := f.caller(nil, nil)
			if err != nil {
				return err
			}
			c.Token, c.TokenGiven = tok, true
			return runExec(cmd.Context(), f, execOptions{Inject: profileInjections(p), Argv: args[1:]}, c)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default: the profile's ttl)")
	return cmd
}
