package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/credproxy"
	"github.com/llm-secrets/llms/internal/names"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/redact"
	"github.com/llm-secrets/llms/internal/runner"
	"github.com/llm-secrets/llms/internal/userdb"
	"golang.org/x/sys/unix"
)

// Injection asks for secret Secret to be placed in the child's environment
// as Var.
type Injection struct {
	Var, Secret string
}

// ExecRequest starts Argv with injected secrets.
type ExecRequest struct {
	Inject []Injection
	// HTTP binds secrets to hosts through a credential proxy that runs
	// for the child's lifetime: the child gets placeholders and the
	// proxy's variables, never these values (httpproxy.go).
	HTTP []HTTPBinding
	// UpstreamCA is PEM of CAs the proxy trusts upstream besides the
	// system's.
	UpstreamCA []byte
	// LaunchEnv are variables a launch gives every child, set last and
	// given to a pinned program too: agent mode's credential proxy and
	// CA variables, which a program must not take from the caller.
	LaunchEnv []string
	Argv      []string
	Env       []string // the caller's environment, to which injections are added
	Stdin     *os.File
	Stdout    io.Writer
	Stderr    io.Writer
	// PTY runs the child on a pseudo-terminal (the CLI sets it when its
	// stdout is a terminal), so colours and interactive programs work.
	PTY bool
	// NoRedact passes output through untouched: only for the human, with
	// no token, and stdout a terminal (mayNotRedact).
	NoRedact bool
	// Unattended: no human at a terminal waits on the child (the MCP
	// server). It gets a process group of its own, and when ctx ends —
	// a timeout — everything in that group is killed and the output it
	// holds open is no longer waited for.
	Unattended bool
	// Warn receives notes for the human (values too short to redact).
	Warn func(string)

	// What a front end serving requests of other processes (agent mode)
	// sets; all are empty in the CLI's own exec.
	//
	// Dir is the directory the program is looked up from and started in:
	// the requester's working directory. "" is ours, and the program is
	// then looked up in our PATH instead of the one in Env.
	Dir string
	// Confine puts the child in its own confinement (a Landlock domain)
	// before it starts; see runner.Spec.Confine. Caveats and policy judge
	// the program itself, and the child is started from that path.
	Confine func() error
	// Signals relays the requester's signals to the child, and SizeFrom
	// is the terminal whose size its pseudo-terminal follows; see
	// runner.Spec.
	Signals  <-chan os.Signal
	SizeFrom *os.File
	// ConfineDir refuses a Dir outside the caller's repository (outside
	// a repository: outside the caller's Cwd), symbolic links resolved;
	// the MCP server's run_with_secrets sets it.
	ConfineDir bool
	// JoinGroup starts the child in the requester's process group; see
	// runner.Spec.JoinGroup.
	JoinGroup int
	// Writable are the trees the requester may write (agent mode: the
	// sandbox's), where a pinned program must not lie. Outside agent
	// mode it is empty: the requester may then write whatever the user
	// owns, and a pinned program must be root's anyway.
	Writable []string
}

// Exec authorizes the request, starts the child with the injected values
// in its environment and its output passed through a redactor, and returns
// the child's exit status (128+n on signal n).
func (b *Broker) Exec(ctx context.Context, c *Caller, req ExecRequest) (int, error) {
	if req.NoRedact {
		if err := mayNotRedact(c, req.Stdout); err != nil {
			return 0, err
		}
	}
	if len(req.Argv) == 0 {
		return 0, fmt.Errorf("%w: no command given (usage: llms exec --inject VAR=KEY -- CMD [ARGS…])", ErrBadRequest)
	}
	seen := map[string]bool{}
	wanted := make([]string, 0, len(req.Inject))
	for _, in := range req.Inject {
		if !names.EnvVar(in.Var) {
			return 0, fmt.Errorf("%w: %q is not a valid environment variable name", ErrBadRequest, in.Var)
		}
		if seen[in.Var] {
			return 0, fmt.Errorf("%w: variable %s is injected twice", ErrBadRequest, in.Var)
		}
		if err := checkInjectable(in.Var); err != nil {
			return 0, err
		}
		seen[in.Var] = true
		wanted = append(wanted, in.Secret)
	}
	if err := checkHTTPBindings(req.HTTP, seen); err != nil {
		return 0, err
	}
	if len(req.HTTP) > 0 && len(req.LaunchEnv) > 0 {
		return 0, fmt.Errorf("%w: --http is given to the launch, not to exec inside it", ErrBadRequest)
	}
	for _, h := range req.HTTP {
		wanted = append(wanted, h.Secret)
	}
	if req.Dir != "" && req.ConfineDir {
		dir, err := c.confineDir(req.Dir)
		if err != nil {
			return 0, err
		}
		req.Dir = dir
	}
	a := access{op: caveat.OpExec, secrets: wanted, caller: c}
	var err error
	if b.pinsProgram(c, wanted) {
		a.pin, err = findPinned(req.Argv[0], req.Dir, req.Writable)
		if err != nil {
			return 0, err
		}
		defer a.pin.prog.Close()
		a.program = a.pin.path
	} else if a.program, err = findProgram(req.Argv[0], req.Dir, req.Env); err != nil {
		return 0, err
	}
	g, values, err := b.grantValues(a)
	if err != nil {
		return 0, err
	}
	keep, err := b.keptVars(g)
	if err != nil {
		return 0, err
	}

	var account *userdb.Account
	if acct, err := c.lookupAccount(); err == nil {
		account = &acct
	}
	// The child never holds a bound value, but one it gets back from a
	// host it is bound to is masked in what it prints, as the proxy
	// masks it in the answer.
	secrets := make([]redact.Secret, len(wanted), len(wanted)+1)
	for i, name := range wanted {
		secrets[i] = redact.Secret{Name: name, Value: values[i]}
	}
	proxyEnv := req.LaunchEnv
	for _, kv := range req.LaunchEnv {
		name, _, _ := strings.Cut(kv, "=")
		seen[name] = true
	}
	if len(req.HTTP) > 0 {
		proxy, err := b.startProxy(c, g.tokenID, ProxyRequest{HTTP: req.HTTP, UpstreamCA: req.UpstreamCA}, values[len(req.Inject):], secrets)
		if err != nil {
			return 0, err
		}
		defer proxy.Close()
		proxyEnv = append(proxy.Env(), HTTPBindingsEnv+"="+DescribeHTTPBindings(req.HTTP))
		// The caller's own proxy and CA variables give way to the
		// proxy's, which a pinned program gets too.
		for _, n := range append(credproxy.EnvNames(), HTTPBindingsEnv) {
			seen[n] = true
		}
	}
	env := childEnv(req.Env, seen, g.programPinned, keep, account, req.Warn)
	env = append(env, proxyEnv...)
	for i, in := range req.Inject {
		env = append(env, in.Var+"="+string(values[i]))
	}
	if c.hasToken() {
		secrets = append(secrets, redact.Secret{Name: "LLM_SECRETS_MACAROON", Value: []byte(strings.TrimSpace(c.Token))})
	}

	spec := runner.Spec{Path: a.program, Args: req.Argv, Env: env, Dir: req.Dir, Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr, PTY: req.PTY,
		Signals: req.Signals, SizeFrom: req.SizeFrom, Confine: req.Confine, NewGroup: req.Unattended, JoinGroup: req.JoinGroup}
	if dir := a.pin.dir(); dir != nil {
		spec.Path, spec.PathDir = a.pin.prog.Real, dir
	}
	if req.NoRedact {
		return runner.Run(ctx, spec)
	}
	r := redact.New(secrets)
	if req.Warn != nil {
		for _, name := range r.Skipped() {
			req.Warn(fmt.Sprintf("%s is shorter than %d bytes and cannot be redacted from output", name, redact.MinLen))
		}
	}
	stdout, stderr := r.NewWriter(req.Stdout), r.NewWriter(req.Stderr)
	spec.Stdout, spec.Stderr = stdout, stderr
	code, err := runner.Run(ctx, spec)
	// Close flushes the held-back tails; both always run.
	errOut, errErr := stdout.Close(), stderr.Close()
	if err == nil {
		err = errOut
	}
	if err == nil {
		err = errErr
	}
	return code, err
}

// findPinned finds and checks the program of a pinned request (package
// pinned): a name in the system directories only, a path relative to dir
// (ours when empty). A program that is not there is not found; one that may
// not be pinned is for the decision to refuse, and audit.
func findPinned(name, dir string, writable []string) (*pinLookup, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = wd
	}
	path, err := pinned.Find(name, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", runner.ErrNotFound, err)
	}
	prog, err := pinned.Open(path, writable)
	if errors.Is(err, pinned.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", runner.ErrNotFound, err)
	}
	// A name was found in the system directories; a path may lead there.
	system := !strings.Contains(name, "/") || pinned.IsSystem(path)
	return &pinLookup{path: path, system: system, prog: prog, err: err}, nil
}

// FindProgram finds a program as exec does, in our working directory and
// PATH, with the same errors (ErrCommandNotFound, ErrCommandNotExecutable):
// the agent launcher's lookup, so that a program gets the same answer
// whichever command starts it.
func FindProgram(name string) (string, error) {
	return findProgram(name, "", []string{"PATH=" + os.Getenv("PATH")})
}

// findProgram resolves argv[0] of a program that is not pinned to the
// absolute path that caveats and policy judge and the child is started
// from, as the caller's shell would find it in dir (ours when empty) and
// the PATH of env. Symbolic links are not resolved. A name with a slash is
// taken relative to dir; a PATH entry that is not absolute is skipped, as
// exec.LookPath refuses a result relative to ".", and so is a directory
// of the program's name. A program found but not executable (or a
// directory named by a path) is ErrNotExecutable, as a shell's 126.
func findProgram(name, dir string, env []string) (string, error) {
	if dir != "" && !filepath.IsAbs(dir) {
		return "", fmt.Errorf("%w: the working directory %q is not absolute", ErrBadRequest, dir)
	}
	if strings.Contains(name, "/") {
		path, err := filepath.Abs(name) // in our working directory
		if dir != "" {
			path, err = filepath.Join(dir, name), nil
			if filepath.IsAbs(name) {
				path = filepath.Clean(name)
			}
		}
		if err != nil {
			return "", err
		}
		if err := executable(path); err != nil {
			return "", err
		}
		return path, nil
	}
	var pathVar string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	denied := false
	for _, d := range filepath.SplitList(pathVar) {
		if !filepath.IsAbs(d) {
			continue
		}
		path := filepath.Join(d, name)
		err := executable(path)
		if err == nil {
			return path, nil
		}
		denied = denied || (errors.Is(err, runner.ErrNotExecutable) && !errors.Is(err, errIsDir))
	}
	if denied {
		return "", fmt.Errorf("%w: exec: %q: permission denied", runner.ErrNotExecutable, name)
	}
	return "", fmt.Errorf("%w: exec: %q: executable file not found in $PATH", runner.ErrNotFound, name)
}

// errIsDir: the path names a directory.
var errIsDir = errors.New("is a directory")

// executable checks that path is a file we may execute.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %v", runner.ErrNotFound, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: exec: %q: %w", runner.ErrNotExecutable, path, errIsDir)
	}
	if unix.Access(path, unix.X_OK) != nil {
		return fmt.Errorf("%w: exec: %q: permission denied", runner.ErrNotExecutable, path)
	}
	return nil
}
