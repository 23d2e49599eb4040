package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/llm-secrets/llms/internal/broker"
)

// RunInput is run_with_secrets' input.
type RunInput struct {
	Argv           []string          `json:"argv" jsonschema:"the program and its arguments; no shell is involved"`
	Inject         map[string]string `json:"inject,omitempty" jsonschema:"environment variable -> secret name, e.g. {\"PGPASSWORD\": \"DB_PASSWORD\"}"`
	HTTP           map[string]string `json:"http,omitempty" jsonschema:"environment variable -> SECRET@HOST[:PORT]: the variable holds a placeholder, and a proxy puts the value in only in requests to HOST (port 443 by default): URL, headers, Basic credentials; e.g. {\"API_KEY\": \"OPENAI_KEY@api.openai.com\"}"`
	HTTPBody       []string          `json:"http_body,omitempty" jsonschema:"variables of http whose placeholder is also replaced in request bodies (JSON, form, text); never for a host that repeats what it is sent"`
	Cwd            string            `json:"cwd,omitempty" jsonschema:"working directory, inside the repository (or directory) the server runs in; default that directory"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty" jsonschema:"kill the command after this many seconds, 1-600 (default 60)"`
	MaxOutputBytes int               `json:"max_output_bytes,omitempty" jsonschema:"keep at most this many bytes of stdout and of stderr each, 1-1048576 (default 65536)"`
}

// RunOutput is run_with_secrets' result.
type RunOutput struct {
	ExitCode        int    `json:"exit_code" jsonschema:"the command's exit status; 128+n when killed by signal n"`
	Stdout          string `json:"stdout" jsonschema:"standard output, secret values redacted, invalid UTF-8 replaced by U+FFFD"`
	Stderr          string `json:"stderr" jsonschema:"standard error, as stdout"`
	StdoutTruncated bool   `json:"stdout_truncated" jsonschema:"stdout was longer than max_output_bytes; the rest was dropped"`
	StderrTruncated bool   `json:"stderr_truncated" jsonschema:"stderr was longer than max_output_bytes"`
	TimedOut        bool   `json:"timed_out" jsonschema:"the command was killed after timeout_seconds"`
}

func runInputSchema() *jsonschema.Schema {
	return schemaFor[RunInput](func(s *jsonschema.Schema) {
		argv := s.Properties["argv"]
		argv.MinItems, argv.MaxItems = new(1), new(MaxArgs)
		s.Properties["inject"].MaxProperties = new(MaxInjections)
		s.Properties["http"].MaxProperties = new(MaxInjections)
		s.Properties["http_body"].MaxItems = new(MaxInjections)
		to := s.Properties["timeout_seconds"]
		to.Minimum, to.Maximum = new(float64(1)), new(float64(MaxTimeout))
		mo := s.Properties["max_output_bytes"]
		mo.Minimum, mo.Maximum = new(float64(1)), new(float64(MaxOutputCap))
	})
}

// checkRun applies the limits the schema states, for clients that do not
// validate, and the ones it cannot state.
func checkRun(in *RunInput) error {
	if len(in.Argv) == 0 || in.Argv[0] == "" {
		return errors.New("argv must name a program: [\"program\", \"arg\", …]")
	}
	if len(in.Argv) > MaxArgs {
		return fmt.Errorf("argv has %d entries; at most %d", len(in.Argv), MaxArgs)
	}
	size := 0
	for _, a := range in.Argv {
		size += len(a) + 1
		if strings.IndexByte(a, 0) >= 0 {
			return errors.New("argv entries cannot contain a NUL byte")
		}
	}
	if size > MaxArgvBytes {
		return fmt.Errorf("argv is %d bytes; at most %d", size, MaxArgvBytes)
	}
	if len(in.Inject)+len(in.HTTP) > MaxInjections {
		return fmt.Errorf("inject and http name %d variables; at most %d", len(in.Inject)+len(in.HTTP), MaxInjections)
	}
	for _, v := range in.HTTPBody {
		if _, ok := in.HTTP[v]; !ok {
			return fmt.Errorf("http_body names %q, which http does not bind", v)
		}
	}
	switch {
	case in.TimeoutSeconds == 0:
		in.TimeoutSeconds = DefaultTimeout
	case in.TimeoutSeconds < 0 || in.TimeoutSeconds > MaxTimeout:
		return fmt.Errorf("timeout_seconds must be between 1 and %d", MaxTimeout)
	}
	switch {
	case in.MaxOutputBytes == 0:
		in.MaxOutputBytes = DefaultMaxOutput
	case in.MaxOutputBytes < 0 || in.MaxOutputBytes > MaxOutputCap:
		return fmt.Errorf("max_output_bytes must be between 1 and %d", MaxOutputCap)
	}
	return nil
}

func (t *tools) run(ctx context.Context, in RunInput) (RunOutput, error) {
	if err := checkRun(&in); err != nil {
		return RunOutput{}, fmt.Errorf("%w: %v", broker.ErrBadRequest, err)
	}
	inject := make([]broker.Injection, 0, len(in.Inject))
	for _, v := range sortedKeys(in.Inject) {
		inject = append(inject, broker.Injection{Var: v, Secret: in.Inject[v]})
	}
	var bindings []broker.HTTPBinding
	for _, v := range sortedKeys(in.HTTP) {
		h, err := broker.ParseHTTPBinding(v+"="+in.HTTP[v], slices.Contains(in.HTTPBody, v))
		if err != nil {
			return RunOutput{}, err
		}
		bindings = append(bindings, h)
	}
	stdout, stderr := &capped{max: in.MaxOutputBytes}, &capped{max: in.MaxOutputBytes}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(in.TimeoutSeconds)*time.Second)
	defer cancel()
	c := t.Caller()
	dir := in.Cwd
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(c.Cwd, dir)
	}
	code, err := t.Broker.Exec(ctx, c, broker.ExecRequest{Inject: inject, HTTP: bindings, Argv: in.Argv, Env: t.Environ(),
		Dir: dir, ConfineDir: true, Unattended: true, Stdout: stdout, Stderr: stderr})
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	if err != nil && !timedOut {
		return RunOutput{}, err
	}
	return RunOutput{ExitCode: code, TimedOut: timedOut,
		Stdout: stdout.text(), StdoutTruncated: stdout.dropped > 0,
		Stderr: stderr.text(), StderrTruncated: stderr.dropped > 0}, nil
}

// capped keeps the first max bytes written to it and counts the rest. It
// never fails a write: the child must not see an error because its
// output is long. What it receives was already redacted.
type capped struct {
	buf     []byte
	max     int
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - len(c.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// text is the kept output as valid UTF-8: JSON carries text, and a
// replacement character is honest about bytes that were not.
func (c *capped) text() string { return strings.ToValidUTF8(string(c.buf), "\uFFFD") }
