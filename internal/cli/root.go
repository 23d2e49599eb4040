package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/sandbox"
	"github.com/llm-secrets/llms/internal/userdb"
)

// Version is set at build time with -ldflags "-X …cli.Version=v1.2.3";
// otherwise the module version from the build info is used.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "dev"
}

// Factory carries what every command needs: IO, the environment, and the
// store location from --dir.
type Factory struct {
	IO        *IOStreams
	Getenv    func(string) string
	LookupEnv func(string) (string, bool)
	Environ   func() []string
	// ProcRoot is where agent detection reads the process tree; "" means
	// /proc. Only tests change it.
	ProcRoot string
	// UserDB is where the account (login name, home for the user policy)
	// is looked up; nil means the system's user database. Only tests set it.
	UserDB *userdb.DB
	// Now is the clock and Getwd the working directory (nil: the real
	// ones); tests fix them.
	Now   func() time.Time
	Getwd func() (string, error)
	dir   string
	// store is --store (shared.go); untrustedNoted, that an untrusted
	// .llm-secrets.toml was reported.
	store          string
	untrustedNoted bool
}

func (f *Factory) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

func (f *Factory) getwd() (string, error) {
	if f.Getwd == nil {
		return os.Getwd()
	}
	return f.Getwd()
}

// NewFactory returns a Factory over the real process.
func NewFactory() *Factory {
	return &Factory{IO: SystemIO(), Getenv: os.Getenv, LookupEnv: os.LookupEnv, Environ: os.Environ,
		Now: time.Now, Getwd: os.Getwd}
}

// StoreDir is --dir, else the default location.
func (f *Factory) StoreDir() (string, error) {
	if f.dir != "" {
		// Absolute, as LLM_SECRETS_DIR must be: the store never depends on
		// where a later step runs from.
		return filepath.Abs(f.dir)
	}
	return broker.DefaultDir(f.Getenv)
}

// Broker opens the store behind the gate — the shared store when one is
// selected (shared.go), else the personal one — reporting repaired
// problems.
func (f *Factory) Broker() (*broker.Broker, error) {
	b, err := f.openBroker()
	if err != nil {
		return nil, err
	}
	f.warn(b)
	return b, nil
}

// inAgentMode are the commands that work inside agent mode: exec, peek
// and list through the launcher's broker, what reads no store, and help.
// Every other command is the human's (an allow-list: a new command is
// refused until it is put here).
var inAgentMode = []string{"exec", "peek", "list", "status", "mcp", "mcp config", "macaroon", "macaroon attenuate",
	"macaroon inspect", "profile", "profile list", "profile show", "policy", "agent", "help", "completion"}

// agentModeGate refuses, inside agent mode, every command for the human
// alone, before it touches anything: inside the sandbox the store cannot
// be opened, and "permission denied" (or "no store here, run llms init")
// would read as a fault to fix. Agent mode is $LLM_SECRETS_SOCKET set;
// without it, a sandbox (sandbox.Confined) in which the store cannot be
// opened — an agent's store of its own, in its tree, stays usable. `llms
// agent` refuses with its own reason.
func (f *Factory) agentModeGate(cmd *cobra.Command) error {
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	if slices.Contains(inAgentMode, path) || strings.HasPrefix(path, "completion ") || strings.HasPrefix(path, "help ") {
		return nil
	}
	refusal := fmt.Errorf("%w: %s is for the human, in their own shell: inside agent mode the store is out of reach, and only exec, peek and list reach it, through the launcher's broker", broker.ErrDenied, cmd.CommandPath())
	if sock, _ := f.LookupEnv(envSocket); sock != "" {
		return refusal
	}
	if !sandbox.Confined() {
		return nil
	}
	if dir, err := f.StoreDir(); err == nil && outOfReach(dir) {
		return refusal
	}
	return nil
}

// outOfReach reports whether the directory dir, or where it would be
// made (its nearest existing ancestor), cannot be opened for lack of
// permission.
func outOfReach(dir string) bool {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
			return false
		}
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return true
		}
		if !errors.Is(err, unix.ENOENT) || filepath.Dir(p) == p {
			return false
		}
	}
}

const rootLong = `llms keeps secrets in an age-encrypted store and lets you hand an AI coding
agent a narrow, short-lived slice of authority to *use* them.

There is no "get" command, and no flag prints a value: a secret leaves the
store only into the environment of a command you start with
"llms exec --inject VAR=KEY -- CMD", whose output is redacted. Anything an
agent could print would end up in its transcript, so nothing here prints one.
Use "llms peek KEY" to check which value is stored without revealing it.`

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "llms",
		Short:         "Secrets for AI coding agents, without handing them over",
		Long:          rootLong,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.PersistentFlags().StringVar(&f.dir, "dir", "", "your personal data dir: identity, sessions, audit log, own store (default $LLM_SECRETS_DIR, else $XDG_DATA_HOME/llm-secrets)")
	root.PersistentFlags().StringVar(&f.store, "store", "", "a shared store's directory, whose secrets every command then uses with your identity (default $LLM_SECRETS_STORE, else a trusted .llm-secrets.toml's)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{Err: err} })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := f.agentModeGate(cmd); err != nil {
			return err
		}
		return f.identityFileGate(cmd)
	}
	root.AddCommand(
		newInitCmd(f),
		newSetCmd(f),
		newListCmd(f),
		newDeleteCmd(f),
		newPeekCmd(f),
		newExecCmd(f),
		newImportCmd(f),
		newStatusCmd(f),
		newSessionStartCmd(f),
		newSessionInfoCmd(f),
		newMacaroonCmd(f),
		newRevokeCmd(f),
		newRevokeAllCmd(f),
		newProfileCmd(f),
		newPolicyCmd(f),
		newLeaseCmd(f),
		newLeasesCmd(f),
		newAuditCmd(f),
		newAgentCmd(f),
		newMigrateCmd(f),
		newMCPCmd(f),
		newRequestsCmd(f),
		newScanCmd(f),
		newSetupCmd(f),
		newRecipientCmd(f),
		newMemberCmd(f),
		newTrustCmd(f),
		newSyncCmd(f),
		newResolveCmd(f),
	)
	return root
}

// Main runs the CLI and returns the process exit status.
func Main(args []string, f *Factory) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	return finish(f, root.Execute())
}

// finish reports a command's error and returns the exit status.
func finish(f *Factory, err error) int {
	if err != nil {
		if _, isChild := err.(childExit); !isChild {
			fprintf(f.IO.ErrOut, "llms: %s\n", err)
		}
	}
	return exitCode(err)
}

// exactArgs is cobra.ExactArgs with a usage error (exit 2).
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}
