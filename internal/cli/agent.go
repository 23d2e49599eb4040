package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

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
	Hide        []string
	NoSandbox   bool
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
state can be written. Its environment loses every LLM_SECRETS_* variable and
credential variables (cloud keys, GITHUB_TOKEN, *_API_KEY, …) except its own
API key and --keep-env.

With --secret (and --ttl) or --profile, the agent gets a token with those
caveats, stamped with the agent's id (--agent, else the id of the program's
name); the token is revoked when the agent exits. When the agent exits, every
process it left behind is killed, and llms exits with the agent's status.

Without Landlock llms refuses, unless --no-sandbox is given.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("no agent given (usage: llms agent [flags] -- AGENT [ARGS…])")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Argv = args
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
	// --keep-env is registered with the caveat flags; here it keeps a
	// variable in the agent's environment and adds no caveat.
	fl.Lookup("keep-env").Usage = "keep credential variable VAR in the agent's environment (repeat or comma-separate)"
	fl.BoolVar(&opts.NoSandbox, "no-sandbox", false, "run the agent WITHOUT a sandbox (it can then read the keys)")
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

	b, c, err := opts.open()
	if err != nil {
		return err
	}
	launch := broker.AgentLaunch{Agent: id, Program: path, Sandbox: fmt.Sprintf("landlock abi %d", abi)}
	if opts.NoSandbox {
		launch.Sandbox = "none (--no-sandbox)"
	}

	// The socket's directory exists before the rules are built (a
	// directory made later beside a hidden path would be out of reach),
	// and the rules come before the token: a launch that cannot be
	// confined mints nothing.
	sockDir, err := socketDir(opts.LookupEnv)
	if err != nil {
		return err
	}
	defer os.RemoveAll(sockDir)
	var rules *sandbox.Rules
	if !opts.NoSandbox {
		if rules, err = agentRules(opts, b.Dir(), id); err != nil {
			return err
		}
	}
	token, err := mintAgentToken(opts, b, c, id)
	if err != nil {
		return err
	}
	if token != nil {
		launch.TokenID = token.info.ID
	}
	if err := b.AgentStart(launch, c); err != nil {
		revokeAgentToken(opts, b, c, token)
		return err
	}

	srv, err := serveBroker(opts, b, c, id, rules, sockDir)
	if err != nil {
		revokeAgentToken(opts, b, c, token)
		return err
	}
	set := []string{envSocket + "=" + srv.socket}
	if token != nil {
		set = append(set, envToken+"="+token.text)
	}
	env := sandbox.AgentEnv(opts.Environ(), id, *opts.Restrict.lists[caveat.NameKeepEnv], set)
	startPath, argv := path, opts.Argv
	if opts.NoSandbox {
		fprintf(opts.IO.ErrOut, "llms: WARNING: --no-sandbox: %s runs WITHOUT a sandbox; it can read the store's identity and every credential file you can\n", id)
	} else {
		self, err := opts.Self()
		if err == nil {
			startPath, argv, err = sandbox.Wrap(rules, self, "llms", path, opts.Argv)
		}
		if err != nil {
			srv.stop(opts)
			revokeAgentToken(opts, b, c, token)
			return err
		}
		for _, m := range sandbox.Missing(abi) {
			fprintf(opts.IO.ErrOut, "llms: note: Landlock ABI %d: %s\n", abi, m)
		}
	}
	status, err := superviseAgent(opts, startPath, argv, env, srv)
	revokeAgentToken(opts, b, c, token)
	if aerr := b.AgentEnd(launch, status, c); aerr != nil {
		fprintf(opts.IO.ErrOut, "llms: warning: %v\n", aerr)
	}
	if err != nil {
		return err
	}
	return childExit{status}
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
			return "", usageError{err}
		}
		return id, nil
	}
	if id, ok := broker.AgentForProgram(path); ok {
		return id, nil
	}
	return "", usagef("%s is not a known agent program; say which agent it is with --agent NAME", filepath.Base(path))
}

// agentRules builds the sandbox for this launch.
func agentRules(opts *agentOptions, storeDir, id string) (*sandbox.Rules, error) {
	home, err := opts.AccountHome()
	if err != nil {
		return nil, fmt.Errorf("finding your home directory: %w", err)
	}
	homes := []string{home}
	if h, ok := opts.LookupEnv("HOME"); ok && filepath.IsAbs(h) && filepath.Clean(h) != filepath.Clean(home) {
		homes = append(homes, h)
	}
	wd, err := opts.Getwd()
	if err != nil {
		return nil, err
	}
	spec, err := sandbox.AgentSpec(sandbox.AgentOptions{
		Homes: homes, DataDir: storeDir, ConfigDirs: opts.ConfigDirs(), Workdir: wd, TempDir: os.TempDir(), Agent: id,
		Terminals: sandbox.Terminals(0, 1, 2), AllowRead: opts.AllowRead, AllowWrite: opts.AllowWrite, Hide: opts.Hide,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return sandbox.Build(spec)
}

type agentToken struct {
	text string
	info broker.TokenInfo
}

// mintAgentToken mints the agent's token from --profile or the caveat
// flags, with the agent caveat set to id; nil when no secret is named.
func mintAgentToken(opts *agentOptions, b *broker.Broker, c *broker.Caller, id string) (*agentToken, error) {
	r, err := opts.Restrict.restrictions(c)
	if err != nil {
		return nil, err
	}
	delete(r.Lists, caveat.NameKeepEnv) // the agent's environment, not a caveat
	if opts.ProfileName != "" {
		if len(r.Lists) > 1 || r.TTL != 0 || len(r.Lists[caveat.NameAgent]) != len(r.Lists) {
			return nil, usagef("--profile and caveat flags do not mix (the profile holds the caveats)")
		}
		p, err := opts.Profile(opts.ProfileName)
		if err != nil {
			return nil, err
		}
		r = profileRestrictions(p, 0)
	} else if len(r.Secrets()) == 0 {
		if len(r.Lists) > 1 || r.TTL != 0 {
			return nil, usagef("caveat flags without --secret: a token must name at least one secret")
		}
		return nil, nil
	}
	if r.Lists == nil {
		r.Lists = map[string][]string{}
	}
	r.Lists[caveat.NameAgent] = []string{id}
	text, info, err := b.Mint(r, c)
	if err != nil {
		return nil, err
	}
	return &agentToken{text, info}, nil
}

func revokeAgentToken(opts *agentOptions, b *broker.Broker, c *broker.Caller, t *agentToken) {
	if t == nil {
		return
	}
	if err := b.Revoke(t.info.ID, c); err != nil {
		fprintf(opts.IO.ErrOut, "llms: warning: revoking the agent's token %s: %v (run `llms revoke %s`)\n", t.info.ID, err, t.info.ID)
	}
}

// superviseAgent starts the agent as a child of this subreaper, relays
// TERM, HUP, USR1 and USR2, and, once it exits, ends every process left in
// its tree. It returns the agent's status (128+n for signal n).
func superviseAgent(opts *agentOptions, path string, argv, env []string, srv *agentBroker) (int, error) {
	defer srv.stop(opts)
	if err := sandbox.BecomeSubreaper(); err != nil {
		return 0, fmt.Errorf("becoming a subreaper: %w", err)
	}
	// INT and QUIT from the keyboard reach the agent from the terminal;
	// llms must not die from them while the agent decides what they mean.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Stdin: opts.IO.In, Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%w: %v", broker.ErrCommandNotExecutable, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
wait:
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGINT && sig != syscall.SIGQUIT {
				_ = cmd.Process.Signal(sig)
			}
		case waitErr = <-done:
			break wait
		}
	}
	// The broker stops first (it kills the children it started and reaps
	// them), then whatever else is left in the tree is ended and reaped.
	srv.stop(opts)
	if n := sandbox.EndTree(5 * time.Second); n > 0 {
		fprintf(opts.IO.ErrOut, "llms: ended %d process(es) the agent left behind\n", n)
	}
	if cmd.ProcessState == nil {
		return 0, waitErr
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
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

// agentBroker is the broker serving one agent on a Unix socket in a
// private directory.
type agentBroker struct {
	dir, socket string
	cancel      context.CancelFunc
	done        chan error
	stopped     bool
	rules       *sandbox.Prepared // nil without a sandbox
}

// serveBroker starts the broker for the agent: a socket in a fresh 0700
// directory under $XDG_RUNTIME_DIR (or the temp dir), the policy read now,
// the agent's identity stamped on every request, each child confined in a
// new domain beside the agent's.
func serveBroker(opts *agentOptions, b *broker.Broker, c *broker.Caller, id string, rules *sandbox.Rules, dir string) (*agentBroker, error) {
	pol, err := broker.LoadPolicy(c)
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "broker.sock")
	l, err := agentsock.Listen(socket)
	if err != nil {
		return nil, fmt.Errorf("agent mode: %w", err)
	}
	srv := &agentsock.Server{Broker: b, Agent: id, Policy: pol, Root: os.Getpid(),
		Log: func(line string) { fprintf(opts.IO.ErrOut, "llms broker: %s\n", line) }}
	ctx, cancel := context.WithCancel(context.Background())
	ab := &agentBroker{dir: dir, socket: socket, cancel: cancel, done: make(chan error, 1)}
	if rules != nil {
		// Compiled once: a child then costs one landlock_restrict_self,
		// not a walk over every rule's path.
		if ab.rules, err = sandbox.Prepare(rules); err != nil {
			l.Close()
			cancel()
			return nil, err
		}
		srv.Confine = ab.rules.Restrict
	}
	go func() { ab.done <- srv.Serve(ctx, l) }()
	return ab, nil
}

// socketDir makes a fresh directory, 0700, for the broker's socket: under
// $XDG_RUNTIME_DIR when it is an absolute directory, else the temp dir.
func socketDir(lookup func(string) (string, bool)) (string, error) {
	base := ""
	if d, ok := lookup("XDG_RUNTIME_DIR"); ok && filepath.IsAbs(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			base = d
		}
	}
	dir, err := os.MkdirTemp(base, "llms-agent-")
	if err != nil {
		return "", fmt.Errorf("agent mode: making the socket directory: %w", err)
	}
	return dir, nil
}

// stop ends the broker (its running children are killed), waiting a few
// seconds at most, and removes the socket directory.
func (ab *agentBroker) stop(opts *agentOptions) {
	if ab.stopped {
		return
	}
	ab.stopped = true
	ab.cancel()
	select {
	case err := <-ab.done:
		if err != nil {
			fprintf(opts.IO.ErrOut, "llms broker: %v\n", err)
		}
		if ab.rules != nil {
			ab.rules.Close()
		}
	case <-time.After(5 * time.Second):
		fprintf(opts.IO.ErrOut, "llms broker: still busy after 5s; ending its processes\n")
	}
	os.RemoveAll(ab.dir)
}
