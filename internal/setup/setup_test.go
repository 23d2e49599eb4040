package setup

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/gitrun"
	"github.com/llm-secrets/llms/internal/leakscan"
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
			rel, err := filepath.Rel(dir, p)
			must(t, err)
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
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
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
func testSetupOptions(t *testing.T, root string, out, errOut *bytes.Buffer) *Options {
	env := map[string]string{"HOME": filepath.Join(root, "home"), "XDG_STATE_HOME": t.TempDir()}
	caller := &broker.Caller{LookupEnv: func(string) (string, bool) { return "", false }, ProcRoot: t.TempDir()}
	return &Options{
		Stdout: out, Stderr: errOut,
		Caller:     func() (*broker.Caller, error) { return caller, nil },
		Getenv:     func(k string) string { return env[k] },
		Getwd:      func() (string, error) { return filepath.Join(root, "proj"), nil },
		ConfigDir:  func() string { return filepath.Join(root, "home", ".config") },
		StoreDir:   func() (string, error) { return filepath.Join(root, "home", ".local", "share", "llm-secrets"), nil },
		Executable: func() (string, error) { return "/usr/local/bin/llms", nil },
		RepoTop: func(dir string) (string, error) {
			g, err := gitrun.New(gitrun.Options{Home: filepath.Join(root, "home"), Dir: dir})
			if err != nil {
				return "", err
			}
			repo, err := leakscan.OpenRepo(g, dir)
			if err != nil {
				return "", err
			}
			return repo.Top, nil
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
				must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
			}
			copyTree(t, filepath.Join(dir, "before"), root)
			before := readTree(t, root, root)
			var out, errOut bytes.Buffer
			opts := testSetupOptions(t, root, &out, &errOut)
			opts.Agent, opts.Project = agent, scope == "project"
			if err := Run(opts); err != nil {
				t.Fatalf("setup: %v\n%s", err, errOut.String())
			}
			after := readTree(t, root, root)
			golden := filepath.Join(dir, "after")
			if *updateGolden {
				os.RemoveAll(golden)
				for rel, data := range after {
					p := filepath.Join(golden, rel)
					must(t, os.MkdirAll(filepath.Dir(p), 0o755))
					must(t, os.WriteFile(p, []byte(data), 0o644))
				}
			}
			sameTree(t, "setup", after, readTree(t, golden, "\x00"))

			out.Reset()
			if err := Run(opts); err != nil {
				t.Fatalf("setup again: %v", err)
			}
			sameTree(t, "setup again", readTree(t, root, root), after)
			if !strings.Contains(out.String(), "nothing to change") {
				t.Errorf("setup again says %q", out.String())
			}

			opts.Remove = true
			if err := Run(opts); err != nil {
				t.Fatalf("remove: %v\n%s", err, errOut.String())
			}
			sameTree(t, "remove", readTree(t, root, root), before)
			if st, err := loadSetupState(setupStatePath(opts.Getenv, "")); err != nil || len(st.Files) != 0 {
				t.Errorf("records left after --remove: %v, %v", st, err)
			}
		})
	}
}

func TestSetupBlocks(t *testing.T) {
	for _, text := range []string{"", "a\n", "a\n\n", "# x\n\nb\n"} {
		with, err := hashBlock.withBlock(text, "rule\n")
		if err != nil {
			t.Fatal(err)
		}
		again, err := hashBlock.withBlock(with, "rule\n")
		if err != nil || again != with {
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
			must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
		}
		file := filepath.Join(root, "home", ".claude.json")
		must(t, os.WriteFile(file, []byte(layout), 0o600))
		var out, errOut bytes.Buffer
		opts := testSetupOptions(t, root, &out, &errOut)
		opts.Agent = "claude"
		for _, remove := range []bool{false, true} {
			opts.Remove = remove
			out.Reset()
			if err := Run(opts); err != nil {
				t.Fatalf("setup (remove %v): %v\n%s", remove, err, errOut.String())
			}
			for _, form := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))} {
				if strings.Contains(out.String()+errOut.String(), form) {
					t.Errorf("setup (remove %v) of %q shows the token (%s):\n%s", remove, layout, form, out.String())
				}
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

// setupRoot makes root/home and root/proj and the options that set up
// there, with --yes.
func setupRoot(t *testing.T) (string, *Options, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"home", "proj"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	var out, errOut bytes.Buffer
	return root, testSetupOptions(t, root, &out, &errOut), &out, &errOut
}

func mustSetup(t *testing.T, opts *Options, agent string, remove bool) {
	t.Helper()
	opts.Agent, opts.Remove = agent, remove
	if err := Run(opts); err != nil {
		t.Fatalf("setup %s (remove %v): %v\n%s", agent, remove, err, opts.Stderr.(*bytes.Buffer).String())
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// --remove gives back the bytes the clients wrote, whatever their layout:
// no final newline (as Claude Code and Gemini CLI write their files), tabs,
// four spaces, one line.
func TestSetupRemoveRestoresTheClientsBytes(t *testing.T) {
	for _, tc := range []struct{ agent, file, data string }{
		{"claude", "home/.claude.json", "{\n  \"numStartups\": 3,\n  \"mcpServers\": {\n    \"github\": {\n      \"command\": \"gh\"\n    }\n  }\n}"},
		{"claude", "home/.claude.json", `{"numStartups":3}`},
		{"claude", "home/.claude/settings.json", "{\n\t\"permissions\": {\n\t\t\"allow\": [\n\t\t\t\"Bash(npm test)\"\n\t\t]\n\t}\n}\n"},
		{"claude", "home/.claude/settings.json", "{\n\t\"model\": \"opus\"\n}"},
		{"gemini", "home/.gemini/settings.json", "{\n    \"ui\": {\n        \"theme\": \"GitHub\"\n    }\n}"},
		{"gemini", "home/.gemini/settings.json", "{\r\n  \"mcpServers\": {}\r\n}\r\n"},
		{"codex", "home/.codex/config.toml", "# mine\nmodel = \"o3\" # inline\n[mcp_servers.docs]\ncommand = \"docs\""},
	} {
		root, opts, _, _ := setupRoot(t)
		path := filepath.Join(root, tc.file)
		writeTestFile(t, path, tc.data)
		mustSetup(t, opts, tc.agent, false)
		if got := readTestFile(t, path); got == tc.data {
			t.Fatalf("%s: setup did not change %s", tc.agent, tc.file)
		}
		mustSetup(t, opts, tc.agent, true)
		if got := readTestFile(t, path); got != tc.data {
			t.Errorf("%s: %s after --remove is\n%q\nwant\n%q", tc.agent, tc.file, got, tc.data)
		}
	}
}

// The clients rewrite their files: Codex rewrites every [mcp_servers.*]
// table on codex mcp add (the env as a sub-table, comments before a table
// dropped), Claude Code rewrites ~/.claude.json whole. Setup finds its
// entry by structure: a second setup changes nothing, --remove takes out
// the entry and touches nothing else.
func TestSetupSurvivesClientRewrites(t *testing.T) {
	root, opts, out, _ := setupRoot(t)
	toml := filepath.Join(root, "home/.codex/config.toml")
	writeTestFile(t, toml, "# my config\nmodel = \"o3\"\n\n[profiles.x] # trailing\nmodel = \"gpt\"\n")
	mustSetup(t, opts, "codex", false)
	token := filepath.Join(root, "home/.config/llm-secrets/mcp.token")
	// What codex mcp add other … makes of it.
	rewritten := "# my config\nmodel = \"o3\"\n\n[profiles.x] # trailing\nmodel = \"gpt\"\n\n" +
		"[mcp_servers.llms]\ncommand = \"/usr/local/bin/llms\"\nargs = [\"mcp\"]\nenv_vars = [\"LLM_SECRETS_SOCKET\", \"LLM_SECRETS_MACAROON\"]\n\n" +
		"[mcp_servers.llms.env]\nLLM_SECRETS_MACAROON_FILE = \"" + token + "\"\n\n" +
		"[mcp_servers.other]\ncommand = \"/bin/echo\"\nargs = [\"hi\"]\n"
	writeTestFile(t, toml, rewritten)
	out.Reset()
	mustSetup(t, opts, "codex", false)
	if got := readTestFile(t, toml); got != rewritten || !strings.Contains(out.String(), "nothing to change") {
		t.Errorf("setup again after codex rewrote the file: %s\n%s", out.String(), got)
	}
	mustSetup(t, opts, "codex", true)
	want := "# my config\nmodel = \"o3\"\n\n[profiles.x] # trailing\nmodel = \"gpt\"\n\n[mcp_servers.other]\ncommand = \"/bin/echo\"\nargs = [\"hi\"]\n"
	if got := readTestFile(t, toml); got != want {
		t.Errorf("codex --remove after a rewrite:\n%s\nwant\n%s", got, want)
	}

	claude := filepath.Join(root, "home/.claude.json")
	writeTestFile(t, claude, "{\n  \"numStartups\": 1\n}")
	mustSetup(t, opts, "claude", false)
	var doc map[string]any
	if err := json.Unmarshal([]byte(readTestFile(t, claude)), &doc); err != nil {
		t.Fatal(err)
	}
	// What claude mcp add-json other … makes of it.
	doc["mcpServers"].(map[string]any)["other"] = map[string]any{"command": "/bin/echo"}
	doc["numStartups"] = 2
	data, err := json.MarshalIndent(doc, "", "  ")
	must(t, err)
	writeTestFile(t, claude, string(data))
	mustSetup(t, opts, "claude", true)
	want = "{\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"/bin/echo\"\n    }\n  },\n  \"numStartups\": 2\n}"
	if got := readTestFile(t, claude); got != want {
		t.Errorf("claude --remove after a rewrite:\n%s\nwant\n%s", got, want)
	}
}

// An llms entry the user made before setup (claude mcp add-json llms …,
// a [mcp_servers.llms] table) is theirs: setup leaves it as it is and says
// so, and --remove leaves it too.
func TestSetupLeavesAnEntryTheUserMade(t *testing.T) {
	for _, tc := range []struct{ agent, file, data string }{
		{"claude", "home/.claude.json", "{\n  \"mcpServers\": {\n    \"llms\": {\n      \"type\": \"stdio\",\n      \"command\": \"/opt/llms\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}"},
		{"gemini", "home/.gemini/settings.json", "{\n  \"mcpServers\": {\n    \"llms\": {\n      \"args\": [\n        \"mcp\"\n      ],\n      \"command\": \"/usr/local/bin/llms\",\n      \"env\": {\n        \"LLM_SECRETS_MACAROON_FILE\": \"/t\"\n      }\n    }\n  }\n}\n"},
		{"codex", "home/.codex/config.toml", "[mcp_servers.llms]\ncommand = \"/opt/llms\"\nargs = [\"mcp\"]\n"},
	} {
		root, opts, _, errOut := setupRoot(t)
		path := filepath.Join(root, tc.file)
		writeTestFile(t, path, tc.data)
		mustSetup(t, opts, tc.agent, false)
		if got := readTestFile(t, path); got != tc.data {
			t.Errorf("%s: setup changed the user's entry:\n%s", tc.agent, got)
		}
		if !strings.Contains(errOut.String(), "not added by llms setup") {
			t.Errorf("%s: setup does not say it left the entry: %s", tc.agent, errOut.String())
		}
		mustSetup(t, opts, tc.agent, true)
		if got := readTestFile(t, path); got != tc.data {
			t.Errorf("%s: --remove took out the user's entry:\n%s", tc.agent, got)
		}
	}
}

// must stops the test when a step it depends on failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
