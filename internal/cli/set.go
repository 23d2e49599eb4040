package cli

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

type setOptions struct {
	IO *IOStreams
	access

	Name      string
	FromStdin bool
}

func newSetCmd(f *Factory) *cobra.Command {
	opts := &setOptions{IO: f.IO, access: f.accessWithoutToken()}
	cmd := &cobra.Command{
		Use:   "set KEY",
		Short: "Store a secret (from a hidden prompt or --stdin, never from argv)",
		Long: `Store a secret under KEY. The value is read from a hidden prompt (asked
twice) or, with --stdin, from standard input with one trailing newline removed.
A value is never taken from the command line, where shell history and ps would
keep it.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("values are never taken from the command line (shell history and ps would keep them); use the prompt or --stdin")
			}
			return exactArgs(1, "KEY")(nil, args)
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runSet(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.FromStdin, "stdin", false, "read the value from standard input")
	return cmd
}

func runSet(opts *setOptions) error {
	if err := broker.ValidateName(opts.Name); err != nil {
		return err
	}
	value, err := readValue(opts)
	if err != nil {
		return err
	}
	if err := broker.CheckValue(value); err != nil {
		return usageError{Err: err}
	}
	b, c, err := opts.open()
	if err != nil {
		return err
	}
	res, err := b.Set(c, broker.SetRequest{Name: opts.Name, Value: value})
	if err != nil {
		return err
	}
	warnShort(opts.IO, opts.Name, value)
	reportStored(opts.IO, opts.Name, res)
	return nil
}

func readValue(opts *setOptions) ([]byte, error) {
	io_ := opts.IO
	if opts.FromStdin {
		v, err := io.ReadAll(io.LimitReader(io_.In, broker.MaxValueLen+3))
		if err != nil {
			return nil, err
		}
		v = trimOneNewline(v)
		if len(v) == 0 {
			return nil, usagef("empty value on standard input; nothing stored")
		}
		return v, nil
	}
	if !io_.StdinTTY || io_.ReadSecret == nil {
		return nil, usageError{Err: fmt.Errorf("%w: pass --stdin to read the value from it", errNoTerminal)}
	}
	v1, err := io_.ReadSecret(fmt.Sprintf("Value for %s: ", opts.Name))
	if err != nil {
		return nil, err
	}
	if len(v1) == 0 {
		return nil, usagef("empty value; nothing stored")
	}
	v2, err := io_.ReadSecret("Again: ")
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(v1, v2) != 1 {
		return nil, usageError{Err: errors.New("the two values differ; nothing stored")}
	}
	return v1, nil
}

func trimOneNewline(v []byte) []byte {
	if bytes.HasSuffix(v, []byte("\r\n")) {
		return v[:len(v)-2]
	}
	return bytes.TrimSuffix(v, []byte("\n"))
}

func warnShort(io_ *IOStreams, name string, value []byte) {
	if len(value) < broker.MinRedactLen {
		fprintf(io_.ErrOut, "llms: warning: %s is shorter than %d bytes; exec cannot redact it from output\n", name, broker.MinRedactLen)
	}
}

func reportStored(io_ *IOStreams, name string, res broker.SetResult) {
	if res.Created {
		fprintf(io_.Out, "stored: %s\n", name)
	} else {
		fprintf(io_.Out, "updated: %s\n", name)
	}
	if r := res.Fulfilled; r != nil {
		agent := r.Agent
		if agent == "" {
			agent = "an agent"
		}
		fprintf(io_.ErrOut, "llms: this answers the request by %s (token %s); give it a token that names %s\n", agent, r.TokenID, name)
	}
}
