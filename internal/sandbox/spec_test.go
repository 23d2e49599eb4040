package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAgentSpec(t *testing.T) {
	tr := newTree(t)
	cfg := filepath.Join(tr.home, ".config", "llm-secrets")
	must(t, os.MkdirAll(cfg, 0o700))
	for _, f := range []string{"policy.yaml", "identity.txt", "root.key", "x.age"} {
		must(t, os.WriteFile(filepath.Join(cfg, f), nil, 0o600))
	}
	must(t, os.Mkdir(filepath.Join(tr.home, "notes"), 0o700)) // --allow-write names what exists
	o := AgentOptions{Homes: []string{tr.home}, DataDir: tr.store, ConfigDirs: []string{cfg}, Workdir: tr.work, TempDir: filepath.Join(tr.root, "launch", "tmp"), Agent: "claude-code",
		AllowRead: []string{"~/.npmrc"}, AllowWrite: []string{"~/notes"}, Hide: []string{"~/private"}}
	s, err := AgentSpec(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{tr.store, tr.ssh, filepath.Join(tr.home, ".aws"), filepath.Join(cfg, "identity.txt"), filepath.Join(cfg, "root.key"), filepath.Join(cfg, "x.age"), filepath.Join(tr.home, "private"), filepath.Join(tr.home, DefaultStorePath)} {
		if !slices.Contains(s.Hide, h) {
			t.Errorf("%s not hidden", h)
		}
	}
	for _, h := range []string{filepath.Join(cfg, "policy.yaml"), filepath.Join(tr.home, ".npmrc")} {
		if slices.Contains(s.Hide, h) {
			t.Errorf("%s hidden", h)
		}
	}
	for _, w := range []string{tr.work, filepath.Join(tr.home, ".claude"), filepath.Join(tr.home, ".claude.json"), filepath.Join(tr.home, "notes"), o.TempDir, "/dev/shm"} {
		if !slices.Contains(s.Write, w) {
			t.Errorf("%s not writable", w)
		}
	}
	for _, c := range []string{"/tmp", "/var/tmp"} {
		if !slices.Contains(s.Create, c) || slices.Contains(s.Write, c) {
			t.Errorf("%s: create %v, write %v", c, s.Create, s.Write)
		}
	}
	if slices.Contains(s.Write, filepath.Join(tr.home, ".codex")) {
		t.Errorf("another agent's state is writable")
	}

	for name, c := range map[string]struct {
		mod  func(*AgentOptions)
		want string
	}{
		"home as working tree":     {func(o *AgentOptions) { o.Workdir = tr.home }, "holds your home directory"},
		"root as working tree":     {func(o *AgentOptions) { o.Workdir = "/" }, "holds your home directory"},
		"working tree in a hidden": {func(o *AgentOptions) { o.Workdir = tr.ssh }, "inside the hidden path"},
		"relative flag path":       {func(o *AgentOptions) { o.Hide = []string{"rel"} }, "must be absolute"},
		"relative store":           {func(o *AgentOptions) { o.DataDir = "store" }, "not absolute"},
	} {
		o2 := o
		c.mod(&o2)
		if _, err := AgentSpec(o2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
	o.Workdir = tr.home
	o.AllowWrite = []string{tr.home}
	if _, err := AgentSpec(o); err != nil {
		t.Errorf("--allow-write of the home working tree: %v", err)
	}
}
