package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/agentmode"
	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// envSocket names the broker's socket in the agent's environment.
const envSocket = agentsock.SocketEnv

func newAgentCmd(f *Factory) *cobra.Command {
	opts := &agentmode.Options{Stdin: f.IO.In, Stdout: f.IO.Out, Stderr: f.IO.ErrOut, LookupEnv: f.LookupEnv,
		Environ: f.Environ, Getwd: f.getwd, AccountHome: f.accountHome, ConfigDirs: f.llmsConfigDirs,
		Self: os.Executable, Open: f.accessWithoutToken().open}
	opts.Profile = func(name string) (broker.Restrictions, error) {
		p, err := f.profile(name)
		if err != nil {
			return broker.Restrictions{}, err
		}
		return profileRestrictions(p, 0), nil
	}
	var restrict restrictFlags
	var allowHost []string
	opts.Caveats = restrict.restrictions
	cmd := &cobra.Command{
		Use:   "agent [--profile P | --secret K… --ttl T [caveat flags]] [sandbox flags] -- AGENT [ARGS…]",
		Short: "Run a coding agent in agent mode: sandboxed, away from the keys, with its own token",
		Long: `Run AGENT (claude, codex, aider, …) in agent mode. The agent runs in a Landlock
sandbox in which the llms store, key files and your credential files (~/.ssh,
~/.aws, ~/.gnupg, shell histories, … see docs/AGENT-MODE.md) cannot be read,
and only the working directory, the temp dirs, terminals and the agent's own
state can be written. llms decides the agent's connects and terminal opens
(and below Landlock ABI 6 its signals): your Unix sockets (tmux, systemd,
D-Bus, ssh-agent…), other terminals and processes are out of its reach;
its own servers and terminals work. --allow-socket PATH lets it reach one
socket of yours. Its network is an allow-list: its own API hosts, the hosts
--allow-host names (HOST[:PORT], *.example.com, an IP literal for a direct
connect, @npm @pypi @go @crates @github … for package registries and git
hosts; allow_host in the profile), through the credential proxy; its own
servers on this host work; your local servers, UDP and DNS do not.
--allow-net turns the allow-list off. Its environment loses every LLM_SECRETS_* variable and
credential variables (cloud keys, GITHUB_TOKEN, *_API_KEY, …) except its own
API key and --keep-env.

With --secret (and --ttl) or --profile, the agent gets a token with those
caveats, stamped with the agent's id (--agent, else the id of the program's
name) and bound to this launch: only this llms's broker honours it, while it
runs; it is also revoked when the agent exits. When the agent exits, or llms
is killed, every process the agent left behind is killed; llms exits with
the agent's status.

Without Landlock llms refuses, unless --no-sandbox is given.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("no agent given (usage: llms agent [flags] -- AGENT [ARGS…])")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			opts.Agent, opts.KeepEnv = *restrict.lists[caveat.NameAgent], *restrict.lists[caveat.NameKeepEnv]
			opts.AllowHost = allowHost
			if opts.ProfileName != "" {
				// The profile's allow_host, before the flags'.
				p, err := f.profile(opts.ProfileName)
				if err != nil {
					return err
				}
				opts.AllowHost = append(slices.Clone(p.AllowHost), allowHost...)
			}
			if !cmd.Flags().Changed("landlock-abi") {
				opts.LandlockABI = -1
			}
			return agentmode.Run(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	restrict.register(cmd, true)
	fl.StringVar(&opts.ProfileName, "profile", "", "mint the agent's token from this profile (profiles.toml)")
	fl.StringSliceVar(&opts.AllowRead, "allow-read", nil, "also let the agent read PATH (un-hides a default credential path)")
	fl.StringSliceVar(&opts.AllowWrite, "allow-write", nil, "also let the agent write PATH")
	fl.StringSliceVar(&opts.Hide, "hide", nil, "also hide PATH from the agent")
	fl.StringArrayVar(&opts.AllowSocket, "allow-socket", nil, "let the agent connect to your Unix socket PATH (e.g. ssh-agent's); repeat for more")
	fl.StringArrayVar(&allowHost, "allow-host", nil, "let the agent reach `HOST[:PORT]` (*.example.com for the names under it; an IP literal also directly) or the hosts of a @PRESET (@npm, @pypi, @go, @crates, @github, …); repeat for more")
	fl.BoolVar(&opts.AllowNet, "allow-net", false, "do not restrict the agent's network at all (a warning at launch, in the audit log)")
	// --keep-env is registered with the caveat flags; here it keeps a
	// variable in the agent's environment and adds no caveat.
	fl.Lookup("keep-env").Usage = "keep credential variable VAR in the agent's environment (repeat or comma-separate)"
	fl.BoolVar(&opts.NoSandbox, "no-sandbox", false, "run the agent WITHOUT a sandbox (it can then read the keys)")
	fl.IntVar(&opts.LandlockABI, "landlock-abi", 0, "confine as a kernel offering at most Landlock ABI `N` would (1 to the kernel's), to see what an older kernel leaves open")
	return cmd
}

// llmsConfigDirs are the llms config directories whose key files the
// sandbox hides: the account's own and $XDG_CONFIG_HOME's.
func (f *Factory) llmsConfigDirs() []string {
	var out []string
	for _, d := range f.policyConfigDirs() {
		out = append(out, filepath.Join(d, "llm-secrets"))
	}
	return out
}

// printAgentModeStatus is what `llms status` says about agent mode: the
// kernel's Landlock ABI and whether this process runs in the sandbox.
func printAgentModeStatus(out io.Writer) {
	if abi := sandbox.ABI(); abi == 0 {
		fprintf(out, "landlock:    not available (llms agent refuses without --no-sandbox)\n")
	} else {
		fprintf(out, "landlock:    ABI %d\n", abi)
	}
	if sandbox.Confined() {
		fprintf(out, "sandbox:     inside an agent-mode sandbox\n")
	} else {
		fprintf(out, "sandbox:     none\n")
	}
}
