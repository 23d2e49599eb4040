package cli

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/gitrun"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of TestSetupGolden")

// readTree returns every file under dir, by slash path, with root written
// as $ROOT.
func readTree(t *testing.T, dir, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = strings.ReplaceAll(string(data), root, "$ROOT")
		}
		return nil
	})
	return files
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	for rel, data := range readTree(t, from, "\x00") {
		p := filepath.Join(to, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sameTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: %s is missing", what, name)
		} else if g != w {
			t.Errorf("%s: %s is\n%s\nwant\n%s", what, name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: %s should not exist", what, name)
		}
	}
}

// TestSetupGolden: for each agent's files, user and project, setup turns
// the files in before/ into those in after/; running it again changes
// nothing; --remove gives before/ back, byte for byte.
// testSetupOptions sets up, with --yes, the home root/home and the
// project root/proj.
func testSetupOptions(t *testing.T, root string, out, errOut *bytes.Buffer) *setupOptions {
	env := map[string]string{"HOME": filepath.Join(root, "home")}
	return &setupOptions{
		IO:         &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Caller:     (&Factory{LookupEnv: func(string) (string, bool) { return "", false }, Getenv: func(string) string { return "" }, ProcRoot: t.TempDir()}).callerWithoutToken,
		Getenv:     func(k string) string { return env[k] },
		Getwd:      func() (string, error) { return filepath.Join(root, "proj"), nil },
		ConfigDir:  func() string { return filepath.Join(root, "home", ".config") },
		StoreDir:   func() (string, error) { return filepath.Join(root, "home", ".local", "share", "llm-secrets"), nil },
		Executable: func() (string, error) { return "/usr/local/bin/llms", nil },
		RunGit: func(dir string) (*gitrun.Git, error) {
			return gitrun.New(gitrun.Options{Home: filepath.Join(root, "home"), Dir: dir})
		},
		Yes: true,
	}
}

func TestSetupGolden(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "setup"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			agent, scope, _ := strings.Cut(c.Name(), "-")
			dir := filepath.Join("testdata", "setup", c.Name())
			root := t.TempDir()
			for _, d := range []string{"home", "proj"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			copyTree(t, filepath.Join(dir, "before"), root)
			before := readTree(t, root, root)
			var out, errOut bytes.Buffer
			opts := testSetupOptions(t, root, &out, &errOut)
			opts.Agent, opts.Project = agent, scope == "project"
			if err := runSetup(opts); err != nil {
				t.Fatalf("setup: %v\n%s", err, errOut.String())
			}
			after := readTree(t, root, root)
			golden := filepath.Join(dir, "after")
			if *updateGolden {
				os.RemoveAll(golden)
				for rel, data := range after {
					p := filepath.Join(golden, rel)
					os.MkdirAll(filepath.Dir(p), 0o755)
					os.WriteFile(p, []byte(data), 0o644)
				}
			}
			sameTree(t, "setup", after, readTree(t, golden, "\x00"))

			out.Reset()
			if err := runSetup(opts); err != nil {
				t.Fatalf("setup again: %v", err)
			}
			sameTree(t, "setup again", readTree(t, root, root), after)
			if !strings.Contains(out.String(), "nothing to change") {
				t.Errorf("setup again says %q", out.String())
			}

			opts.Remove = true
			if err := runSetup(opts); err != nil {
				t.Fatalf("remove: %v\n%s", err, errOut.String())
			}
			sameTree(t, "remove", readTree(t, root, root), before)
		})
	}
}

func TestSetupBlocks(t *testing.T) {
	for _, text := range []string{"", "a\n", "a\n\n", "# x\n\nb\n"} {
		with, err := hashBlock.withBlock(text, "rule\n")
		if err != nil {
			t.Fatal(err)
		}
		again, _ := hashBlock.withBlock(with, "rule\n")
		if again != with {
			t.Errorf("%q: a second withBlock changed %q to %q", text, with, again)
		}
		back, err := hashBlock.withoutBlock(with)
		if err != nil || back != text {
			t.Errorf("%q: withoutBlock gives %q, %v", text, back, err)
		}
	}
	// A block edited by hand so that its markers no longer pair is refused.
	for _, text := range []string{
		hashBlock.begin + "\nrule\n",
		"rule\n" + hashBlock.end + "\n",
		hashBlock.begin + "\n" + hashBlock.end + "\n" + hashBlock.begin + "\n" + hashBlock.end + "\n",
	} {
		if _, err := hashBlock.withBlock(text, "rule\n"); err == nil {
			t.Errorf("%q: accepted", text)
		}
	}
}

// A table of the server's name that setup did not write is never
// duplicated (TOML forbids it), and an entry the user changed is not
// removed.
func TestSetupLeavesTheUsersEntries(t *testing.T) {
	root := t.TempDir()
	e := setupEnv{home: root, project: root, codexHome: root, storeDir: filepath.Join(root, "store"), tokenFile: "/t", command: "/llms"}
	toml := filepath.Join(root, "config.toml")
	os.WriteFile(toml, []byte("[mcp_servers.llms]\ncommand = \"mine\"\n"), 0o600)
	p := &setupPlan{}
	planFor("codex", false, e, p)
	if p.err == nil || !strings.Contains(p.err.Error(), "already defines [mcp_servers.llms]") {
		t.Fatalf("codex over a user's table: %v", p.err)
	}

	mcp := filepath.Join(root, ".gemini", "settings.json")
	os.MkdirAll(filepath.Dir(mcp), 0o755)
	mine := "{\n  \"mcpServers\": {\n    \"llms\": {\n      \"command\": \"mine\"\n    }\n  }\n}\n"
	os.WriteFile(mcp, []byte(mine), 0o644)
	p = &setupPlan{remove: true}
	planFor("gemini", false, e, p)
	if p.err != nil || len(p.changes()) != 0 || len(p.notes) < 1 || !strings.Contains(p.notes[0], "not the one setup writes") {
		t.Fatalf("remove over a user's entry: err %v, changes %d, notes %q", p.err, len(p.changes()), p.notes)
	}
}

// The diff setup shows holds what it changes, never the rest of a file
// whose layout differs from the one setup writes: another server's token
// in a one-line or tab-indented ~/.claude.json stays off the terminal,
// and stays in the file.
func TestSetupDiffKeepsOtherEntriesOffTheTerminal(t *testing.T) {
	const canary = "ghp_canary8Zt3setupDiff"
	for _, layout := range []string{
		`{"mcpServers":{"github":{"command":"gh","env":{"GITHUB_TOKEN":"` + canary + `"}}}}`,
		"{\n\t\"mcpServers\": {\n\t\t\"github\": {\"env\": {\"GITHUB_TOKEN\": \"" + canary + "\"}}\n\t}\n}\n",
	} {
		root := t.TempDir()
		for _, d := range []string{"home", "proj"} {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		file := filepath.Join(root, "home", ".claude.json")
		os.WriteFile(file, []byte(layout), 0o600)
		var out, errOut bytes.Buffer
		opts := testSetupOptions(t, root, &out, &errOut)
		opts.Agent = "claude"
		for _, remove := range []bool{false, true} {
			opts.Remove = remove
			out.Reset()
			if err := runSetup(opts); err != nil {
				t.Fatalf("setup (remove %v): %v\n%s", remove, err, errOut.String())
			}
			if strings.Contains(out.String()+errOut.String(), canary) {
				t.Errorf("setup (remove %v) of %q shows the token:\n%s", remove, layout, out.String())
			}
			if !strings.Contains(out.String(), `"LLM_SECRETS_MACAROON_FILE"`) {
				t.Errorf("setup (remove %v) does not show its entry:\n%s", remove, out.String())
			}
			if data, _ := os.ReadFile(file); !strings.Contains(string(data), canary) {
				t.Errorf("setup (remove %v) lost the user's entry:\n%s", remove, data)
			}
		}
	}
}
