package cli

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/profile"
)

type execOptions struct {
	IO      *IOStreams
	Environ func() []string
	// Profile loads a profile by name.
	Profile func(name string) (profile.Profile, error)
	access

	Inject      []string
	HTTP        []string
	HTTPBody    []string
	HTTPCA      string
	ProfileName string
	NoRedact    bool
	Argv        []string
}

func newExecCmd(f *Factory) *cobra.Command {
	opts := &execOptions{IO: f.IO, Environ: f.Environ, Profile: f.profile}
	var token tokenFlags
	cmd := &cobra.Command{
		Use:   "exec --inject VAR=KEY [--inject …] -- CMD [ARGS…]",
		Short: "Run a command with secrets in its environment and its output redacted",
		Long: `Run CMD with exactly the given argv (no shell), its environment plus one
variable per --inject. "--inject KEY" is short for "--inject KEY=KEY".

Every injected value, and its base64, hex and URL-encoded forms, is replaced by
[REDACTED:KEY] in the command's stdout and stderr as they stream. When llms's
stdout is a terminal the command runs on a pseudo-terminal, so colours and
interactive programs keep working. Signals are forwarded; llms exits with the
command's status (128+n if it died from signal n).

--no-redact passes output through untouched. It is dangerous: anything the
command prints, including a value, reaches your screen and any transcript. It
is refused unless stdout is a terminal.

--http VAR=KEY@HOST[:PORT] gives the command a placeholder in VAR instead of
the value, and a credential proxy on 127.0.0.1 (HTTP_PROXY, HTTPS_PROXY, the
CA variables) that puts the value in, on the wire, only in requests to
HOST:PORT (443 by default): in the URL, headers and Basic credentials, and in
JSON, form and text bodies for --http-body. A placeholder headed anywhere else
is refused. Without a sandbox this is a convenience, not containment: the
command can ignore the proxy variables and talk to any host itself, with
placeholders only. docs/PROXY.md has the threat model.`,
		Args: execArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Argv = args
			return runExec(cmd.Context(), opts)
		},
	}
	opts.access = f.accessWithToken(cmd, &token)
	opts.addFlags(cmd.Flags(), &token)
	return cmd
}

// addFlags registers exec's flags; the agent-mode client parses the same.
func (opts *execOptions) addFlags(fs *pflag.FlagSet, token *tokenFlags) {
	// Everything after the first positional argument belongs to CMD.
	fs.SetInterspersed(false)
	fs.StringArrayVarP(&opts.Inject, "inject", "i", nil, "inject secret KEY as variable VAR (VAR=KEY, or KEY)")
	fs.StringArrayVar(&opts.HTTP, "http", nil, "give VAR a placeholder that the credential proxy swaps for KEY's value in requests to HOST (VAR=KEY@HOST[:PORT])")
	fs.StringArrayVar(&opts.HTTPBody, "http-body", nil, "as --http, and swap the placeholder in request bodies too (JSON, form, text)")
	fs.Var(nonEmpty{&opts.HTTPCA}, "http-ca", "PEM file of CAs the proxy trusts upstream besides the system's")
	token.addTo(fs)
	fs.Var(nonEmpty{&opts.ProfileName}, "profile", "inject the variables of this profile (profiles.toml)")
	fs.BoolVar(&opts.NoRedact, "no-redact", false, "DANGEROUS: do not redact output (terminal only)")
}

func execArgs(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usagef("no command given (usage: llms exec --inject VAR=KEY -- CMD [ARGS…])")
	}
	return nil
}

func parseInjections(specs []string) ([]broker.Injection, error) {
	out := make([]broker.Injection, 0, len(specs))
	for _, s := range specs {
		v, k, ok := strings.Cut(s, "=")
		if !ok {
			k = v
		}
		if v == "" || k == "" {
			return nil, usagef("--inject %q: want VAR=KEY", s)
		}
		out = append(out, broker.Injection{Var: v, Secret: k})
	}
	return out, nil
}

func runExec(ctx context.Context, opts *execOptions) error {
	c, err := opts.Caller()
	if err != nil {
		return err
	}
	specs, httpPlain, httpBody := opts.Inject, opts.HTTP, opts.HTTPBody
	if opts.ProfileName != "" {
		p, err := opts.Profile(opts.ProfileName)
		if err != nil {
			return err
		}
		specs = append(profileInjections(p), specs...)
		httpPlain, httpBody = append(slices.Clone(p.HTTP), httpPlain...), append(slices.Clone(p.HTTPBody), httpBody...)
	}
	inject, err := parseInjections(specs)
	if err != nil {
		return err
	}
	bindings, ca, err := parseHTTPBindings(httpPlain, httpBody, opts.HTTPCA)
	if err != nil {
		return err
	}
	g, err := opts.gate()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	code, err := g.Exec(ctx, c, broker.ExecRequest{
		Inject:     inject,
		HTTP:       bindings,
		UpstreamCA: ca,
		Argv:       opts.Argv,
		Env:        opts.Environ(),
		Stdin:      opts.IO.StdinFile,
		Stdout:     opts.IO.Out,
		Stderr:     opts.IO.ErrOut,
		PTY:        opts.IO.StdoutTTY && opts.IO.StdinTTY,
		NoRedact:   opts.NoRedact,
		Warn:       func(s string) { fprintf(opts.IO.ErrOut, "llms: warning: %s\n", s) },
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return childExit{Code: code}
	}
	return nil
}

// parseHTTPBindings reads --http and --http-body, and the --http-ca file.
func parseHTTPBindings(plain, body []string, caFile string) ([]broker.HTTPBinding, []byte, error) {
	var out []broker.HTTPBinding
	for i, specs := range [][]string{plain, body} {
		for _, s := range specs {
			h, err := broker.ParseHTTPBinding(s, i == 1)
			if err != nil {
				return nil, nil, usagef("%s", strings.TrimPrefix(err.Error(), broker.ErrBadRequest.Error()+": "))
			}
			out = append(out, h)
		}
	}
	if caFile == "" {
		return out, nil, nil
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, nil, usagef("--http-ca: %v", err)
	}
	return out, ca, nil
}
