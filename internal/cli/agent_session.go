package cli

// The parts of an agent-mode session: its sandbox, its token, its broker,
// and the agent's life as a child of this subreaper.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/sandbox"
)

// agentRules builds the sandbox for this launch, and lists the trees it
// lets the agent write.
func agentRules(opts *agentOptions, storeDir, id, sockDir string, abi int) (*sandbox.Rules, []string, error) {
	home, err := opts.AccountHome()
	if err != nil {
		return nil, nil, fmt.Errorf("finding your home directory: %w", err)
	}
	homes := []string{home}
	if h, ok := opts.LookupEnv("HOME"); ok && filepath.IsAbs(h) && filepath.Clean(h) != filepath.Clean(home) {
		homes = append(homes, h)
	}
	wd, err := opts.Getwd()
	if err != nil {
		return nil, nil, err
	}
	// The store llms uses by default stays hidden when $LLM_SECRETS_DIR
	// names another one for this launch.
	var otherStores []string
	if d, err := broker.DefaultDir(func(k string) string {
		if k == "LLM_SECRETS_DIR" {
			return ""
		}
		v, _ := opts.LookupEnv(k)
		return v
	}); err == nil {
		otherStores = append(otherStores, d)
	}
	spec, err := sandbox.AgentSpec(sandbox.AgentOptions{
		Homes: homes, DataDir: storeDir, OtherStores: otherStores, ConfigDirs: opts.ConfigDirs(), Workdir: wd, TempDir: os.TempDir(), Agent: id, SocketDir: sockDir,
		Terminals: sandbox.Terminals(0, 1, 2), AllowRead: opts.AllowRead, AllowWrite: opts.AllowWrite, Hide: opts.Hide,
	})
	if err != nil {
		return nil, nil, usageError{err}
	}
	rules, err := sandbox.BuildFor(spec, abi)
	return rules, spec.Write, err
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
	minted, err := b.Mint(c, r)
	if err != nil {
		return nil, err
	}
	printMintWarnings(opts.IO, minted)
	return &agentToken{minted.Token, minted.Info}, nil
}

func revokeAgentToken(opts *agentOptions, b *broker.Broker, c *broker.Caller, t *agentToken) {
	if t == nil {
		return
	}
	if err := b.Revoke(c, broker.RevokeRequest{ID: t.info.ID}); err != nil {
		fprintf(opts.IO.ErrOut, "llms: warning: revoking the agent's token %s: %v (run `llms revoke %s`)\n", t.info.ID, err, t.info.ID)
	}
}

// superviseAgent starts the agent as a child of this subreaper, relays
// TERM, HUP, USR1 and USR2, and, once it exits, ends every process left in
// its tree. It returns the agent's status (128+n for signal n).
func superviseAgent(opts *agentOptions, start *sandbox.Wrapped, env []string, srv *agentBroker) (int, error) {
	defer srv.stop(opts)
	if err := sandbox.BecomeSubreaper(); err != nil {
		return 0, fmt.Errorf("becoming a subreaper: %w", err)
	}
	// INT and QUIT from the keyboard reach the agent from the terminal;
	// llms must not die from them while the agent decides what they mean.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	// If llms itself dies (kill -9), the agent dies too: its broker is
	// gone, and nothing would end its tree or its token's use. The kernel
	// ties a parent-death signal to the thread that started the child, so
	// that thread is kept, locked, until the agent is reaped.
	cmd := &exec.Cmd{Path: start.Path, Args: start.Args, Env: env, Stdin: opts.IO.In, Stdout: opts.IO.Out, Stderr: opts.IO.ErrOut,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	if start.Rules != nil {
		cmd.ExtraFiles = []*os.File{start.Rules}
	}
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return 0, fmt.Errorf("%w: %v", broker.ErrCommandNotExecutable, err)
	}
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
// the agent's identity stamped on every request, no token but the agent's
// (tokenID, "" for none) accepted, each child confined in a new domain
// beside the agent's.
func serveBroker(opts *agentOptions, b *broker.Broker, c *broker.Caller, id, tokenID string, rules *sandbox.Rules, writable []string, dir string) (*agentBroker, error) {
	pol, err := broker.LoadPolicy(c)
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "broker.sock")
	l, err := agentsock.Listen(socket)
	if err != nil {
		return nil, fmt.Errorf("agent mode: %w", err)
	}
	srv := &agentsock.Server{Broker: b, Agent: id, LaunchToken: &tokenID, Policy: pol, Root: os.Getpid(), Writable: writable,
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
