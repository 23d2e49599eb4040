package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Spec says what the sandboxed program may touch, in paths. Build turns it
// into Rules. Paths must be absolute; symbolic links in them are resolved
// (Landlock judges the file a path reaches, not the path's spelling). A
// path in Hide is unreadable and unwritable even inside a Read or Write
// path; Hide wins over everything.
type Spec struct {
	// Data trees: read files and list directories, execute nothing (the
	// git llms runs reads everything and may run only itself).
	Data []string
	// Read trees: read files, list directories, execute. Normally "/".
	Read []string
	// Write trees: read and change anything beneath (working tree, temp
	// dir, the agent's own state).
	Write []string
	// Create trees: read, create files and directories and write them —
	// never remove or rename an entry, nor make a socket, FIFO, symbolic
	// link or device (a hard link only within one directory, under a new
	// name). The shared temp dirs: nothing of the user's there can be
	// replaced by something of the agent's, nor can a socket be planted
	// where the user's programs would connect.
	Create []string
	// Devices: device nodes and their directories (/dev/pts) that may be
	// read, written and ioctl'd (terminals need ioctl).
	Devices []string
	// Deny trees: nothing beneath is allowed except what a more specific
	// entry grants (e.g. /dev, so that raw disks stay closed while
	// /dev/null and the terminals are open).
	Deny []string
	// Sockets: directories whose Unix sockets may be connected to (from
	// Landlock ABI 9; below it every socket the user can reach is
	// reachable); otherwise they keep the rights of the tree they are in,
	// and at least read.
	Sockets []string
	// Hide trees: no access at all, whatever else says.
	Hide []string
	// PrivateTmp, when set, is a directory in Write to mount over /tmp
	// (and a fresh /dev/shm, and empty placeholders over the hidden paths)
	// where a mount namespace can be made: see View.
	PrivateTmp string
	// Visible are paths that must stay in sight in that view, whatever
	// their rules (the program to run).
	Visible []string
	// Supervised: the program started with these rules (Wrap, Main) is an
	// agent whose connect, terminal opens and (below ABI 6) signals the
	// launcher's Supervisor mediates. The broker's children, confined with
	// the same rules, have their connects mediated (Supervisor.Confine),
	// nothing else.
	Supervised bool
	// Net, when set, restricts the network (agent mode without
	// --allow-net); nil leaves it as it is (the git llms runs, a launch
	// with --allow-net).
	Net *NetRules
}

// NetRules restrict the network. The seccomp filters of the agent and of
// the broker's children keep every process to TCP internet sockets and
// refuse TCP Fast Open (seccomp.go); every connect of the agent and of
// the broker's children is the supervisor's, which decides it by address
// (Supervisor.SetEgress). From Landlock ABI 4 a TCP connect made inside
// the sandbox — none is: the supervisor's are made outside every domain —
// would reach only the ports in TCPPorts (the credential proxy's), on any
// address: a second layer, since Landlock's rule names a port, never a
// host.
type NetRules struct {
	TCPPorts []uint16 `json:"tcp_ports,omitempty"`
}

// Rule is one Landlock "path beneath" rule: Access (Landlock filesystem
// rights) on Path and everything below it.
type Rule struct {
	Path   string `json:"path"`
	Access uint64 `json:"access"`
}

// Rules is a compiled rule set: everything a process needs to confine
// itself, and small enough to pass on a command line. FormatVersion
// changes whenever the meaning of a field does.
type Rules struct {
	FormatVersion int `json:"format"`
	// ABI is the Landlock ABI the rules were built for. Restrict refuses
	// to apply them on a kernel that offers less.
	ABI   int    `json:"abi"`
	Rules []Rule `json:"rules"`
	// Hidden lists the hidden paths that existed when the rules were
	// built; Main covers them in a mount namespace (View), Restrict does
	// not read it.
	Hidden []string `json:"hidden,omitempty"`
	// View, when set, is the private view of the filesystem Main makes
	// before it confines itself, where the kernel lets it.
	View *View `json:"view,omitempty"`
	// Supervised: the program is an agent whose calls the launcher
	// mediates (Spec.Supervised).
	Supervised bool `json:"supervised,omitempty"`
	// Net: the network is restricted (Spec.Net).
	Net *NetRules `json:"net,omitempty"`
}

// View is what Main mounts, in a mount namespace of its own, before the
// rules are applied (see enterView): an empty read-only placeholder over
// each hidden path (stat then tells nothing of what is beneath), a fresh
// /dev/shm and, when Tmp is set, Tmp over /tmp with the paths in Keep
// mounted back where they were. The rules hold in this view too: they
// are applied after the mounts, and name /tmp's new inode (Tmp, writable)
// by its own path.
type View struct {
	// Tmp is the directory that becomes /tmp; "" keeps the shared /tmp.
	Tmp string `json:"tmp,omitempty"`
	// Keep are the paths under /tmp the rules grant something on: they
	// stay visible in the private /tmp, at the same place.
	Keep []string `json:"keep,omitempty"`
	// NoTmp says why Tmp is "" despite Spec.PrivateTmp.
	NoTmp string `json:"no_tmp,omitempty"`
}

const formatVersion = 2

// maxRules bounds a rule set. Real ones have a few hundred rules (the
// entries of / and of the home directory); a directory with more entries
// beside a hidden path is refused rather than turned into a huge
// command line.
const maxRules = 4096

// ErrNoLandlock is returned when the kernel has no Landlock.
var ErrNoLandlock = errors.New("the kernel offers no Landlock LSM (Linux 5.13 or later with landlock in the lsm= list), which agent mode needs to keep the agent away from the keys")

// Build compiles spec for the kernel's ABI. It refuses when the kernel has
// no Landlock.
func Build(spec Spec) (*Rules, error) {
	return BuildFor(spec, ABI())
}

// BuildFor compiles spec for Landlock ABI abi.
//
// Landlock only allows: a rule grants rights on a directory and on
// everything beneath it, and a process may use a file when a rule on the
// file or on any of its ancestors grants it. "Everything but these paths"
// is therefore built by granting, along each path from / to a hidden (or
// denied, or less-privileged) entry, the rights of the enclosing entry to
// every sibling instead of to the common ancestor. The directories on
// such a path get only the rights every entry beneath them shares, so
// they cannot be listed (listing the home directory would list the
// hidden names in it too).
//
// What this cannot cover: entries created after Build beside a hidden
// path (a new file in the home directory, say) fall under no rule and are
// denied everything until the next launch; a hidden path reachable
// through another mount (a bind mount) or an existing hard link elsewhere
// is reached through that path's rules.
func BuildFor(spec Spec, abi int) (*Rules, error) {
	if abi <= 0 {
		return nil, ErrNoLandlock
	}
	handled := handledFS(abi)
	data := (ll.AccessFSReadFile | ll.AccessFSReadDir) & handled
	read := readRights & handled
	write := (readRights | writeRights) & handled
	create := (readRights | createRights) & handled
	// From ABI 9, connecting to a Unix socket by path is a right of its
	// own: granted only where Sockets says (the broker's), so that the
	// user's systemd, D-Bus, ssh-agent, gpg-agent or docker sockets, which
	// could run a program outside the sandbox, are out of reach.
	socket := (readRights | ll.AccessFSResolveUnix) & handled
	device := (ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev | ll.AccessFSReadDir) & handled

	c := compiler{entries: map[string]uint64{}}
	var hidden []string
	add := func(paths []string, access uint64, keep bool) error {
		for _, p := range paths {
			rp, err := resolve(p)
			if err != nil {
				return err
			}
			if keep {
				// A socket directory keeps the rights of the tree it is in:
				// fewer would take the create rights off that tree (a
				// socket directory in /tmp made /tmp unwritable).
				access |= c.want(rp)
			}
			c.entries[rp] = access
		}
		return nil
	}
	// Later groups override earlier ones for the same path; Hide is last.
	for _, g := range []struct {
		paths  []string
		access uint64
		keep   bool
	}{{spec.Data, data, false}, {spec.Read, read, false}, {spec.Deny, 0, false}, {spec.Devices, device, false},
		{spec.Create, create, false}, {spec.Write, write, false}, {spec.Sockets, socket, true}, {spec.Hide, 0, false}} {
		if err := add(g.paths, g.access, g.keep); err != nil {
			return nil, err
		}
	}
	// A write or device entry beneath a hidden one stays hidden: the most
	// specific entry would otherwise win.
	resolvedHide := make([]string, 0, len(spec.Hide))
	for _, h := range spec.Hide {
		rh, _ := resolve(h) // resolved above without error
		resolvedHide = append(resolvedHide, rh)
		if _, err := os.Lstat(rh); err == nil {
			hidden = append(hidden, rh)
		}
	}
	for p := range c.entries {
		for _, rh := range resolvedHide {
			if within(p, rh) {
				c.entries[p] = 0
			}
		}
	}
	if _, ok := c.entries["/"]; !ok {
		c.entries["/"] = 0
	}
	if err := c.compile("/", 0); err != nil {
		return nil, err
	}
	slices.Sort(hidden)
	r := &Rules{FormatVersion: formatVersion, ABI: abi, Rules: c.rules, Hidden: slices.Compact(hidden), Supervised: spec.Supervised, Net: spec.Net}
	if spec.PrivateTmp != "" {
		var visible []string // what the rules grant something on, by path
		for _, g := range [][]string{spec.Read, spec.Write, spec.Devices, spec.Sockets, spec.Visible} {
			for _, p := range g {
				rp, _ := resolve(p) // resolved above without error
				visible = append(visible, rp)
			}
		}
		v, err := c.view(spec.PrivateTmp, visible, write)
		if err != nil {
			return nil, err
		}
		r.View = v
	}
	return r, nil
}

// view plans the private view: tmp over /tmp, with the visible paths
// under /tmp kept — unless one must stay visible with fewer rights than
// tmp's (a home, a directory given to read, the broker's socket
// directory): beneath a writable /tmp it would be writable too, as
// Landlock adds up the rights along a path. What else lies under /tmp
// (the user's files, a shared temp dir, a hidden path) is out of sight.
func (c *compiler) view(tmp string, visible []string, write uint64) (*View, error) {
	rt, err := resolve(tmp)
	if err != nil {
		return nil, err
	}
	if c.entries[rt] != write {
		return nil, fmt.Errorf("sandbox: the private /tmp %s is not writable", tmp)
	}
	v := &View{Tmp: rt}
	if within(rt, "/tmp") {
		v.Tmp, v.NoTmp = "", "its own temp dir "+rt+" is itself under /tmp"
		return v, nil
	}
	slices.Sort(visible)
	for _, p := range slices.Compact(visible) {
		if p == "/tmp" || !within(p, "/tmp") || c.want(p) == 0 || slices.ContainsFunc(v.Keep, func(k string) bool { return within(p, k) }) {
			continue
		}
		// It and everything beneath must be writable: a home, or a hidden
		// path inside a kept tree, would get the private /tmp's rights.
		culprit := ""
		if c.want(p)&write != write {
			culprit = p
		}
		for e, a := range c.entries {
			if culprit == "" && within(e, p) && a&write != write {
				culprit = e
			}
		}
		if culprit != "" {
			v.Tmp, v.Keep, v.NoTmp = "", nil, culprit+", which the agent may not write, lies under /tmp"
			return v, nil
		}
		v.Keep = append(v.Keep, p)
	}
	return v, nil
}

// resolve makes p absolute and clean and resolves symbolic links in its
// longest existing prefix; the missing rest is appended as written, so a
// hidden path that does not exist yet still protects its place.
func resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("sandbox path %q is not absolute", p)
	}
	p = filepath.Clean(p)
	rest := ""
	for cur := p; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("sandbox path %s: %w", p, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p is dir or beneath it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

type compiler struct {
	entries map[string]uint64
	rules   []Rule
}

// want is the access the most specific entry at or above p gives.
func (c *compiler) want(p string) uint64 {
	for cur := p; ; cur = filepath.Dir(cur) {
		if a, ok := c.entries[cur]; ok {
			return a
		}
		if cur == "/" {
			return 0
		}
	}
}

// below lists the entries strictly beneath p.
func (c *compiler) below(p string) []string {
	var out []string
	for e := range c.entries {
		if e != p && within(e, p) {
			out = append(out, e)
		}
	}
	return out
}

func (c *compiler) add(p string, access uint64) error {
	if access == 0 {
		return nil
	}
	if len(c.rules) >= maxRules {
		return fmt.Errorf("the sandbox would need more than %d rules (a directory beside a hidden path has too many entries)", maxRules)
	}
	c.rules = append(c.rules, Rule{Path: p, Access: access})
	return nil
}

// compile emits rules for the tree at p, given the rights granted is
// already inherited from rules on p's ancestors.
func (c *compiler) compile(p string, granted uint64) error {
	want := c.want(p)
	sub := c.below(p)
	if len(sub) == 0 {
		return c.add(p, want&^granted)
	}
	// The rights that every entry beneath p shares can go on p itself.
	safe := want
	for _, e := range sub {
		safe &= c.entries[e]
	}
	if err := c.add(p, safe&^granted); err != nil {
		return err
	}
	granted |= safe
	rest := want &^ granted
	// The children of p to visit: the ones leading to an entry (even if
	// p cannot be listed), and, when p's own rights must be spread over
	// its children, all of them.
	next := map[string]bool{}
	for _, e := range sub {
		rel := strings.TrimPrefix(strings.TrimPrefix(e, p), "/")
		next[filepath.Join(p, strings.SplitN(rel, "/", 2)[0])] = true
	}
	var spread []string
	if rest != 0 {
		names, err := readDirNames(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("sandbox: listing %s: %w", p, err)
		}
		for _, n := range names {
			if child := filepath.Join(p, n); !next[child] {
				spread = append(spread, child)
			}
		}
	}
	var toward []string
	for child := range next {
		toward = append(toward, child)
	}
	slices.Sort(toward)
	for _, child := range toward {
		if _, err := os.Lstat(child); err != nil {
			continue // nothing there to grant or protect
		}
		if err := c.compile(child, granted); err != nil {
			return err
		}
	}
	for _, child := range spread {
		fi, err := os.Lstat(child)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			// A symbolic link needs no rule: what it points to is judged
			// by the rules of its target.
			continue
		}
		if err := c.add(child, rest); err != nil {
			return err
		}
	}
	return nil
}

func readDirNames(p string) ([]string, error) {
	d, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

// Encode is the command-line form of r.
func (r *Rules) Encode() (string, error) {
	b, err := json.Marshal(r)
	return string(b), err
}

// maxEncoded bounds the command-line form Decode accepts.
const maxEncoded = 1 << 20

// Decode parses Encode's output strictly: known fields only, the current
// format version, absolute clean paths, rights Landlock defines.
func Decode(s string) (*Rules, error) {
	if len(s) > maxEncoded {
		return nil, errors.New("sandbox rules: too long")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("sandbox rules: %w", err)
	}
	if dec.More() {
		return nil, errors.New("sandbox rules: trailing data")
	}
	if r.FormatVersion != formatVersion {
		return nil, fmt.Errorf("sandbox rules: format %d, this llms reads %d", r.FormatVersion, formatVersion)
	}
	if r.ABI < 1 || r.ABI > MaxKnownABI {
		return nil, fmt.Errorf("sandbox rules: ABI %d out of range", r.ABI)
	}
	if len(r.Rules) > maxRules {
		return nil, errors.New("sandbox rules: too many rules")
	}
	if v := r.View; v != nil {
		for _, p := range append(append([]string{v.Tmp}, v.Keep...), r.Hidden...) {
			if p != "" && !cleanAbs(p) {
				return nil, fmt.Errorf("sandbox rules: path %q is not absolute and clean", p)
			}
		}
		for _, k := range v.Keep {
			if v.Tmp == "" || k == "/tmp" || !within(k, "/tmp") {
				return nil, fmt.Errorf("sandbox rules: %q is not a path to keep under a private /tmp", k)
			}
		}
	}
	for _, rule := range r.Rules {
		if !cleanAbs(rule.Path) {
			return nil, fmt.Errorf("sandbox rules: path %q is not absolute and clean", rule.Path)
		}
		if rule.Access == 0 || rule.Access&^handledFS(r.ABI) != 0 {
			return nil, fmt.Errorf("sandbox rules: access %#x for %s is not valid at ABI %d", rule.Access, rule.Path, r.ABI)
		}
	}
	return &r, nil
}

func cleanAbs(p string) bool {
	return filepath.IsAbs(p) && filepath.Clean(p) == p && !strings.ContainsRune(p, 0)
}
