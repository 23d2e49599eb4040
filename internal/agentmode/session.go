package agentmode

// The parts of an agent-mode session: its sandbox, its token, its broker,
// and the agent's life under its guard, below this subreaper.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/exitstatus"
	"github.com/llm-secrets/llms/internal/human"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// agentRules builds the sandbox for this launch, and lists the trees in
// which the agent can make files (written or added).
func agentRules(opts *Options, storeDir, id, program string, dir launchDir, abi int, network *network) (*sandbox.Rules, []string, error) {
	o, err := ProtectedPaths(opts.AccountHome, opts.LookupEnv, storeDir, opts.ConfigDirs())
	if err != nil {
		return nil, nil, err
	}
	// The agent keeps its state under $HOME, the last of the homes.
	if err := sandbox.MakeStateDirs(o.Homes[len(o.Homes)-1], id); err != nil {
		return nil, nil, err
	}
	wd, err := opts.Getwd()
	if err != nil {
		return nil, nil, err
	}
	o.Workdir, o.TempDir, o.Agent, o.Program, o.SocketDir = wd, dir.temp, id, program, dir.path
	if t := os.TempDir(); t != "/tmp" && t != "/var/tmp" {
		o.SharedTemp = []string{t}
	}
	o.Terminals, o.AllowRead, o.AllowWrite, o.Hide = sandbox.Terminals(0, 1, 2), opts.AllowRead, opts.AllowWrite, opts.Hide
	spec, err := sandbox.AgentSpec(o)
	if err != nil {
		return nil, nil, exitstatus.UsageError{Err: err}
	}
	spec.Net = network.sandboxRules()
	rules, err := sandbox.BuildFor(spec, abi)
	// A shared temp dir lets the agent add files: a program it put there
	// is the agent's as much as one in its working tree.
	return rules, append(spec.Write, spec.Create...), err
}

// ProtectedPaths says where the keys are, for sandbox.HiddenPaths: the
// homes (the account's, from the user database, and $HOME when it
// differs), the store, the store llms uses by default when
// $LLM_SECRETS_DIR names another, and the llms config directories.
func ProtectedPaths(accountHome func() (string, error), lookup func(string) (string, bool), storeDir string, configDirs []string) (sandbox.AgentOptions, error) {
	home, err := accountHome()
	if err != nil {
		return sandbox.AgentOptions{}, fmt.Errorf("finding your home directory: %w", err)
	}
	homes := []string{home}
	if h, ok := lookup("HOME"); ok && filepath.IsAbs(h) && filepath.Clean(h) != filepath.Clean(home) {
		homes = append(homes, h)
	}
	var otherStores []string
	if d, err := broker.DefaultDir(func(k string) string {
		if k == "LLM_SECRETS_DIR" {
			return ""
		}
		v, _ := lookup(k)
		return v
	}); err == nil {
		otherStores = append(otherStores, d)
	}
	return sandbox.AgentOptions{Homes: homes, DataDir: storeDir, OtherStores: otherStores, ConfigDirs: configDirs}, nil
}

// agentSupervisor prepares the supervisor of the agent's mediated calls,
// with the sockets --allow-socket names (absolute, or ~/ in the account's
// home).
func agentSupervisor(opts *Options, rules *sandbox.Rules) (*sandbox.Supervisor, error) {
	var allow []string
	for _, p := range opts.AllowSocket {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			home, err := opts.AccountHome()
			if err != nil {
				return nil, fmt.Errorf("finding your home directory: %w", err)
			}
			p = filepath.Join(home, rest)
		}
		allow = append(allow, p)
	}
	sup, err := sandbox.NewSupervisor(rules, allow)
	if errors.Is(err, sandbox.ErrBadSocket) {
		return nil, exitstatus.UsageError{Err: err}
	}
	return sup, err
}

type agentToken struct {
	text    string
	info    broker.TokenInfo
	secrets []string // the secrets it allows
}

// newLaunchID names one launch: 128 random bits, in the form a launch
// caveat holds.
func newLaunchID() string {
	b := make([]byte, caveat.LaunchIDLen/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mintAgentToken mints the agent's token from --profile or the caveat
// flags, with the agent caveat set to id and the launch caveat to launch
// (only this launch's broker honours it); nil when no secret is named.
func mintAgentToken(opts *Options, b *broker.Broker, c *broker.Caller, id, launch string) (*agentToken, error) {
	r, err := opts.Caveats(c)
	if err != nil {
		return nil, err
	}
	delete(r.Lists, caveat.NameKeepEnv) // the agent's environment, not a caveat
	if opts.ProfileName != "" {
		if len(r.Lists) > 1 || r.TTL != 0 || len(r.Lists[caveat.NameAgent]) != len(r.Lists) {
			return nil, exitstatus.Usagef("--profile and caveat flags do not mix (the profile holds the caveats)")
		}
		if r, err = opts.Profile(opts.ProfileName); err != nil {
			return nil, err
		}
	} else if len(r.Secrets()) == 0 {
		if len(r.Lists) > 1 || r.TTL != 0 {
			return nil, exitstatus.Usagef("caveat flags without --secret: a token must name at least one secret")
		}
		return nil, nil
	}
	if r.Lists == nil {
		r.Lists = map[string][]string{}
	}
	r.Lists[caveat.NameAgent] = []string{id}
	r.Lists[caveat.NameLaunch] = []string{launch}
	minted, err := b.Mint(c, r)
	if err != nil {
		return nil, err
	}
	for _, w := range minted.Warnings {
		human.Fprintf(opts.Stderr, "llms: warning: %s\n", w)
	}
	return &agentToken{minted.Token, minted.Info, r.Secrets()}, nil
}

func revokeAgentToken(opts *Options, b *broker.Broker, c *broker.Caller, t *agentToken) {
	if t == nil {
		return
	}
	if err := b.Revoke(c, broker.RevokeRequest{ID: t.info.ID}); err != nil {
		human.Fprintf(opts.Stderr, "llms: warning: revoking the agent's token %s: %v (run `llms revoke %s`)\n", t.info.ID, err, t.info.ID)
	}
}

// superviseAgent has the guard (started early by Run) start the
// agent, in a cgroup of its own where one can be made, below this child
// subreaper; relays TERM, HUP, USR1 and USR2; and once the guard exits (it
// ends the agent's tree first), stops the broker and ends every process
// left in its own tree. It returns the agent's status (128+n for signal
// n).
func superviseAgent(opts *Options, g *sandbox.Guard, start *sandbox.Wrapped, env []string, srv *agentBroker, launch string, sup *sandbox.Supervisor) (int, error) {
	defer srv.stop()
	if err := sandbox.BecomeSubreaper(); err != nil {
		return 0, fmt.Errorf("becoming a subreaper: %w", err)
	}
	// INT and QUIT from the keyboard reach the agent from the terminal;
	// llms must not die from them while the agent decides what they mean.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	// If llms itself dies (kill -9), the guard ends the agent's tree: the
	// broker is gone, and the token is refused everywhere else (its launch
	// caveat). If the guard dies, the agent dies with it and the rest of
	// its tree comes to this subreaper.
	if err := g.Start(start, env, sandbox.NewCgroup("llms-agent-"+launch), srv.dir); err != nil {
		return 0, fmt.Errorf("%w: %v", broker.ErrCommandNotExecutable, err)
	}
	start.Close() // the agent's copies
	if sup != nil {
		// The agent sends its filter's listener before it execs; without
		// it nothing may run (it has failed, and exits 126). Killing the
		// guard kills the agent (its parent-death signal).
		if err := sup.Start(start); err != nil {
			_ = g.Signal(syscall.SIGKILL)
		}
	}
	done := make(chan struct{})
	var status int
	var died syscall.Signal
	var waitErr error
	go func() {
		status, died, waitErr = g.Wait()
		close(done)
	}()
wait:
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGINT && sig != syscall.SIGQUIT {
				_ = g.Signal(sig)
			}
		case <-done:
			break wait
		}
	}
	if died != 0 {
		g.Kill()
		human.Fprintf(opts.Stderr, "llms: the agent's guard was killed (%v); the agent died with it\n", died)
	}
	// The broker stops first (it kills the children it started and reaps
	// them), then whatever else is left is ended and reaped.
	srv.stop()
	if n := g.End(); n > 0 {
		human.Fprintf(opts.Stderr, "llms: ended %d process(es) the agent left behind\n", n)
	}
	if sup != nil {
		sup.Close()
	}
	return status, waitErr
}

// startProxy starts the launch's credential proxy outside the sandbox on
// the listener ln that the rules were built for (nil when none runs): the
// human's caller grants each --http binding for the agent's program
// (audited under the agent's token id), and the CA bundle goes in the
// launch directory, which the agent reads and cannot change. It returns
// the variables the agent and every child the broker starts get:
// placeholders, proxy, CA, and the bindings' names.
func startProxy(opts *Options, b *broker.Broker, c *broker.Caller, program string, token *agentToken, dir launchDir, ln net.Listener, req broker.ProxyRequest) (*broker.HTTPProxy, []string, error) {
	if ln == nil {
		return nil, nil, nil
	}
	var tokenID string
	if token != nil {
		tokenID = token.info.ID
		for _, h := range opts.HTTP {
			if slices.Contains(token.secrets, h.Secret) {
				human.Fprintf(opts.Stderr, "llms: warning: the agent's token allows %s too: it can have the value injected into a program of its own, and the placeholder protects nothing; bind it with --http alone\n", h.Secret)
			}
		}
	}
	req.HTTP, req.UpstreamCA, req.Listener = opts.HTTP, opts.HTTPCA, ln
	req.BundleDir, req.Program, req.TokenID = dir.path, program, tokenID
	proxy, err := b.StartHTTPProxy(c, req)
	if err != nil {
		return nil, nil, err
	}
	env := proxy.Env()
	if len(opts.HTTP) > 0 {
		env = append(env, broker.HTTPBindingsEnv+"="+broker.DescribeHTTPBindings(opts.HTTP))
	}
	return proxy, env, nil
}

// agentBroker is the broker serving one agent on a Unix socket in a
// private directory.
type agentBroker struct {
	dir, socket string
	cancel      context.CancelFunc
	done        chan error
	stopped     bool
	rules       *sandbox.Prepared // nil without a sandbox
	stderr      io.Writer         // the human's, for what stopping says
}

// serveBroker starts the broker for the agent: a socket in the launch
// directory dir (makeLaunchDir), the policy read now,
// the agent's identity stamped on every request, no token but the agent's
// (tokenID, "" for none) accepted and its launch caveat held for launch,
// each child confined in a new domain beside the agent's.
func serveBroker(opts *Options, b *broker.Broker, c *broker.Caller, id, launch, tokenID string, rules *sandbox.Rules, writable []string, dir string, sup *sandbox.Supervisor, launchEnv []string) (*agentBroker, error) {
	pol, err := broker.LoadPolicy(c)
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "broker.sock")
	l, err := agentsock.Listen(socket)
	if err != nil {
		return nil, fmt.Errorf("agent mode: %w", err)
	}
	srv := &agentsock.Server{Broker: b, Agent: id, LaunchToken: &tokenID, Launch: launch, Policy: pol, Root: os.Getpid(), Writable: writable, LaunchEnv: launchEnv,
		Log: func(line string) { human.Fprintf(opts.Stderr, "llms broker: %s\n", line) }}
	if sup != nil {
		srv.ConnectedFor = sup.ConnectedFor
	}
	ctx, cancel := context.WithCancel(context.Background())
	ab := &agentBroker{dir: dir, socket: socket, cancel: cancel, done: make(chan error, 1), stderr: opts.Stderr}
	if rules != nil {
		// Compiled once: a child then costs one landlock_restrict_self,
		// not a walk over every rule's path.
		if ab.rules, err = sandbox.Prepare(rules); err != nil {
			l.Close()
			cancel()
			return nil, err
		}
		srv.Confine = ab.rules.Restrict
		if sup != nil {
			// Their connects decided as the agent's are (sandbox's
			// children.go): they hold the secret values.
			srv.Confine = sup.Confine(ab.rules)
		}
	}
	go func() { ab.done <- srv.Serve(ctx, l) }()
	return ab, nil
}

// launchDir is this launch's own directory, 0700: the broker's socket in
// it, and tmp/, the agent's own temp dir ($TMPDIR, and its /tmp where a
// mount namespace can be made). It lies under /var/tmp (else the temp
// dir), where the agent may add entries and replace none, so that the
// socket cannot be replaced; not under /tmp, which the agent's private
// /tmp covers.
type launchDir struct{ path, temp string }

func makeLaunchDir() (launchDir, error) {
	base := "/var/tmp"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = ""
	}
	sweepLaunchDirs(base, time.Now())
	dir, err := os.MkdirTemp(base, launchDirPrefix)
	if err != nil && base != "" {
		dir, err = os.MkdirTemp("", launchDirPrefix)
	}
	if err != nil {
		return launchDir{}, fmt.Errorf("agent mode: making the launch directory: %w", err)
	}
	temp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(temp, 0o700); err != nil {
		os.RemoveAll(dir)
		return launchDir{}, fmt.Errorf("agent mode: making the agent's temp dir: %w", err)
	}
	return launchDir{path: dir, temp: temp}, nil
}

const launchDirPrefix = "llms-agent-"

// sweepLaunchDirs removes the launch directories a launcher killed
// outright left in base ("" is the temp dir; /var/tmp is not emptied at
// boot): this user's, older than a minute (one being made has no socket
// yet), whose broker's socket no process listens on. A live broker is
// not asked: a connection from outside its tree would be refused and
// logged in its session.
func sweepLaunchDirs(base string, now time.Time) {
	if base == "" {
		base = os.TempDir()
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	listening := map[string]bool{}
	if data, err := os.ReadFile("/proc/net/unix"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 8 {
				listening[f[7]] = true
			}
		}
	} else {
		return // no way to tell a live one
	}
	for _, e := range entries {
		dir := filepath.Join(base, e.Name())
		var st syscall.Stat_t
		if !strings.HasPrefix(e.Name(), launchDirPrefix) || syscall.Lstat(dir, &st) != nil ||
			st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != os.Geteuid() ||
			now.Sub(time.Unix(st.Mtim.Unix())) < time.Minute || listening[filepath.Join(dir, "broker.sock")] {
			continue
		}
		os.RemoveAll(dir)
	}
}

// stop ends the broker (its running children are killed), waiting a few
// seconds at most, and removes the socket directory.
func (ab *agentBroker) stop() {
	if ab.stopped {
		return
	}
	ab.stopped = true
	ab.cancel()
	select {
	case err := <-ab.done:
		if err != nil {
			human.Fprintf(ab.stderr, "llms broker: %v\n", err)
		}
		if ab.rules != nil {
			ab.rules.Close()
		}
	case <-time.After(5 * time.Second):
		human.Fprintf(ab.stderr, "llms broker: still busy after 5s; ending its processes\n")
	}
	os.RemoveAll(ab.dir)
}
