package sandbox

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// tree is a home-like directory for the tests: a hidden store and
// credential file beside readable files, a writable work dir.
type tree struct {
	root, home, store, secret, ssh, sibling, work, link string
}

func newTree(t *testing.T) tree {
	t.Helper()
	root, err := os.MkdirTemp("", "sandbox-tree")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	must(t, os.Chmod(root, 0o755))
	tr := tree{root: root, home: filepath.Join(root, "home")}
	tr.store = filepath.Join(tr.home, ".local", "share", "llm-secrets")
	tr.secret = filepath.Join(tr.store, "identity.txt")
	tr.ssh = filepath.Join(tr.home, ".ssh")
	tr.sibling = filepath.Join(tr.home, ".bashrc")
	tr.work = filepath.Join(tr.home, "src", "proj")
	tr.link = filepath.Join(tr.work, "store-link")
	for _, d := range []string{tr.store, tr.ssh, tr.work, filepath.Join(tr.home, ".local", "share", "other")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{tr.secret, filepath.Join(tr.ssh, "id_ed25519"), tr.sibling, filepath.Join(tr.home, ".local", "share", "other", "f")} {
		if err := os.WriteFile(f, []byte("AGE-SECRET-KEY-CANARY"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(tr.store, tr.link); err != nil {
		t.Fatal(err)
	}
	return tr
}

func (tr tree) spec() Spec {
	return Spec{
		Read:    []string{"/"},
		Write:   []string{tr.work},
		Devices: []string{"/dev/null", "/dev/pts", "/dev/ptmx", "/dev/tty"},
		Deny:    []string{"/dev"},
		Hide:    []string{tr.store, tr.ssh, filepath.Join(tr.home, ".aws")},
	}
}

func ruleMap(r *Rules) map[string]uint64 {
	m := map[string]uint64{}
	for _, rule := range r.Rules {
		m[rule.Path] = rule.Access
	}
	return m
}

func TestBuildSpreadsRightsAroundHiddenPaths(t *testing.T) {
	tr := newTree(t)
	r, err := BuildFor(tr.spec(), 7)
	if err != nil {
		t.Fatal(err)
	}
	m := ruleMap(r)
	read := (readRights) & handledFS(7)
	// No rule on any ancestor of a hidden path: it would reach beneath.
	for _, anc := range []string{"/", tr.root, tr.home, filepath.Join(tr.home, ".local"), filepath.Join(tr.home, ".local", "share")} {
		if a, ok := m[anc]; ok {
			t.Errorf("rule on %s (%#x) would reach the hidden paths beneath it", anc, a)
		}
	}
	for _, hidden := range []string{tr.store, tr.secret, tr.ssh} {
		for p := range m {
			if within(hidden, p) {
				t.Errorf("rule on %s reaches hidden %s", p, hidden)
			}
		}
	}
	if m[tr.sibling] != read {
		t.Errorf("sibling %s: got %#x, want read %#x", tr.sibling, m[tr.sibling], read)
	}
	if m[filepath.Join(tr.home, ".local", "share", "other")] != read {
		t.Errorf("the store's sibling is not readable: %#x", m[filepath.Join(tr.home, ".local", "share", "other")])
	}
	if _, ok := m["/usr"]; !ok {
		t.Errorf("/usr has no rule")
	}
	if _, ok := m["/dev"]; ok {
		t.Errorf("/dev has a rule; it must be closed but for the listed devices")
	}
	if m["/dev/null"] == 0 || m["/dev/pts"]&ll.AccessFSIoctlDev == 0 {
		t.Errorf("devices: /dev/null %#x, /dev/pts %#x", m["/dev/null"], m["/dev/pts"])
	}
	if _, ok := m[tr.link]; ok {
		t.Errorf("a symbolic link got a rule")
	}
	if m[tr.work]&writeRights == 0 {
		t.Errorf("work dir not writable: %#x", m[tr.work])
	}
	if want := []string{tr.store, tr.ssh}; strings.Join(r.Hidden, ",") != strings.Join(want, ",") {
		t.Errorf("Hidden = %v, want %v (a missing path is not listed)", r.Hidden, want)
	}
}

func TestBuildHideWinsAndMissingHiddenPathSplitsItsParent(t *testing.T) {
	tr := newTree(t)
	s := tr.spec()
	// A write entry inside a hidden one stays hidden.
	s.Write = append(s.Write, filepath.Join(tr.store, "secrets"))
	// ~/.aws does not exist: ~ is still split, so a later ~/.aws falls
	// under no rule.
	r, err := BuildFor(s, 7)
	if err != nil {
		t.Fatal(err)
	}
	m := ruleMap(r)
	for p := range m {
		if within(p, tr.store) {
			t.Errorf("rule %s inside the hidden store", p)
		}
		if p == tr.home {
			t.Errorf("rule on the home directory")
		}
	}
}

func TestBuildRefusesWithoutLandlock(t *testing.T) {
	tr := newTree(t)
	if _, err := BuildFor(tr.spec(), 0); err != ErrNoLandlock {
		t.Fatalf("ABI 0: got %v, want ErrNoLandlock", err)
	}
	SetABIForTest(0)
	defer SetABIForTest(-1)
	if _, err := Build(tr.spec()); err != ErrNoLandlock {
		t.Fatalf("forced ABI 0: got %v", err)
	}
	r := &Rules{FormatVersion: formatVersion, ABI: 1}
	if err := Restrict(r); err != ErrNoLandlock {
		t.Fatalf("Restrict with forced ABI 0: got %v", err)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	good, err := (&Rules{FormatVersion: formatVersion, ABI: 7, Rules: []Rule{{"/usr", readRights}}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(good); err != nil {
		t.Fatalf("good rules refused: %v", err)
	}
	for name, s := range map[string]string{
		"unknown field":  `{"format":2,"abi":7,"rules":[],"extra":1}`,
		"format":         `{"format":1,"abi":7,"rules":[]}`,
		"abi 0":          `{"format":2,"abi":0,"rules":[]}`,
		"abi too new":    `{"format":2,"abi":99,"rules":[]}`,
		"relative":       `{"format":2,"abi":7,"rules":[{"path":"usr","access":1}]}`,
		"unclean":        `{"format":2,"abi":7,"rules":[{"path":"/usr/../root","access":1}]}`,
		"no access":      `{"format":2,"abi":7,"rules":[{"path":"/usr","access":0}]}`,
		"unknown access": `{"format":2,"abi":1,"rules":[{"path":"/usr","access":16384}]}`,
		"trailing":       good + `{}`,
		"not json":       `rules`,
	} {
		if _, err := Decode(s); err == nil {
			t.Errorf("%s: accepted %s", name, s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"format":2,"abi":7,"rules":[{"path":"/usr","access":7}]}`)
	f.Add(`{"format":2,"abi":7,"rules":[],"hidden":["/x"]}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Decode(s)
		if err != nil {
			return
		}
		// Whatever is accepted round-trips and stays valid.
		enc, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// TestConfinedProcess runs a real program in the sandbox and checks each
// promise of the rule set on this kernel.
func TestConfinedProcess(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	bin := self(t) // before Build: what appears later beside a hidden path is closed
	r, err := Build(tr.spec())
	if err != nil {
		t.Fatal(err)
	}
	later := filepath.Join(tr.home, ".created-after-launch")
	if err := os.WriteFile(later, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := proc{rules: r}.probeRun(t, bin,
		"read", tr.secret,
		"read", filepath.Join(tr.ssh, "id_ed25519"),
		"read", filepath.Join(tr.link, "identity.txt"),
		"list", tr.store,
		"list", tr.home,
		"read", tr.sibling,
		"append", tr.sibling,
		"read", later,
		"write", filepath.Join(tr.work, "out.txt"),
		"write", filepath.Join(tr.store, "planted"),
		"write", filepath.Join(tr.home, "planted"),
		"read", "/etc/hostname",
		"write", "/dev/null",
		"open", rawDevice(t),
		"status", "CapEff", "status", "CapPrm", "status", "CapInh", "status", "CapAmb", "status", "CapBnd",
		"status", "NoNewPrivs",
	)
	want := map[string]string{
		"read " + tr.secret:                              "denied 13",
		"read " + filepath.Join(tr.ssh, "id_ed25519"):    "denied 13",
		"read " + filepath.Join(tr.link, "identity.txt"): "denied 13",
		"list " + tr.store:                               "denied 13",
		"list " + tr.home:                                "denied 13",
		"read " + tr.sibling:                             "ok",
		"append " + tr.sibling:                           "denied 13",
		"read " + later:                                  "denied 13",
		"write " + filepath.Join(tr.work, "out.txt"):     "ok",
		"write " + filepath.Join(tr.store, "planted"):    "denied 13",
		"write " + filepath.Join(tr.home, "planted"):     "denied 13",
		"read /etc/hostname":                             "ok",
		"write /dev/null":                                "ok",
		"open " + rawDevice(t):                           "denied 13",
		"status CapEff":                                  "0000000000000000",
		"status CapPrm":                                  "0000000000000000",
		"status CapInh":                                  "0000000000000000",
		"status CapAmb":                                  "0000000000000000",
		"status NoNewPrivs":                              "1",
	}
	if os.Getuid() == 0 {
		want["status CapBnd"] = "0000000000000000"
	}
	for k, v := range want {
		t.Logf("%-70s %s", k, res[k])
		if res[k] != v {
			t.Errorf("%s: got %q, want %q", k, res[k], v)
		}
	}
}

// procFiles are the /proc files PTRACE_MODE_READ guards (environ, maps,
// auxv) and the one PTRACE_MODE_ATTACH guards (mem).
var procFiles = []string{"environ", "maps", "auxv", "mem"}

func inspect(pid int) []string {
	var args []string
	for _, f := range procFiles {
		args = append(args, "read", "/proc/"+strconv.Itoa(pid)+"/"+f)
	}
	return append(args, "ptrace", strconv.Itoa(pid), "kill0", strconv.Itoa(pid))
}

// TestSiblingDomainsCannotInspectEachOther: a confined process cannot read
// /proc/PID/{environ,maps,auxv,mem} of, ptrace, or signal a process in
// another domain started beside it (a child the broker starts), nor one
// outside any domain (the broker) — as root with the bounding set emptied,
// and as an ordinary user. It also shows why capabilities must go: a
// confined root that keeps CAP_SYS_PTRACE can still read a sibling's
// environ, maps and auxv on this kernel.
func TestSiblingDomainsCannotInspectEachOther(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	bin := self(t) // before Build: what appears later beside a hidden path is closed
	r, err := Build(tr.spec())
	if err != nil {
		t.Fatal(err)
	}
	canary := "CANARY_" + strconv.FormatInt(int64(os.Getpid()), 36) + "_sibling"
	env := []string{"SECRET_VALUE=" + canary}

	check := func(t *testing.T, prober proc, pid int, wantDenied bool) {
		t.Helper()
		res := prober.probeRun(t, bin, inspect(pid)...)
		for _, k := range sortedKeys(res) {
			v := res[k]
			t.Logf("%-40s %s", k, v)
			if strings.Contains(v, canary) {
				t.Fatalf("probe output holds the canary")
			}
			denied := strings.HasPrefix(v, "denied")
			if wantDenied && !denied {
				t.Errorf("%s: %s, want denied", k, v)
			}
		}
	}

	t.Run("root-bounding-set-emptied", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("needs root")
		}
		sibling := proc{rules: r, env: env}.sleeper(t, bin)
		outside := proc{env: env}.sleeper(t, bin)
		check(t, proc{rules: r}, sibling, true)
		check(t, proc{rules: r}, outside, true)
	})
	t.Run("root-keeping-capabilities", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("needs root")
		}
		// What the cap drop is for: without it, PTRACE_MODE_READ files of
		// a sibling domain open. mem (PTRACE_MODE_ATTACH) stays closed.
		sibling := proc{rules: r, env: env}.sleeper(t, bin)
		res := proc{rules: r, keepCaps: true}.probeRun(t, bin, inspect(sibling)...)
		environ := "read /proc/" + strconv.Itoa(sibling) + "/environ"
		mem := "read /proc/" + strconv.Itoa(sibling) + "/mem"
		t.Logf("%s: %s; %s: %s", environ, res[environ], mem, res[mem])
		if res[environ] != "ok" {
			t.Logf("this kernel refuses it even with CAP_SYS_PTRACE; the capability drop is then belt and braces")
		}
		if !strings.HasPrefix(res[mem], "denied") {
			t.Errorf("%s: %s, want denied", mem, res[mem])
		}
	})
	t.Run("unprivileged-user", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("needs root to switch to nobody")
		}
		nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
		sibling := proc{rules: r, env: env, cred: nobody}.sleeper(t, bin)
		outside := proc{env: env, cred: nobody}.sleeper(t, bin)
		check(t, proc{rules: r, cred: nobody}, sibling, true)
		check(t, proc{rules: r, cred: nobody}, outside, true)
		// Without Landlock the same user reads it: the sandbox is what
		// stops it.
		res := proc{cred: nobody}.probeRun(t, bin, "read", "/proc/"+strconv.Itoa(outside)+"/environ")
		if k := "read /proc/" + strconv.Itoa(outside) + "/environ"; res[k] != "ok" {
			t.Errorf("unconfined same-user read: %s, want ok (the control case)", res[k])
		}
	})
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// rawDevice is a block device (a disk a root agent owns by uid alone).
func rawDevice(t *testing.T) string {
	entries, err := os.ReadDir("/dev")
	must(t, err)
	for _, e := range entries {
		if e.Type()&os.ModeDevice != 0 && e.Type()&os.ModeCharDevice == 0 {
			return "/dev/" + e.Name()
		}
	}
	return "/dev/kmsg"
}

func TestExecFailures(t *testing.T) {
	requireLandlock(t)
	bin := self(t)
	r, err := BuildFor(Spec{Read: []string{"/"}}, ABI())
	if err != nil {
		t.Fatal(err)
	}
	bad, err := rulesFile(`{"format":9}`)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	w, err := Wrap(r, bin, bin, "/nonexistent/prog", []string{"prog", "SECRET_ARG"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rules.Close()
	for _, c := range []struct {
		name  string
		args  []string
		rules *os.File
		code  int
		msg   string
	}{
		{"missing program", w.Args[1:], w.Rules, 127, "/nonexistent/prog"},
		{"bad rules", []string{ExecArg, "--rules-fd=3", "/bin/true", "true"}, bad, 126, "format 9"},
		{"no rules descriptor", []string{ExecArg, "--rules-fd=3", "/bin/true", "true"}, nil, 126, "reading the sandbox rules"},
		{"rules on the command line", []string{ExecArg, `{"format":1}`, "/bin/true", "true"}, nil, 126, "expected --rules-fd=3"},
		{"too few", []string{ExecArg, "--rules-fd=3"}, nil, 126, "expected --rules-fd=3"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = []string{"GORACE=atexit_sleep_ms=0"}
		if c.rules != nil {
			c.rules.Seek(0, 0)
			cmd.ExtraFiles = []*os.File{c.rules}
		}
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != c.code || !strings.Contains(string(out), c.msg) || strings.Contains(string(out), "SECRET_ARG") {
			t.Errorf("%s: exit %d, output %q; want exit %d naming %q and no argument", c.name, cmd.ProcessState.ExitCode(), out, c.code, c.msg)
		}
	}
	if _, err := Wrap(r, bin, bin, "relative", nil); err == nil {
		t.Errorf("Wrap accepted a relative program path")
	}
}

// TestNoTypingIntoTheTerminal: a confined process cannot make its terminal
// type (TIOCSTI), which would run commands in the user's shell once the
// agent exits. Landlock cannot refuse it on an inherited terminal; the
// seccomp filter does. Without the filter, this kernel allows it when
// dev.tty.legacy_tiocsti is 1.
func TestNoTypingIntoTheTerminal(t *testing.T) {
	requireLandlock(t)
	bin := self(t)
	r, err := Build(newTree(t).spec())
	if err != nil {
		t.Fatal(err)
	}
	res := proc{rules: r}.probeRun(t, bin, "tiocsti", "-")
	t.Logf("confined: tiocsti %s", res["tiocsti -"])
	if res["tiocsti -"] != "denied 1" {
		t.Errorf("confined process typed into its terminal: %s", res["tiocsti -"])
	}
	res = proc{rules: r, allowTIOCST: true}.probeRun(t, bin, "tiocsti", "-")
	legacy, _ := os.ReadFile("/proc/sys/dev/tty/legacy_tiocsti") // kernels before 6.2 have none
	t.Logf("without the filter (legacy_tiocsti=%s): tiocsti %s", strings.TrimSpace(string(legacy)), res["tiocsti -"])
	if strings.TrimSpace(string(legacy)) == "1" && res["tiocsti -"] != "ok" {
		t.Errorf("the control case failed: %s (the probe itself is broken)", res["tiocsti -"])
	}
}

// From ABI 9, Unix sockets by path are reachable only in Sockets: not the
// user's other sockets (systemd, D-Bus, ssh-agent, docker).
func TestBuildSocketsOnlyWhereAllowed(t *testing.T) {
	tr := newTree(t)
	s := tr.spec()
	sock := filepath.Join(tr.root, "sock")
	must(t, os.Mkdir(sock, 0o700))
	s.Sockets = []string{sock}
	s.Write = append(s.Write, tr.root) // the socket dir inside a writable tree
	for _, abi := range []int{7, 9} {
		r, err := BuildFor(s, abi)
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range r.Rules {
			has := rule.Access&ll.AccessFSResolveUnix != 0
			if has != (abi >= 9 && rule.Path == sock) {
				t.Errorf("ABI %d: %s resolve-unix %v", abi, rule.Path, has)
			}
		}
		if a := ruleMap(r)[sock]; a == 0 || (abi >= 9 && a&ll.AccessFSResolveUnix == 0) {
			t.Errorf("ABI %d: socket dir %#x", abi, a)
		}
	}
}

// A program started through Exec dies with the process that started the
// launcher, even when the exec happens on a thread other than the one the
// parent-death signal was set on (the kernel does not copy it to threads).
func TestExecKeepsTheParentDeathSignal(t *testing.T) {
	requireLandlock(t)
	launcher := exec.Command(self(t))
	launcher.Env = []string{launchEnv + "=1", "GORACE=atexit_sleep_ms=0"}
	out, err := launcher.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	defer launcher.Wait()
	var child int
	if _, err := fmt.Fscan(out, &child); err != nil {
		launcher.Process.Kill()
		t.Fatalf("reading the child's pid: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child)) // polled until the child has exec'd
		if string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			launcher.Process.Kill()
			unix.Kill(child, unix.SIGKILL)
			t.Fatalf("the child never became sleep (comm %q)", comm)
		}
	}
	launcher.Process.Kill()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	unix.Kill(child, unix.SIGKILL)
	t.Fatal("the program exec'd off the first thread outlived its launcher")
}
