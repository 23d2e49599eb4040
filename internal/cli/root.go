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
	// serveMCP is llms-mcp's server (MCPMain); nil in llms.
	serveMCP MCPServe
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

// Broker opens the store behind the gate, reporting repaired problems.
func (f *Factory) Broker() (*broker.Broker, error) {
	dir, err := f.StoreDir()
	if err != nil {
		return nil, err
	}
	b, err := broker.Open(dir)
	if err != nil {
		return nil, err
	}
	for _, w := range b.Warnings() {
		fprintf(f.IO.ErrOut, "llms: warning: %s\n", w)
	}
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

// commands are the top-level commands, each under the name its Use
// starts with.
var commands = []struct {
	name  string
	build func(*Factory) *cobra.Command
}{
	{"init", newInitCmd},
	{"set", newSetCmd},
	{"list", newListCmd},
	{"delete", newDeleteCmd},
	{"peek", newPeekCmd},
	{"exec", newExecCmd},
	{"import", newImportCmd},
	{"status", newStatusCmd},
	{"session-start", newSessionStartCmd},
	{"session-info", newSessionInfoCmd},
	{"macaroon", newMacaroonCmd},
	{"revoke", newRevokeCmd},
	{"revoke-all", newRevokeAllCmd},
	{"profile", newProfileCmd},
	{"policy", newPolicyCmd},
	{"lease", newLeaseCmd},
	{"leases", newLeasesCmd},
	{"audit", newAuditCmd},
	{"agent", newAgentCmd},
	{"migrate", newMigrateCmd},
	{"mcp", newMCPCmd},
	{"requests", newRequestsCmd},
	{"scan", newScanCmd},
	{"setup", newSetupCmd},
}

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newRoot(f)
	for _, c := range commands {
		root.AddCommand(c.build(f))
	}
	return root
}

// newRoot is the root command alone: its flags and the agent-mode gate.
func newRoot(f *Factory) *cobra.Command {
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
	root.PersistentFlags().StringVar(&f.dir, "dir", "", "store directory (default $LLM_SECRETS_DIR, else $XDG_DATA_HOME/llm-secrets)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{Err: err} })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return f.agentModeGate(cmd) }
	return root
}

// Main runs the CLI and returns the process exit status.
func Main(args []string, f *Factory) int {
	root := newRoot(f)
	if name, named := commandWord(args); named {
		// One command, with its own subcommands: building the others and
		// their flags would be most of what a short command costs after
		// Go's own start-up (docs/PERFORMANCE.md).
		for _, c := range commands {
			if c.name == name {
				root.AddCommand(c.build(f))
				break
			}
		}
		// Nor the completion command cobra would add, which args did not
		// name either.
		root.CompletionOptions.DisableDefaultCmd = true
	} else if !versionOnly(args) {
		// Help, completion, the usage list and the suggestions for a
		// mistyped name need the whole tree.
		root = NewRootCmd(f)
	}
	root.SetArgs(args)
	return finish(f, root.Execute())
}

// commandWord is the command args name when only --dir comes before it
// and it is one of commands; named is false otherwise.
func commandWord(args []string) (name string, named bool) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--dir":
			i++
		case strings.HasPrefix(a, "--dir="):
		case strings.HasPrefix(a, "-"):
			return "", false
		default:
			for _, c := range commands {
				if c.name == a {
					return a, true
				}
			}
			return "", false
		}
	}
	return "", false
}

// versionOnly reports whether args ask for the version and nothing else,
// which the root answers alone.
func versionOnly(args []string) bool {
	asked := false
	for _, a := range args {
		switch a {
		case "--version", "-v":
			asked = true
		default:
			return false
		}
	}
	return asked
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
