package sandbox

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// newTreeIn is newTree under base instead of the temp dir: a test of /tmp
// needs the home, the store and the working tree elsewhere.
func newTreeIn(t *testing.T, base string) tree {
	t.Helper()
	t.Setenv("TMPDIR", base)
	return newTree(t)
}

// agentOptionsFor are an agent launch's options over tr, with its own temp
// dir and socket directory in a launch directory under /var/tmp, as the
// launcher makes them.
func agentOptionsFor(t *testing.T, tr tree) AgentOptions {
	t.Helper()
	launch, err := os.MkdirTemp("/var/tmp", "llms-agent-test-")
	if err != nil {
		t.Skip("no /var/tmp:", err)
	}
	t.Cleanup(func() { os.RemoveAll(launch) })
	temp := filepath.Join(launch, "tmp")
	if err := os.Mkdir(temp, 0o700); err != nil {
		t.Fatal(err)
	}
	return AgentOptions{Homes: []string{tr.home}, DataDir: tr.store, Workdir: tr.work, TempDir: temp, SocketDir: launch, Agent: "claude-code"}
}

// The broker's socket directory in /tmp (no $XDG_RUNTIME_DIR) took /tmp's
// create rights: a directory beneath with fewer rights splits its parent.
// A socket directory keeps the rights of the tree it is in.
func TestSocketDirKeepsItsTreesRights(t *testing.T) {
	tr := newTreeIn(t, "/var/tmp")
	sock, err := os.MkdirTemp("/tmp", "llms-agent-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sock)
	o := agentOptionsFor(t, tr)
	o.SocketDir = sock
	s, err := AgentSpec(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, abi := range []int{1, 4, 6, 9} {
		r, err := BuildFor(s, abi)
		if err != nil {
			t.Fatal(err)
		}
		m := ruleMap(r)
		create := (readRights | createRights) & handledFS(abi)
		if m["/tmp"] != create {
			t.Errorf("ABI %d: /tmp %#x, want %#x (create, write; never remove, rename, link, socket)", abi, m["/tmp"], create)
		}
		if abi >= 9 && m[sock] != ll.AccessFSResolveUnix {
			t.Errorf("ABI %d: socket dir %#x, want resolve-unix on top of /tmp's", abi, m[sock])
		}
	}
}

// The shared temp dirs let the agent add, never take away or replace; its
// own temp dir is its own; the launcher's socket directory must not be
// writable.
func TestAgentSpecTempDirs(t *testing.T) {
	tr := newTreeIn(t, "/var/tmp")
	o := agentOptionsFor(t, tr)
	o.SharedTemp = []string{"/srv/tmp-of-the-user"}
	s, err := AgentSpec(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/tmp", "/var/tmp", "/srv/tmp-of-the-user"} {
		if !slices.Contains(s.Create, d) || slices.Contains(s.Write, d) {
			t.Errorf("%s: create %v, write %v", d, s.Create, s.Write)
		}
	}
	if s.PrivateTmp != o.TempDir || !strings.Contains(strings.Join(s.Write, ","), o.TempDir) {
		t.Errorf("own temp dir %s: private %q, write %v", o.TempDir, s.PrivateTmp, s.Write)
	}
	for name, mod := range map[string]func(*AgentOptions){
		"/tmp as its own":          func(o *AgentOptions) { o.TempDir = "/tmp" },
		"/var/tmp inside its own":  func(o *AgentOptions) { o.TempDir = "/var" },
		"socket dir in a writable": func(o *AgentOptions) { o.SocketDir = filepath.Join(tr.work, "sock") },
	} {
		o2 := o
		mod(&o2)
		if _, err := AgentSpec(o2); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// view plans the private /tmp: the paths the rules grant something on
// under /tmp are kept, and one that must not be writable there (a home, a
// tree with a hidden path in it) keeps the shared /tmp instead.
func TestViewPlan(t *testing.T) {
	tr := newTreeIn(t, "/var/tmp")
	o := agentOptionsFor(t, tr)
	work, err := os.MkdirTemp("/tmp", "llms-work-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	o.Workdir = work
	build := func() *Rules {
		t.Helper()
		s, err := AgentSpec(o)
		if err != nil {
			t.Fatal(err)
		}
		r, err := BuildFor(s, 7)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := build()
	if r.View == nil || r.View.Tmp != o.TempDir || len(r.View.Keep) != 1 || r.View.Keep[0] != work || r.View.NoTmp != "" {
		t.Errorf("view %+v, want %s over /tmp, %s kept", r.View, o.TempDir, work)
	}
	o.Hide = []string{filepath.Join(work, "secret.env")}
	if r = build(); r.View.Tmp != "" || !strings.Contains(r.View.NoTmp, "secret.env") {
		t.Errorf("a hidden path in a kept tree: view %+v", r.View)
	}
	o.Hide = nil
	tmpHome, err := os.MkdirTemp("/tmp", "llms-home-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmpHome)
	o.Homes = []string{tmpHome}
	if r = build(); r.View.Tmp != "" || !strings.Contains(r.View.NoTmp, tmpHome) {
		t.Errorf("a home under /tmp: view %+v", r.View)
	}
	enc, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Decode(enc); err != nil || back.View == nil || back.View.NoTmp != r.View.NoTmp {
		t.Errorf("decode: %+v, %v", back, err)
	}
}

// runView runs the probe confined by the agent's rules over tr, started as
// the launcher starts the agent; with cred, as that user (a user namespace
// then makes the private view); with noNS, as where the kernel refuses
// namespaces.
func runView(t *testing.T, bin string, r *Rules, cred *syscall.Credential, noNS bool, args ...string) (map[string]string, string) {
	t.Helper()
	enc, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(filepath.Dir(bin), "rules-*.json") // readable by any user
	if err != nil {
		t.Fatal(err)
	}
	file := f.Name()
	f.Close()
	must(t, os.Chmod(file, 0o644))
	if err := os.WriteFile(file, []byte(enc), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{viewLaunchEnv + "=" + file, "GORACE=atexit_sleep_ms=0"}
	if noNS {
		cmd.Env = append(cmd.Env, noNSEnv+"=1")
	}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe: %v; stderr: %s", err, errb.String())
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		res[k] = v
	}
	return res, errb.String()
}

// TestPrivateTmpAndTheFallback: /tmp is writable for the agent in every
// configuration, and nothing of the user's there can be replaced. With a
// mount namespace (as root; as an ordinary user, in a user namespace) its
// /tmp is its own temp dir, the user's entries out of sight, the hidden
// paths covered (stat shows nothing of them), /dev/shm its own. Without
// one (forced), /tmp lets it create and write, never remove, rename, link
// or bind; its own temp dir has every right.
func TestPrivateTmpAndTheFallback(t *testing.T) {
	requireLandlock(t)
	tr := newTreeIn(t, "/var/tmp")
	bin := self(t)
	o := agentOptionsFor(t, tr)
	user, err := os.MkdirTemp("/tmp", "llms-user-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(user)
	must(t, os.Chmod(user, 0o777))
	notes := filepath.Join(user, "notes")
	must(t, os.WriteFile(notes, []byte("the user's\n"), 0o666))
	must(t, os.Chmod(notes, 0o666))
	// The user's server, as tmux keeps one in /tmp/tmux-UID/default.
	l, err := net.Listen("unix", filepath.Join(user, "default"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	must(t, os.Chmod(filepath.Join(user, "default"), 0o777))

	type run struct {
		name string
		cred *syscall.Credential
		noNS bool
		abi  int
	}
	runs := []run{{"namespace", nil, false, ABI()}, {"fallback", nil, true, ABI()}}
	for _, abi := range []int{1, 4} { // no right may depend on a newer kernel
		runs = append(runs, run{fmt.Sprintf("namespace ABI %d", abi), nil, false, abi}, run{fmt.Sprintf("fallback ABI %d", abi), nil, true, abi})
	}
	if os.Getuid() == 0 {
		nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
		runs = append(runs, run{"user namespace", nobody, false, ABI()}, run{"user fallback", nobody, true, ABI()})
	}
	for _, rn := range runs {
		t.Run(rn.name, func(t *testing.T) {
			if rn.cred != nil {
				for _, p := range []string{filepath.Dir(o.TempDir), o.TempDir} {
					must(t, os.Chown(p, int(rn.cred.Uid), int(rn.cred.Gid)))
				}
				must(t, os.Chmod(tr.work, 0o777))
			}
			s, err := AgentSpec(o)
			if err != nil {
				t.Fatal(err)
			}
			r, err := BuildFor(s, rn.abi)
			if err != nil {
				t.Fatal(err)
			}
			own := filepath.Base(user) + "-" + strings.ReplaceAll(rn.name, " ", "-")
			t.Cleanup(func() {
				os.Remove(notes + ".link")
				for _, suffix := range []string{"", ".d", ".sock", ".link", ".hardlink"} {
					os.RemoveAll("/tmp/" + own + suffix)
				}
			})
			res, stderr := runView(t, bin, r, rn.cred, rn.noNS,
				"write", "/tmp/"+own,
				"append", "/tmp/"+own,
				"mkdir", "/tmp/"+own+".d",
				"remove", "/tmp/"+own,
				"remove", "/tmp/"+own+".d",
				"mksock", "/tmp/"+own+".sock",
				"symlink", "/tmp/"+own+".link",
				"read", notes,
				"append", notes,
				"remove", notes,
				"rename", notes+"|"+notes+".moved",
				"link", notes+"|"+notes+".link",
				"link", notes+"|/tmp/"+own+".hardlink",
				"remove", filepath.Join(user, "default"),
				"mksock", filepath.Join(user, "other.sock"),
				"write", filepath.Join(o.TempDir, own+"-f"),
				"rename", filepath.Join(o.TempDir, own+"-f")+"|"+filepath.Join(o.TempDir, own+"-g"),
				"remove", filepath.Join(o.TempDir, own+"-g"),
				"mksock", filepath.Join(o.TempDir, own+"-s.sock"),
				"write", filepath.Join(tr.work, "out-"+own),
				"remove", filepath.Join(tr.work, "out-"+own),
				"write", "/dev/shm/"+own,
				"remove", "/dev/shm/"+own,
				"size", tr.secret,
				"size", filepath.Join(tr.ssh, "id_ed25519"),
				"read", tr.secret,
			)
			shared := rn.noNS
			want := map[string]string{
				"write /tmp/" + own:                                 "ok",
				"append /tmp/" + own:                                "ok",
				"mkdir /tmp/" + own + ".d":                          "ok",
				"write " + filepath.Join(o.TempDir, own+"-f"):       "ok",
				"remove " + filepath.Join(o.TempDir, own+"-g"):      "ok",
				"mksock " + filepath.Join(o.TempDir, own+"-s.sock"): "ok",
				"write " + filepath.Join(tr.work, "out-"+own):       "ok",
				"remove " + filepath.Join(tr.work, "out-"+own):      "ok",
				"write /dev/shm/" + own:                             "ok",
				"remove /dev/shm/" + own:                            "ok",
				"read " + tr.secret:                                 "denied 13",
				"rename " + filepath.Join(o.TempDir, own+"-f") + "|" + filepath.Join(o.TempDir, own+"-g"): "ok",
			}
			if shared {
				// The user's entries can be read and written, never
				// removed, renamed or replaced; nothing the user's
				// programs connect to or follow can be planted.
				for k, v := range map[string]string{
					"remove /tmp/" + own: "denied 13", "remove /tmp/" + own + ".d": "denied 13",
					"mksock /tmp/" + own + ".sock": "denied 13", "symlink /tmp/" + own + ".link": "denied 13",
					"read " + notes: "ok", "append " + notes: "ok", "remove " + notes: "denied 13",
					"rename " + notes + "|" + notes + ".moved": "denied 13",
					// A second name in the same directory (no more than
					// making a file); none across directories.
					"link " + notes + "|" + notes + ".link":        "ok",
					"link " + notes + "|/tmp/" + own + ".hardlink": "denied 18",
					"remove " + filepath.Join(user, "default"):     "denied 13",
					"mksock " + filepath.Join(user, "other.sock"):  "denied 13",
				} {
					want[k] = v
				}
				if !strings.Contains(stderr, "no private /tmp for the agent") {
					t.Errorf("no note of the fallback: %q", stderr)
				}
			} else {
				// Its own /tmp: every right; the user's out of sight;
				// the hidden paths covered.
				for k, v := range map[string]string{
					"remove /tmp/" + own: "ok", "remove /tmp/" + own + ".d": "ok",
					"mksock /tmp/" + own + ".sock": "ok", "symlink /tmp/" + own + ".link": "ok",
					"read " + notes: "denied 2", "append " + notes: "denied 2", "remove " + notes: "denied 2",
					"rename " + notes + "|" + notes + ".moved":    "denied 2",
					"link " + notes + "|" + notes + ".link":       "denied 2",
					"remove " + filepath.Join(user, "default"):    "denied 2",
					"mksock " + filepath.Join(user, "other.sock"): "denied 2",
					"size " + tr.secret:                           "denied 13",
					"size " + filepath.Join(tr.ssh, "id_ed25519"): "denied 13",
				} {
					want[k] = v
				}
				if stderr != "" {
					t.Errorf("a note where the view was made: %q", stderr)
				}
			}
			for k, v := range want {
				t.Logf("%-90s %s", k, res[k])
				if res[k] != v {
					t.Errorf("%s: got %q, want %q", k, res[k], v)
				}
			}
			if shared && res["size "+tr.secret] != fmt.Sprint(len("AGE-SECRET-KEY-CANARY")) {
				t.Errorf("fallback: stat of a hidden file gives %q (documented: its size)", res["size "+tr.secret])
			}
			if b, err := os.ReadFile(notes); err != nil || (!shared && string(b) != "the user's\n") {
				t.Errorf("the user's file: %q, %v", b, err)
			}
			if c, err := net.Dial("unix", filepath.Join(user, "default")); err != nil {
				t.Errorf("the user's socket is gone: %v", err)
			} else {
				c.Close()
			}
			must(t, os.WriteFile(notes, []byte("the user's\n"), 0o666))
		})
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
