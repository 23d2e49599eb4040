package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/caveat"
)

func newMacaroonCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "macaroon",
		Short: "Mint, attenuate, inspect and verify delegated tokens",
		Long: `Tokens are macaroons: bearer credentials whose caveats (expiry and
` + caveatNames(true) + `) can only ever be added, never removed. The human
mints one under a live session; whoever holds it can narrow it further offline
with attenuate; nobody can widen it.`,
	}
	cmd.AddCommand(newMintCmd(f), newAttenuateCmd(f), newInspectCmd(f), newVerifyCmd(f))
	return cmd
}

func newMintCmd(f *Factory) *cobra.Command {
	var rf restrictFlags
	cmd := &cobra.Command{
		Use:   "mint --secret KEY --ttl 5m [caveat flags]",
		Short: "Issue a token for an agent (prints only the token)",
		Long: `Issue a token under the live session. It must name at least one secret and
expire (--ttl) within the session. Only the token is printed, so
M=$(llms macaroon mint …) captures it.`,
		Args: exactArgs(0, "no arguments (secrets go in --secret)"),
		RunE: func(*cobra.Command, []string) error {
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			r, err := rf.restrictions(c)
			if err != nil {
				return err
			}
			tok, info, err := b.Mint(r, c)
			return printToken(f, "token", tok, info, err)
		},
	}
	rf.register(cmd, true)
	return cmd
}

// printToken prints only the token on stdout (for M=$(…)), and its id
// and expiry on stderr for a human at a terminal.
func printToken(f *Factory, label, tok string, info broker.TokenInfo, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, tok)
	if f.IO.StdoutTTY {
		fmt.Fprintf(f.IO.ErrOut, "%s %s expires %s\n", label, info.ID, info.Expires.Format(time.RFC3339))
	}
	return nil
}

// inputToken is the token a macaroon subcommand works on: --macaroon,
// --macaroon-file, the variables, or else standard input when it is not a
// terminal (so tokens pipe from mint to attenuate).
func (f *Factory) inputToken(cmd *cobra.Command, t *tokenFlags) (string, error) {
	c, err := f.caller(cmd, t)
	if err != nil {
		return "", err
	}
	if c.TokenGiven {
		if strings.TrimSpace(c.Token) == "" {
			return "", usagef("the token given is empty")
		}
		return c.Token, nil
	}
	if f.IO.StdinTTY {
		return "", usagef("no token: pass --macaroon, --macaroon-file, $%s, or pipe it on stdin", envToken)
	}
	data, err := io.ReadAll(io.LimitReader(f.IO.In, maxTokenFile))
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(data)) == "" {
		return "", usagef("no token on standard input")
	}
	return string(data), nil
}

func newAttenuateCmd(f *Factory) *cobra.Command {
	var rf restrictFlags
	var t tokenFlags
	cmd := &cobra.Command{
		Use:   "attenuate [--macaroon M] [caveat flags]",
		Short: "Narrow a token offline; the result never allows more than the input",
		Long: `Append caveats to a token. No key or store is needed: any holder can narrow a
token before passing it on. --secret narrows the secret list; --ttl adds an
earlier expiry. Prints only the new token.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			c, err := f.caller(nil, nil)
			if err != nil {
				return err
			}
			r, err := rf.restrictions(c)
			if err != nil {
				return err
			}
			out, err := broker.Attenuate(tok, r, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, out)
			return nil
		},
	}
	rf.register(cmd, true)
	t.register(cmd)
	return cmd
}

func newInspectCmd(f *Factory) *cobra.Command {
	var t tokenFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--macaroon M]",
		Short: "Show a token's id, caveats and expiry (no key needed; nothing is verified)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			info, err := broker.Inspect(tok)
			if err != nil {
				return err
			}
			return printTokenInfo(f, info, asJSON)
		},
	}
	t.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printTokenInfo(f *Factory, info broker.TokenInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	// The location is unsigned and arbitrary: quoted, it cannot drive the
	// terminal.
	fmt.Fprintf(f.IO.Out, "id:       %s\nlocation: %q\n", info.ID, info.Location)
	if !info.Expires.IsZero() {
		left := time.Until(info.Expires).Truncate(time.Second)
		state := fmt.Sprintf("%s left", left)
		if left <= 0 {
			state = "EXPIRED"
		}
		fmt.Fprintf(f.IO.Out, "expires:  %s (%s)\n", info.Expires.Format(time.RFC3339), state)
	}
	fmt.Fprintf(f.IO.Out, "caveats:\n")
	for _, c := range info.Caveats {
		fmt.Fprintf(f.IO.Out, "  %s\n", c) // caveats parsed: printable ASCII only
	}
	return nil
}

func newVerifyCmd(f *Factory) *cobra.Command {
	var t tokenFlags
	var op, program string
	var secrets []string
	cmd := &cobra.Command{
		Use:   "verify [--macaroon M] [--key K] [--op OP] [--cmd PROG]",
		Short: "Check a token's signature and every caveat against the current context",
		Long: `Verify the token against this store's root keys and check every caveat as a
real request would: --key the secret(s) asked for, --op the operation (default
exec), --cmd the program exec would start. Prints which caveat fails and why.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := f.inputToken(cmd, &t)
			if err != nil {
				return err
			}
			b, c, err := f.gate(nil, nil)
			if err != nil {
				return err
			}
			info, err := b.CheckToken(tok, op, secrets, program, c)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "valid: token %s allows this request\n", info.ID)
			return nil
		},
	}
	t.register(cmd)
	cmd.Flags().StringSliceVar(&secrets, "key", nil, "secret(s) the request asks for")
	cmd.Flags().StringVar(&op, "op", "", "operation ("+strings.Join(caveat.Ops(), ", ")+"; default exec)")
	cmd.Flags().StringVar(&program, "cmd", "", "program exec would start")
	return cmd
}
