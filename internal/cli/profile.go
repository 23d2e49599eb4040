package cli

import (
	"maps"
	"path/filepath"
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

// profiles loads every profile.
func (f *Factory) profiles() (map[string]profile.Profile, error) {
	all, err := profile.Load(f.profilesPath())
	if err != nil {
		return nil, usageError{Err: err}
	}
	return all, nil
}

// profile loads one profile by name.
func (f *Factory) profile(name string) (profile.Profile, error) {
	p, err := profile.Get(f.profilesPath(), name)
	if err != nil {
		return p, usageError{Err: err}
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

  [backend]
  secrets = ["DB_PASSWORD", "STRIPE_KEY"]   # required, never empty
  ttl     = "15m"                           # required
  branch  = ["main"]                        # optional caveats: ` + caveatNames(false) + `
  cmd     = ["psql"]
  [backend.env]
  PGPASSWORD = "DB_PASSWORD"                # default: a variable named like the secret

The format is llm-secrets v3's; the [profiles.backend] form an earlier llms
read is refused with an error that says what to write.`,
	}
	cmd.AddCommand(newProfileListCmd(f), newProfileShowCmd(f), newProfileMintCmd(f), newProfileExecCmd(f))
	return cmd
}
