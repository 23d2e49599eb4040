package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/names"
	"github.com/llm-secrets/llms/internal/redact"
	"github.com/llm-secrets/llms/internal/runner"
)

// Injection asks for secret Secret to be placed in the child's environment
// as Var.
type Injection struct {
	Var, Secret string
}

// ExecRequest starts Argv with injected secrets.
type ExecRequest struct {
	Caller *Caller
	Inject []Injection
	Argv   []string
	Env    []string // the caller's environment, to which injections are added
	Stdin  *os.File
	Stdout io.Writer
	Stderr io.Writer
	// PTY runs the child on a pseudo-terminal (the CLI sets it when its
	// stdout is a terminal), so colours and interactive programs work.
	PTY bool
	// NoRedact passes output through untouched. The CLI allows it only for
	// a human at a terminal.
	NoRedact bool
	// Warn receives notes for the human (values too short to redact).
	Warn func(string)
}

// Exec authorizes the request, starts the child with the injected values
// in its environment and its output passed through a redactor, and returns
// the child's exit status (128+n on signal n).
func (b *Broker) Exec(ctx context.Context, req ExecRequest) (int, error) {
	if req.NoRedact {
		// Only for the human at a terminal (the CLI checks the terminal);
		// never under a token or for an agent, whatever the front end.
		if req.Caller.TokenGiven {
			return 0, fmt.Errorf("%w: output redaction cannot be turned off under a token", ErrDenied)
		}
		if err := humanOnly(req.Caller, "may turn off output redaction"); err != nil {
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
	path, err := exec.LookPath(req.Argv[0])
	if errors.Is(err, fs.ErrPermission) {
		return 0, fmt.Errorf("%w: %v", runner.ErrNotExecutable, err)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %v", runner.ErrNotFound, err)
	}
	// Caveats and policy judge the absolute path, and the child is started
	// from exactly the path they judged. Symbolic links are not resolved:
	// `cmd=psql` allows a program named psql (docs/SECURITY.md).
	if path, err = filepath.Abs(path); err != nil {
		return 0, fmt.Errorf("%w: %v", runner.ErrNotFound, err)
	}
	g, err := b.decide(access{op: caveat.OpExec, secrets: wanted, program: path, caller: req.Caller})
	if err != nil {
		return 0, err
	}
	keep, err := b.keptVars(g)
	if err != nil {
		return 0, err
	}
	values, err := b.values(g)
	if err != nil {
		return 0, err
	}

	env := childEnv(req.Env, seen, g.programPinned, keep)
	secrets := make([]redact.Secret, len(req.Inject), len(req.Inject)+1)
	for i, in := range req.Inject {
		env = append(env, in.Var+"="+string(values[i]))
		secrets[i] = redact.Secret{Name: in.Secret, Value: values[i]}
	}
	if c := req.Caller; c.TokenGiven && strings.TrimSpace(c.Token) != "" {
		secrets = append(secrets, redact.Secret{Name: "LLM_SECRETS_MACAROON", Value: []byte(strings.TrimSpace(c.Token))})
	}

	spec := runner.Spec{Path: path, Args: req.Argv, Env: env, Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr, PTY: req.PTY}
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
