package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AgentOptions describe one agent launch; AgentSpec turns them into a Spec.
type AgentOptions struct {
	// Homes are the account's home (from the password database) and, when
	// it differs, $HOME: credential paths are hidden and the agent's state
	// is writable under each, and each is otherwise read-only.
	Homes   []string
	DataDir string // the llms store: hidden
	// OtherStores are more llms store locations to hide, like DataDir:
	// the default one ($XDG_DATA_HOME/llm-secrets) when $LLM_SECRETS_DIR
	// names another. The default location in each home
	// (DefaultStorePath) is always hidden.
	OtherStores []string
	ConfigDirs  []string // llms config dirs (<config>/llm-secrets): their key files hidden
	Workdir     string   // the working tree: writable
	// TempDir is the agent's own temp dir, made for this launch (its
	// $TMPDIR): writable, and mounted over /tmp where a mount namespace
	// can be made.
	TempDir string
	// SharedTemp are the user's temp dirs besides /tmp and /var/tmp (a
	// $TMPDIR of the user's): like them, the agent may create files there
	// and write them, and remove, rename or replace nothing.
	SharedTemp []string
	Agent      string // agent id: its state paths become writable
	// Program is the agent's program: it must stay in sight (a program
	// under /tmp keeps the shared /tmp).
	Program string
	// SocketDir holds the broker's socket (Spec.Sockets). Which Unix
	// sockets the agent reaches is the supervisor's to decide, at every ABI.
	SocketDir string
	// Terminals are the device paths of the launcher's terminal, if any:
	// the only terminals under /dev/pts the agent may open by path, beside
	// those of its own (through the supervisor).
	Terminals  []string
	AllowRead  []string // read access; also un-hides a default credential path
	AllowWrite []string
	Hide       []string
}

// baseDevices are usable by every agent: /dev/tty is its controlling
// terminal, whichever that is; the two ptmx make new terminals. Not
// /dev/pts: another terminal of the user's is there.
var baseDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/pts/ptmx"}

// AgentSpec is the rule set of agent mode: read everything except the
// hidden paths; write only the working tree, the temp dirs, the agent's
// state and --allow-write; devices only the harmless ones and terminals.
// It refuses a working tree that holds the home directory (the agent could
// plant lines in shell start-up files) unless that tree is named in
// AllowWrite, and one inside a hidden path.
func AgentSpec(o AgentOptions) (Spec, error) {
	if len(o.Homes) == 0 {
		return Spec{}, errors.New("agent sandbox: no home directory")
	}
	paths := []struct{ name, v string }{{"store", o.DataDir}, {"working directory", o.Workdir}, {"temp dir", o.TempDir}}
	for _, h := range o.Homes {
		paths = append(paths, struct{ name, v string }{"home", h})
	}
	for _, p := range paths {
		if !filepath.IsAbs(p.v) {
			return Spec{}, fmt.Errorf("agent sandbox: the %s path %q is not absolute", p.name, p.v)
		}
	}
	home := filepath.Clean(o.Homes[0]) // ~ in flags
	allowRead, err := absPaths(home, o.AllowRead)
	if err != nil {
		return Spec{}, err
	}
	allowWrite, err := absPaths(home, o.AllowWrite)
	if err != nil {
		return Spec{}, err
	}
	// Landlock grants only what exists when the rules are made: a path
	// that does not exist yet would stay out of reach, silently.
	for _, p := range allowWrite {
		if _, err := os.Stat(p); err != nil {
			return Spec{}, fmt.Errorf("--allow-write %s: %w; create it first (mkdir -p %s), nothing was started", p, errors.Unwrap(err), p)
		}
	}
	extraHide, err := absPaths(home, o.Hide)
	if err != nil {
		return Spec{}, err
	}

	hide, err := hiddenPaths(o, allowRead, extraHide)
	if err != nil {
		return Spec{}, err
	}

	wd, err := resolve(filepath.Clean(o.Workdir))
	if err != nil {
		return Spec{}, err
	}
	for _, h := range o.Homes {
		rhome, err := resolve(h)
		if err != nil {
			return Spec{}, err
		}
		if within(rhome, wd) && !slices.Contains(allowWrite, filepath.Clean(o.Workdir)) {
			return Spec{}, fmt.Errorf("agent sandbox: the working directory %s holds your home directory, so the agent could write your shell start-up files; start it in a project directory, or name the directory with --allow-write to accept that", o.Workdir)
		}
	}
	for _, h := range hide {
		rh, err := resolve(h)
		if err != nil {
			return Spec{}, err
		}
		if within(wd, rh) {
			return Spec{}, fmt.Errorf("agent sandbox: the working directory %s is inside the hidden path %s", o.Workdir, h)
		}
	}

	write := []string{o.Workdir, o.TempDir, "/dev/shm"}
	a, _ := LookupAgent(o.Agent)
	for _, h := range o.Homes {
		for _, rel := range append(slices.Clone(SharedState), a.State...) {
			write = append(write, filepath.Join(h, rel))
		}
	}
	write = append(write, allowWrite...)
	// --allow-read adds reading; inside a writable tree it would take
	// writing away instead.
	read := append([]string{"/"}, o.Homes...)
	for _, p := range allowRead {
		if !slices.ContainsFunc(write, func(w string) bool { return within(p, w) }) {
			read = append(read, p)
		}
	}

	// The shared temp dirs, where the user's programs keep their sockets
	// and files too (tmux, ssh-agent, editors): the agent may add, never
	// replace. One inside a writable tree is that tree's already.
	var create []string
	for _, d := range append([]string{"/tmp", "/var/tmp"}, o.SharedTemp...) {
		if !filepath.IsAbs(d) {
			return Spec{}, fmt.Errorf("agent sandbox: the temp dir %q is not absolute", d)
		}
		d = filepath.Clean(d)
		if within(d, filepath.Clean(o.TempDir)) {
			return Spec{}, fmt.Errorf("agent sandbox: the agent's own temp dir %s must be a directory of its own, not the shared %s", o.TempDir, d)
		}
		if !slices.ContainsFunc(write, func(w string) bool { return within(d, w) }) {
			create = append(create, d)
		}
	}

	var visible []string
	if o.Program != "" {
		if !filepath.IsAbs(o.Program) {
			return Spec{}, fmt.Errorf("agent sandbox: the program path %q is not absolute", o.Program)
		}
		visible = append(visible, o.Program)
	}
	devices := append(slices.Clone(baseDevices), o.Terminals...)
	var sockets []string
	if o.SocketDir != "" {
		if !filepath.IsAbs(o.SocketDir) {
			return Spec{}, fmt.Errorf("agent sandbox: the socket directory %q is not absolute", o.SocketDir)
		}
		// The agent must not replace the broker's socket: a child the
		// broker started would then send its requests (its environment
		// with them) to the agent.
		if slices.ContainsFunc(write, func(w string) bool { return within(filepath.Clean(o.SocketDir), w) }) {
			return Spec{}, fmt.Errorf("agent sandbox: the socket directory %s is inside a tree the agent may write", o.SocketDir)
		}
		sockets = append(sockets, o.SocketDir)
	}
	return Spec{
		// A home is read-only even inside a writable tree (a home under
		// /tmp): its start-up files are not for the agent to change.
		Read:       read,
		Write:      write,
		Create:     create,
		Devices:    devices,
		Deny:       []string{"/dev"},
		Sockets:    sockets,
		Hide:       hide,
		PrivateTmp: o.TempDir,
		Visible:    visible,
		Supervised: true,
	}, nil
}

// HiddenPaths lists what no confined program may read: the credential
// paths in each home (less --allow-read), every llms store (DataDir,
// OtherStores, the default location in each home), the key files of the
// config directories, and --hide. It reads Homes, DataDir, OtherStores,
// ConfigDirs, AllowRead and Hide; AgentSpec hides the same list.
func HiddenPaths(o AgentOptions) ([]string, error) {
	if len(o.Homes) == 0 {
		return nil, errors.New("sandbox: no home directory")
	}
	home := filepath.Clean(o.Homes[0])
	allowRead, err := absPaths(home, o.AllowRead)
	if err != nil {
		return nil, err
	}
	extraHide, err := absPaths(home, o.Hide)
	if err != nil {
		return nil, err
	}
	return hiddenPaths(o, allowRead, extraHide)
}

func hiddenPaths(o AgentOptions, allowRead, extraHide []string) ([]string, error) {
	var hide []string
	for _, h := range o.Homes {
		for _, rel := range CredentialPaths {
			p := filepath.Join(h, rel)
			if !slices.Contains(allowRead, p) {
				hide = append(hide, p)
			}
		}
	}
	// Every store this user keeps where llms looks by default, not only
	// the one this launch uses: with $LLM_SECRETS_DIR naming a project's
	// store, the default one still holds keys.
	if !filepath.IsAbs(o.DataDir) {
		return nil, fmt.Errorf("sandbox: the store path %q is not absolute", o.DataDir)
	}
	hide = append(hide, o.DataDir)
	for _, h := range o.Homes {
		hide = append(hide, filepath.Join(h, DefaultStorePath))
	}
	for _, d := range o.OtherStores {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("agent sandbox: the store path %q is not absolute", d)
		}
		hide = append(hide, d)
	}
	for _, dir := range o.ConfigDirs {
		keys, err := configKeyFiles(dir)
		if err != nil {
			return nil, err
		}
		hide = append(hide, keys...)
	}
	return append(hide, extraHide...), nil
}

// absPaths makes flag paths absolute: "~/" is home.
func absPaths(home string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, p := range list {
		if strings.HasPrefix(p, "~/") {
			p = filepath.Join(home, p[2:])
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("agent sandbox: path %q must be absolute (or start with ~/)", p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out, nil
}

// configKeyFiles lists key material in the llms config directory — age
// identities, key files and saved tokens (an MCP client's mcp.token) —
// which the agent must not read even though the rest of that directory
// (policy, profiles) stays readable. A token the broker would refuse
// could still be used elsewhere, by whoever the agent sends it to.
func configKeyFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agent sandbox: listing %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".age") || strings.HasSuffix(n, ".key") || strings.HasSuffix(n, ".token") || strings.HasPrefix(n, "identity") || strings.HasPrefix(n, "session") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}

// Terminals lists the device files behind the given descriptors that are
// terminals (a /dev/pts/N, a virtual console, a serial line), so that the
// agent can reopen its own terminal by name.
func Terminals(fds ...int) []string {
	var out []string
	for _, fd := range fds {
		p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil || !strings.HasPrefix(p, "/dev/") {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeCharDevice != 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
