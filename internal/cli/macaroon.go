package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

func newMacaroonCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "macaroon",
		Short: "Mint, attenuate, inspect and verify delegated tokens",
		Long: `Tokens are macaroons: bearer credentials whose caveats can only ever be
added, never removed. The human mints one under a live session; whoever holds
it can narrow it further offline with attenuate; nobody can widen it.

Caveats: expires_at (--ttl) and ` + caveatNames(true) + `.`,
	}
	cmd.AddCommand(newMintCmd(f), newAttenuateCmd(f), newInspectCmd(f), newVerifyCmd(f))
	return cmd
}

// printToken prints only the token on stdout (for M=$(…)), and its id
// and expiry on stderr for a human at a terminal.
func printToken(io_ *IOStreams, label string, m broker.Minted, err error) error {
	if err != nil {
		return err
	}
	printMintWarnings(io_, m)
	fprintf(io_.Out, "%s\n", m.Token)
	if io_.StdoutTTY {
		fprintf(io_.ErrOut, "%s %s expires %s\n", label, m.Info.ID, m.Info.Expires.Format(time.RFC3339))
	}
	return nil
}

// printMintWarnings tells the human what a minted token does not contain.
func printMintWarnings(io_ *IOStreams, m broker.Minted) {
	for _, w := range m.Warnings {
		fprintf(io_.ErrOut, "llms: warning: %s\n", w)
	}
}

// openToMint opens the store as the caller and resolves the caveat flags
// (--here against the caller's repository): what mint and lease start with.
func openToMint(a access, rf *restrictFlags) (*broker.Broker, *broker.Caller, broker.Restrictions, error) {
	b, c, err := a.open()
	if err != nil {
		return nil, nil, broker.Restrictions{}, err
	}
	r, err := rf.restrictions(c)
	if err != nil {
		return nil, nil, broker.Restrictions{}, err
	}
	return b, c, r, nil
}

// inputToken returns how a macaroon subcommand reads the token it works on:
// --macaroon, --macaroon-file, the variables, or else standard input when it
// is not a terminal (so tokens pipe from mint to attenuate).
func (f *Factory) inputToken(cmd *cobra.Command, t *tokenFlags) func() (string, error) {
	return func() (string, error) {
		c, err := f.callerWithToken(cmd, t)
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
}
