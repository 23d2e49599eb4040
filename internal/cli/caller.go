package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/llm-secrets/llms/internal/broker"
)

// Where a token can come from, in order of precedence. Some agent sandboxes
// strip variables that look like tokens, hence the file forms.
const (
	envToken     = "LLM_SECRETS_MACAROON"
	envTokenFile = "LLM_SECRETS_MACAROON_FILE"
)

// tokenFlags are --macaroon and --macaroon-file, shared by every command
// that accesses secrets.
type tokenFlags struct {
	token string
	file  string
}

func (t *tokenFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.token, "macaroon", "", "token to act under (default $"+envToken+"; prefer the variable or a file: argv is visible in ps)")
	cmd.Flags().StringVar(&t.file, "macaroon-file", "", "read the token from this file (default $"+envTokenFile+")")
}

// policyConfigDirs lists where user policies live: the account's home from
// the password database first (an agent can change $HOME and
// $XDG_CONFIG_HOME, not /etc/passwd), then $XDG_CONFIG_HOME if it points
// elsewhere. A policy can thus be added by the environment, never hidden.
func (f *Factory) policyConfigDirs() []string {
	var dirs []string
	if f.AccountHome != nil {
		if home, err := f.AccountHome(); err == nil && filepath.IsAbs(home) {
			dirs = append(dirs, filepath.Join(home, ".config"))
		}
	}
	return append(dirs, f.configDir())
}

// maxTokenFile bounds a token file read.
const maxTokenFile = 64 << 10

// callerWithoutToken describes who is asking, for a command that takes no
// token: the process's agent findings, its directory and the policy
// locations. The broker refuses a detected agent wherever a token would be
// needed.
func (f *Factory) callerWithoutToken() (*broker.Caller, error) {
	c := &broker.Caller{LookupEnv: f.LookupEnv, ProcRoot: f.ProcRoot, ConfigDirs: f.policyConfigDirs()}
	c.Cwd, _ = f.getwd()
	return c, nil
}

// callerWithToken describes who is asking, with the token from --macaroon,
// --macaroon-file or the variables (in that order). A token variable that is
// present but empty still counts as given: it is "no token", never a
// bypass.
func (f *Factory) callerWithToken(cmd *cobra.Command, t *tokenFlags) (*broker.Caller, error) {
	c, err := f.callerWithoutToken()
	if err != nil {
		return nil, err
	}
	file, fileGiven := "", false
	switch {
	case cmd.Flags().Changed("macaroon"):
		c.Token, c.TokenGiven = t.token, true
	case cmd.Flags().Changed("macaroon-file"):
		file, fileGiven = t.file, true
	default:
		if v, ok := f.LookupEnv(envToken); ok {
			c.Token, c.TokenGiven = v, true
		} else if v, ok := f.LookupEnv(envTokenFile); ok {
			file, fileGiven = v, true
		}
	}
	if fileGiven {
		c.TokenGiven = true
		if file != "" {
			tok, err := readTokenFile(file)
			if err != nil {
				return nil, err
			}
			c.Token = tok
		}
	}
	return c, nil
}

func readTokenFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", usagef("token file: %v", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if len(data) > maxTokenFile {
		return "", usagef("token file %s is larger than %d bytes", path, maxTokenFile)
	}
	return string(data), nil
}

// access is how a command reaches the store: who is asking, then the
// broker. Commands get it from the Factory and tests give their own.
type access struct {
	Caller func() (*broker.Caller, error)
	Broker func() (*broker.Broker, error)
}

// open describes the caller, then opens the broker: what every command
// that touches the store starts with.
func (a access) open() (*broker.Broker, *broker.Caller, error) {
	c, err := a.Caller()
	if err != nil {
		return nil, nil, err
	}
	b, err := a.Broker()
	if err != nil {
		return nil, nil, err
	}
	return b, c, nil
}

// accessWithoutToken is the access of a command that takes no token.
func (f *Factory) accessWithoutToken() access {
	return access{Caller: f.callerWithoutToken, Broker: f.Broker}
}

// accessWithToken is the access of a command that acts under a token given
// by cmd's --macaroon or --macaroon-file (registered in t) or the
// variables; they are read when the command runs.
func (f *Factory) accessWithToken(cmd *cobra.Command, t *tokenFlags) access {
	return access{Caller: func() (*broker.Caller, error) { return f.callerWithToken(cmd, t) }, Broker: f.Broker}
}
