package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/profile"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// envSocket names the broker's socket in the agent's environment.
const envSocket = agentsock.SocketEnv

type agentOptions struct {
	IO          *IOStreams
	LookupEnv   func(string) (string, bool)
	Environ     func() []string
	Getwd       func() (string, error)
	AccountHome func() (string, error)
	StoreDir    func() (string, error)
	ConfigDirs  func() []string
	Profile     func(name string) (profile.Profile, error)
	// Self is the llms executable that confines the agent (os.Executable).
	Self func() (string, error)
	access

	ProfileName string
	Restrict    restrictFlags
	AllowRead   []string
	AllowWrite  []string
	AllowSocket []string
	Hide        []string
	NoSandbox   bool
	// LandlockABI, when set (-1 is unset), caps the Landlock ABI the rules
	// are built for, to see what the agent can do on an older kernel.
	LandlockABI int
	Argv        []string
}

func newAgentCmd(f *Factory) *cobra.Command {
	opts := &agentOptions{IO: f.IO, LookupEnv: f.LookupEnv, Environ: f.Environ, Getwd: f.getwd,
		AccountHome: f.accountHome, StoreDir: f.StoreDir, Profile: f.profile, Self: os.Executable,
		ConfigDirs: f.llmsConfigDirs, access: f.accessWithoutToken()}
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
socket of yours. Its environment loses every LLM_SECRETS_* variable and
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
			if !cmd.Flags().Changed("landlock-abi") {
				opts.LandlockABI = -1
			}
			return runAgent(opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	opts.Restrict.register(cmd, true)
	fl.StringVar(&opts.ProfileName, "profile", "", "mint the agent's token from this profile (profiles.toml)")
	fl.StringSliceVar(&opts.AllowRead, "allow-read", nil, "also let the agent read PATH (un-hides a default credential path)")
	fl.StringSliceVar(&opts.AllowWrite, "allow-write", nil, "also let the agent write PATH")
	fl.StringSliceVar(&opts.Hide, "hide", nil, "also hide PATH from the agent")
	fl.StringArrayVar(&opts.AllowSocket, "allow-socket", nil, "let the agent connect to your Unix socket PATH (e.g. ssh-agent's); repeat for more")
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

func runAgent(opts *agentOptions) error {
	if err := refuseNested(opts.LookupEnv); err != nil {
		return err
	}
	path, err := exec.LookPath(opts.Argv[0])
	if err != nil {
		return fmt.Errorf("%w: %s", broker.ErrCommandNotFound, opts.Argv[0])
	}
	if path, err = filepath.Abs(path); err != nil {
		return err
	}
	id, err := agentOf(opts, path)
	if err != nil {
		return err
	}
	abi := sandbox.ABI()
	if abi == 0 && !opts.NoSandbox {
		return fmt.Errorf("refusing to start %s: %w; --no-sandbox starts it anyway, unprotected", opts.Argv[0], sandbox.ErrNoLandlock)
	}
	if abi, err = capABI(abi, opts.LandlockABI, opts.NoSandbox); err != nil {
		return err
	}

	// No process of the session, the broker's children with values in
	// their environment above all, may leave its memory in a core file.
	// Before the store is opened: this makes llms dumpable for a moment.
	if err := sandbox.NoCoreDumps(); err != nil {
		return fmt.Errorf("agent mode: %w", err)
	}
	// The agent's guard starts now, in parallel with the rest of the
	// launch; it is told what to start once that is known.
	self, err := opts.Self()
	if err != nil {
		return fmt.Errorf("agent mode: finding llms itself: %w", err)
	}
	guard, err := sandbox.StartGuard(self, opts.IO.In, opts.IO.Out, opts.IO.ErrOut)
	if err != nil {
		return fmt.Errorf("agent mode: %w", err)
	}
	defer guard.Abort()
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	launch := broker.AgentLaunch{Agent: id, Program: path, Sandbox: fmt.Sprintf("landlock abi %d", abi)}
	if opts.LandlockABI >= 0 {
		launch.Sandbox += fmt.Sprintf(" (--landlock-abi; the kernel offers %d)", sandbox.ABI())
	}
	if opts.NoSandbox {
		launch.Sandbox = "none (--no-sandbox)"
	}

	// Everything that can fail comes before the token is minted and the
	// launch recorded: the socket's directory (before the rules: a
	// directory made later beside a hidden path would be out of reach),
	// the rules, the re-exec that applies them, the broker.
	dir, err := makeLaunchDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir.path)
	var rules *sandbox.Rules
	var sup *sandbox.Supervisor
	var writable []string
	start := &sandbox.Wrapped{Path: path, Args: opts.Argv}
	if !opts.NoSandbox {
		if rules, writable, err = agentRules(opts, b.Dir(), id, path, dir, abi); err != nil {
			return err
		}
		if sup, err = agentSupervisor(opts, rules); err != nil {
			return err
		}
		defer sup.Close()
		if len(opts.AllowSocket) > 0 {
			launch.Sandbox += "; sockets allowed: " + strings.Join(sup.AllowedSockets(), ", ")
		}
		if start, err = sandbox.Wrap(rules, self, "llms", path, opts.Argv); err != nil {
			return err
		}
		defer start.Close()
	} else if len(opts.AllowSocket) > 0 {
		return usagef("--allow-socket and --no-sandbox contradict each other (without the sandbox every socket is reachable)")
	}
	// The token comes before the broker, which accepts no other: with
	// none, it refuses every request.
	launchID := newLaunchID()
	token, err := mintAgentToken(opts, b, c, id, launchID)
	if err != nil {
		return err
	}
	if token != nil {
		launch.TokenID = token.info.ID
	}
	srv, err := serveBroker(opts, b, c, id, launchID, launch.TokenID, rules, writable, dir.path, sup)
	if err == nil && sup != nil {
		err = sup.AllowBroker(srv.socket)
	}
	if err != nil {
		if srv != nil {
			srv.stop(opts)
		}
		revokeAgentToken(opts, b, c, token)
		return err
	}
	defer srv.stop(opts)
	if err := b.AgentStart(c, launch); err != nil {
		revokeAgentToken(opts, b, c, token)
		return err
	}

	// tmux makes its socket in /tmp/tmux-UID unless told otherwise, and the
	// shared /tmp takes no socket from the agent: its own tmux goes to its
	// own temp dir.
	set := []string{envSocket + "=" + srv.socket, "TMPDIR=" + dir.temp, "TMUX_TMPDIR=" + dir.temp}
	if token != nil {
		set = append(set, envToken+"="+token.text)
	}
	env := sandbox.AgentEnv(opts.Environ(), id, *opts.Restrict.lists[caveat.NameKeepEnv], set)
	if opts.NoSandbox {
		fprintf(opts.IO.ErrOut, "llms: WARNING: --no-sandbox: %s runs WITHOUT a sandbox; it can read the store's identity and every credential file you can\n", id)
	}
	if !opts.NoSandbox {
		for _, m := range sandbox.Missing(abi) {
			fprintf(opts.IO.ErrOut, "llms: note: Landlock ABI %d: %s\n", abi, m)
		}
		if len(opts.AllowSocket) > 0 {
			fprintf(opts.IO.ErrOut, "llms: note: the agent may connect to your socket(s) %s (--allow-socket): whatever they serve, it can use\n", strings.Join(sup.AllowedSockets(), ", "))
		}
	}
	status, err := superviseAgent(opts, guard, start, env, srv, launchID, sup)
	revokeAgentToken(opts, b, c, token)
	if aerr := b.AgentEnd(c, broker.AgentEndRequest{Launch: launch, ExitStatus: status}); aerr != nil {
		fprintf(opts.IO.ErrOut, "llms: warning: %v\n", aerr)
	}
	if err != nil {
		return err
	}
	return childExit{Code: status}
}

// capABI is the ABI to confine with: the kernel's, or --landlock-abi's
// lower one.
func capABI(kernel, flag int, noSandbox bool) (int, error) {
	switch {
	case flag < 0:
		return kernel, nil
	case noSandbox:
		return 0, usagef("--landlock-abi and --no-sandbox contradict each other")
	case flag < 1 || flag > kernel:
		return 0, usagef("--landlock-abi %d: this kernel offers Landlock ABI 1 to %d", flag, kernel)
	}
	return flag, nil
}

// refuseNested: agent mode is for the human's shell. Under a token, or
// inside agent mode already, it is refused (the broker also refuses a
// detected agent when the launch is recorded).
func refuseNested(lookup func(string) (string, bool)) error {
	for _, v := range []string{envToken, envTokenFile} {
		if _, ok := lookup(v); ok {
			return fmt.Errorf("%w: $%s is set; llms agent is for the human, not for a holder of a token", broker.ErrDenied, v)
		}
	}
	if _, ok := lookup(envSocket); ok || sandbox.Confined() {
		return fmt.Errorf("%w: already inside agent mode; an agent cannot launch agents", broker.ErrDenied)
	}
	return nil
}

// agentOf is --agent, else the agent the program's name is known as.
func agentOf(opts *agentOptions, path string) (string, error) {
	given := *opts.Restrict.lists[caveat.NameAgent]
	switch {
	case len(given) > 1:
		return "", usagef("--agent names the one agent being launched; got %d", len(given))
	case len(given) == 1:
		id, err := broker.CanonicalAgent(given[0])
		if err != nil {
			return "", usageError{Err: err}
		}
		return id, nil
	}
	if id, ok := broker.AgentForProgram(path); ok {
		return id, nil
	}
	return "", usagef("%s is not a known agent program; say which agent it is with --agent NAME", filepath.Base(path))
}
