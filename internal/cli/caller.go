package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llm-secrets/llms/internal/broker"
)

// Where a token can come from, in order of precedence. Some agent sandboxes
// strip variables that look like tokens, hence the file forms.
const (
	envToken     = broker.TokenEnv
	envTokenFile = broker.TokenFileEnv
)

// tokenFlags are --macaroon and --macaroon-file, shared by every command
// that accesses secrets.
type tokenFlags struct {
	token string
	file  string
}

func (t *tokenFlags) register(cmd *cobra.Command) { t.addTo(cmd.Flags()) }

func (t *tokenFlags) addTo(fs *pflag.FlagSet) {
	fs.StringVar(&t.token, "macaroon", "", "token to act under (default $"+envToken+"; prefer the variable or a file: argv is visible in ps)")
	fs.StringVar(&t.file, "macaroon-file", "", "read the token from this file (default $"+envTokenFile+")")
}

// accountHome is the home of this process's uid in the system's user
// database, never $HOME.
func (f *Factory) accountHome() (string, error) {
	a, err := f.UserDB.Current()
	return a.Home, err
}

// policyConfigDirs are the config directories whose llm-secrets files
// apply: the account's own ~/.config (when the user database knows it)
// and $XDG_CONFIG_HOME's.
func (f *Factory) policyConfigDirs() []string {
	var dirs []string
	if home, err := f.accountHome(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config"))
	}
	return append(dirs, f.configDir())
}

// maxTokenFile bounds a token file read.
const maxTokenFile = 64 << 10

// callerWithoutToken describes who is asking, for a command that takes no
// token: the process's agent findings, its directory and the policy
// locations. The broker refuses a detected agent wherever a token would be
// needed.
//
// The user policy in the account's home (from the system's user database;
// an agent can change $HOME and $XDG_CONFIG_HOME, not the database) is
// added by the broker; the environment's $XDG_CONFIG_HOME can only add
// another. When the account cannot be found the human is warned here, and
// the broker refuses agents.
func (f *Factory) callerWithoutToken() (*broker.Caller, error) {
	c := &broker.Caller{LookupEnv: f.LookupEnv, ProcRoot: f.ProcRoot, ConfigDirs: []string{f.configDir()}, UserDB: f.UserDB}
	c.Cwd, _ = f.getwd()
	for _, w := range c.Warnings() {
		fprintf(f.IO.ErrOut, "llms: warning: %s\n", w)
	}
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
	if c.Token, c.TokenGiven, err = f.token(cmd.Flags(), t); err != nil {
		return nil, err
	}
	return c, nil
}

// token finds the caller's token: --macaroon, --macaroon-file, then the
// variables. given is true when any of them is present, even empty.
func (f *Factory) token(fs *pflag.FlagSet, t *tokenFlags) (token string, given bool, err error) {
	file, fileGiven := "", false
	switch {
	case fs.Changed("macaroon"):
		return t.token, true, nil
	case fs.Changed("macaroon-file"):
		file, fileGiven = t.file, true
	default:
		if v, ok := f.LookupEnv(envToken); ok {
			return v, true, nil
		}
		if v, ok := f.LookupEnv(envTokenFile); ok {
			file, fileGiven = v, true
		}
	}
	if !fileGiven {
		return "", false, nil
	}
	if file == "" {
		return "", true, nil
	}
	tok, err := readTokenFile(file)
	return tok, true, err
}

// A tokenFileError is a token file that could not be read: bad input for a
// command, while the MCP server starts without a token and says so.
type tokenFileError struct {
	path string
	err  error
}

func (e tokenFileError) Error() string { return "token file: " + e.err.Error() }
func (e tokenFileError) Unwrap() error { return usageError{Err: e.err} }

func readTokenFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", tokenFileError{path, err}
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxTokenFile+1))
	if err != nil {
		return "", tokenFileError{path, err}
	}
	if len(data) > maxTokenFile {
		return "", tokenFileError{path, fmt.Errorf("%s is larger than %d bytes", path, maxTokenFile)}
	}
	return string(data), nil
}

// access is how a command reaches the store: who is asking, then the
// broker. Commands get it from the Factory and tests give their own.
type access struct {
	Caller func() (*broker.Caller, error)
	Broker func() (*broker.Broker, error)
	// Remote, in agent mode, serves exec, peek and list instead of Broker:
	// the launcher's broker across its socket.
	Remote broker.Service
}

// gate opens what serves exec, peek and list: the agent-mode broker when
// Remote is set, else the broker in this process.
func (a access) gate() (broker.Service, error) {
	if a.Remote != nil {
		return a.Remote, nil
	}
	return a.Broker()
}

// openGate is open for exec, peek and list.
func (a access) openGate() (broker.Service, *broker.Caller, error) {
	c, err := a.Caller()
	if err != nil {
		return nil, nil, err
	}
	g, err := a.gate()
	if err != nil {
		return nil, nil, err
	}
	return g, c, nil
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
