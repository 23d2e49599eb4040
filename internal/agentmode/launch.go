package agentmode

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/exitstatus"
	"github.com/llm-secrets/llms/internal/human"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// Options is one launch: where llms reads and writes, how it opens the
// store, and the command's flags, parsed.
type Options struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	Environ        func() []string
	Getwd          func() (string, error)
	// AccountHome is the home of this uid in the user database, never
	// $HOME; ConfigDirs the llms config directories whose key files are
	// hidden.
	AccountHome func() (string, error)
	ConfigDirs  func() []string
	// Self is the llms executable that confines the agent (os.Executable).
	Self func() (string, error)
	// Open describes who is asking, then opens the broker.
	Open func() (*broker.Broker, *broker.Caller, error)
	// Profile is the caveats of a profile (profiles.toml).
	Profile func(name string) (broker.Restrictions, error)
	// Caveats are the caveat flags, resolved against the caller (--here).
	Caveats func(*broker.Caller) (broker.Restrictions, error)

	ProfileName string
	// Agent is --agent (the agent being launched, at most one); KeepEnv
	// --keep-env (credential variables kept in the agent's environment).
	Agent       []string
	KeepEnv     []string
	AllowRead   []string
	AllowWrite  []string
	AllowSocket []string
	// AllowHost is --allow-host and the profile's allow_host: egress rules
	// and @presets beside the agent's own API hosts; AllowNet --allow-net.
	AllowHost []string
	AllowNet  bool
	Hide      []string
	NoSandbox bool
	// LandlockABI, when set (-1 is unset), caps the Landlock ABI the rules
	// are built for, to see what the agent can do on an older kernel.
	LandlockABI int
	// HTTP are --http's bindings (internal/credproxy): the agent gets
	// placeholders, and a proxy outside the sandbox puts the values in
	// toward their hosts. HTTPCA is PEM the proxy trusts upstream too.
	HTTP   []broker.HTTPBinding
	HTTPCA []byte
	Argv   []string
}

// Run launches opts.Argv in agent mode and returns, once it and what it
// left behind have ended, an exitstatus.Child with the agent's status; or
// why it did not start (an exitstatus.UsageError for bad flags, an error
// wrapping broker.ErrDenied inside agent mode or under a token,
// broker.ErrCommandNotFound or broker.ErrCommandNotExecutable when the
// program is not found or cannot be run, as for exec).
func Run(opts *Options) error {
	if err := refuseNested(opts.LookupEnv); err != nil {
		return err
	}
	path, err := broker.FindProgram(opts.Argv[0])
	if err != nil {
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
	network, err := agentNetwork(opts, id)
	if err != nil {
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
	guard, err := sandbox.StartGuard(self, opts.Stdin, opts.Stdout, opts.Stderr)
	if err != nil {
		return fmt.Errorf("agent mode: %w", err)
	}
	defer guard.Abort()
	b, c, err := opts.Open()
	if err != nil {
		return err
	}
	launch := broker.AgentLaunch{Agent: id, Program: path, Sandbox: fmt.Sprintf("landlock abi %d", abi)}
	if opts.LandlockABI >= 0 {
		launch.Sandbox += fmt.Sprintf(" (--landlock-abi; the kernel offers %d)", sandbox.ABI())
	}
	if opts.NoSandbox {
		launch.Sandbox = "none (--no-sandbox)"
	} else {
		launch.Sandbox += "; " + network.String()
	}

	// Everything that can fail comes before the token is minted and the
	// launch recorded: the socket's directory (before the rules: a
	// directory made later beside a hidden path would be out of reach),
	// the proxy's listener (the rules name its port), the rules, the
	// re-exec that applies them, the broker.
	dir, err := makeLaunchDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir.path)
	var proxyLn net.Listener
	if network.needsProxy(opts) {
		if proxyLn, err = broker.ListenHTTPProxy(); err != nil {
			return err
		}
		// Until the proxy serves it; closing it twice does no harm.
		defer proxyLn.Close()
		network.proxy = netip.MustParseAddrPort(proxyLn.Addr().String())
	}
	refused := refusals(b, c, &launch)
	var rules *sandbox.Rules
	var sup *sandbox.Supervisor
	var writable []string
	start := &sandbox.Wrapped{Path: path, Args: opts.Argv}
	if !opts.NoSandbox {
		if rules, writable, err = agentRules(opts, b.Dir(), id, path, dir, abi, network); err != nil {
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
		return exitstatus.Usagef("--allow-socket and --no-sandbox contradict each other (without the sandbox every socket is reachable)")
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
	proxy, launchEnv, err := startProxy(opts, b, c, path, token, dir, proxyLn, network.proxyRequest(refused))
	if err != nil {
		revokeAgentToken(opts, b, c, token)
		return err
	}
	if proxy != nil {
		defer proxy.Close()
	}
	srv, err := serveBroker(opts, b, c, id, launchID, launch.TokenID, rules, writable, dir.path, sup, launchEnv)
	if err == nil && sup != nil {
		err = sup.AllowBroker(srv.socket)
	}
	if err != nil {
		if srv != nil {
			srv.stop()
		}
		revokeAgentToken(opts, b, c, token)
		return err
	}
	defer srv.stop()
	if err := b.AgentStart(c, launch); err != nil {
		revokeAgentToken(opts, b, c, token)
		return err
	}

	// tmux makes its socket in /tmp/tmux-UID unless told otherwise, and the
	// shared /tmp takes no socket from the agent: its own tmux goes to its
	// own temp dir.
	set := append([]string{agentsock.SocketEnv + "=" + srv.socket, "TMPDIR=" + dir.temp, "TMUX_TMPDIR=" + dir.temp}, launchEnv...)
	if token != nil {
		set = append(set, broker.TokenEnv+"="+token.text)
	}
	env := sandbox.AgentEnv(opts.Environ(), id, opts.KeepEnv, set)
	if opts.NoSandbox {
		human.Fprintf(opts.Stderr, "llms: WARNING: --no-sandbox: %s runs WITHOUT a sandbox; it can read the store's identity and every credential file you can\n", id)
	}
	if !opts.NoSandbox {
		if network.open {
			human.Fprintf(opts.Stderr, "llms: WARNING: --allow-net: the agent reaches every address, and so do the programs llms runs for it\n")
		}
		for _, m := range network.notes() {
			human.Fprintf(opts.Stderr, "llms: note: network: %s\n", m)
		}
		for _, m := range sandbox.Missing(abi) {
			human.Fprintf(opts.Stderr, "llms: note: Landlock ABI %d: %s\n", abi, m)
		}
		if len(opts.AllowSocket) > 0 {
			human.Fprintf(opts.Stderr, "llms: note: the agent may connect to your socket(s) %s (--allow-socket): whatever they serve, it can use\n", strings.Join(sup.AllowedSockets(), ", "))
		}
	}
	if sup != nil {
		network.supervise(sup, refused)
	}
	status, err := superviseAgent(opts, guard, start, env, srv, launchID, sup)
	revokeAgentToken(opts, b, c, token)
	if aerr := b.AgentEnd(c, broker.AgentEndRequest{Launch: launch, ExitStatus: status, Egress: summary(refused)}); aerr != nil {
		human.Fprintf(opts.Stderr, "llms: warning: %v\n", aerr)
	}
	if err != nil {
		return err
	}
	return exitstatus.Child{Code: status}
}

// capABI is the ABI to confine with: the kernel's, or --landlock-abi's
// lower one.
func capABI(kernel, flag int, noSandbox bool) (int, error) {
	switch {
	case flag < 0:
		return kernel, nil
	case noSandbox:
		return 0, exitstatus.Usagef("--landlock-abi and --no-sandbox contradict each other")
	case flag < 1 || flag > kernel:
		return 0, exitstatus.Usagef("--landlock-abi %d: this kernel offers Landlock ABI 1 to %d", flag, kernel)
	}
	return flag, nil
}

// refuseNested: agent mode is for the human's shell. Under a token, or
// inside agent mode already, it is refused (the broker also refuses a
// detected agent when the launch is recorded).
func refuseNested(lookup func(string) (string, bool)) error {
	for _, v := range []string{broker.TokenEnv, broker.TokenFileEnv} {
		if _, ok := lookup(v); ok {
			return fmt.Errorf("%w: $%s is set; llms agent is for the human, not for a holder of a token", broker.ErrDenied, v)
		}
	}
	if _, ok := lookup(agentsock.SocketEnv); ok || sandbox.Confined() {
		return fmt.Errorf("%w: already inside agent mode; an agent cannot launch agents", broker.ErrDenied)
	}
	return nil
}

// agentOf is --agent, else the agent the program's name is known as.
func agentOf(opts *Options, path string) (string, error) {
	given := opts.Agent
	switch {
	case len(given) > 1:
		return "", exitstatus.Usagef("--agent names the one agent being launched; got %d", len(given))
	case len(given) == 1:
		id, err := broker.CanonicalAgent(given[0])
		if err != nil {
			return "", exitstatus.UsageError{Err: err}
		}
		return id, nil
	}
	if id, ok := broker.AgentForProgram(path); ok {
		return id, nil
	}
	return "", exitstatus.Usagef("%s is not a known agent program; say which agent it is with --agent NAME", filepath.Base(path))
}
