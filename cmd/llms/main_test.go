package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llm-secrets/llms/internal/cli"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"llms": func() {
			f := cli.NewFactory()
			// Tests decide what agent is present: an empty fake /proc
			// hides whatever runs `go test` (maybe an agent itself).
			f.ProcRoot = os.Getenv("LLMS_TEST_PROCROOT")
			os.Exit(cli.Main(os.Args[1:], f))
		},
	})
}

// TestScript runs the CLI behaviour specs in testdata/script. Each script
// starts with an empty store location and a private HOME.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("LLM_SECRETS_DIR", filepath.Join(env.WorkDir, "store"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "home", ".config"))
			env.Setenv("LLMS_TEST_PROCROOT", filepath.Join(env.WorkDir, ".proc"))
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
		},
	})
}
