package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llm-secrets/llms/internal/agentsock"
	"github.com/llm-secrets/llms/internal/broker"
	"github.com/llm-secrets/llms/internal/cli"
	"github.com/llm-secrets/llms/internal/mcpmain"
	"github.com/llm-secrets/llms/internal/sandbox"
	"github.com/llm-secrets/llms/internal/userdb"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		attackAgentName:   func() { os.Exit(attackAgent()) },
		"llms":            func() { os.Exit(dispatch(os.Args[1:], testFactory())) },
		cli.MCPServerName: func() { os.Exit(cli.MCPMain(os.Args[1:], testFactory(), mcpmain.Serve)) },
	})
}

// testFactory is the CLI's factory as the tests' environment configures it.
func testFactory() *cli.Factory {
	f := cli.NewFactory()
	// Tests decide what agent is present: an empty fake /proc
	// hides whatever runs `go test` (maybe an agent itself).
	f.ProcRoot = os.Getenv("LLMS_TEST_PROCROOT")
	// A script may stand in for the system's user database: a
	// passwd file, and a getent program to fall back on.
	if p := os.Getenv("LLMS_TEST_PASSWD"); p != "" {
		f.UserDB = &userdb.DB{PasswdFile: p, Getent: []string{os.Getenv("LLMS_TEST_GETENT")}}
	}
	// testscript cannot remove a variable; `unenv` lists the ones
	// to treat as absent while they are still empty.
	for _, name := range strings.Split(os.Getenv("LLMS_TEST_UNSET"), ",") {
		if v, ok := os.LookupEnv(name); ok && v == "" {
			os.Unsetenv(name)
		}
	}
	// LLMS_TEST_NO_CGROUP=1: the agent's tree is the guard's
	// alone, as where no cgroup can be made.
	if os.Getenv("LLMS_TEST_NO_CGROUP") == "1" {
		sandbox.SetNoCgroupForTest()
	}
	// LLMS_TEST_LANDLOCK_ABI=0 simulates a kernel without Landlock.
	if v := os.Getenv("LLMS_TEST_LANDLOCK_ABI"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic("LLMS_TEST_LANDLOCK_ABI: " + err.Error())
		}
		sandbox.SetABIForTest(n)
	}
	// LLMS_TEST_NO_NAMESPACES=1: as where the kernel refuses them.
	if os.Getenv("LLMS_TEST_NO_NAMESPACES") == "1" {
		sandbox.SetNamespacesForTest(false)
	}
	return f
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
			// A race-enabled llms otherwise sleeps a second at every exit.
			env.Setenv("GORACE", "atexit_sleep_ms=0")
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "landlock" {
				return sandbox.ABI() > 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// unenv NAME… removes variables: an empty one is not the same
			// as an absent one to llms (an empty token is still refused).
			"unenv": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) == 0 {
					ts.Fatalf("usage: unenv NAME...")
				}
				unset := ts.Getenv("LLMS_TEST_UNSET")
				for _, name := range args {
					ts.Setenv(name, "")
					unset += "," + name
				}
				ts.Setenv("LLMS_TEST_UNSET", unset)
			},
			// agentbroker AGENT serves the store at $LLM_SECRETS_DIR as the
			// agent-mode broker would (stamped AGENT, policy read now, no
			// sandbox) from the test process, and names its socket in
			// $LLM_SECRETS_SOCKET; agentbroker stop ends it.
			"agentbroker": agentBroker,
			// docblock DOC TEXT FILE writes the fenced code block of DOC (a
			// path from the repository's top) that holds a line containing
			// TEXT to FILE: a script then types the documentation as written.
			"docblock": docBlock,
			// sleep DURATION, for expiry tests.
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: sleep DURATION")
				}
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
		},
	})
}

func agentBroker(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: agentbroker AGENT|stop")
	}
	if args[0] == "stop" {
		stop, ok := brokers[ts]
		if !ok {
			ts.Fatalf("no agent broker is running")
		}
		stop()
		delete(brokers, ts)
		return
	}
	b, err := broker.Open(ts.Getenv("LLM_SECRETS_DIR"))
	ts.Check(err)
	p, err := broker.LoadPolicy(&broker.Caller{Cwd: ts.Getenv("WORK"), ConfigDirs: []string{ts.Getenv("XDG_CONFIG_HOME")},
		ProcRoot: ts.Getenv("LLMS_TEST_PROCROOT"), LookupEnv: func(string) (string, bool) { return "", false }})
	ts.Check(err)
	dir := ts.MkAbs(".agent-mode")
	ts.Check(os.Mkdir(dir, 0o700))
	sock := filepath.Join(dir, "broker.sock")
	l, err := agentsock.Listen(sock)
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &agentsock.Server{Broker: b, Agent: args[0], Policy: p}
	go func() { done <- srv.Serve(ctx, l) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			ts.Logf("agent broker: %v", err)
		}
	}
	brokers[ts] = stop
	ts.Defer(func() {
		if _, running := brokers[ts]; running {
			stop()
			delete(brokers, ts)
		}
	})
	ts.Setenv(agentsock.SocketEnv, sock)
}

// brokers are the agent brokers running, by script.
var brokers = map[*testscript.TestScript]func(){}

func docBlock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: docblock DOC TEXT FILE")
	}
	data, err := os.ReadFile(filepath.Join("..", "..", args[0]))
	ts.Check(err)
	var block []string
	in, found := false, false
	for line := range strings.SplitSeq(string(data), "\n") {
		switch {
		case !in && strings.HasPrefix(line, "```"):
			in, block = true, nil
		case in && line == "```":
			in = false
			if found {
				ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(strings.Join(block, "\n")+"\n"), 0o644))
				return
			}
		case in:
			block = append(block, line)
			found = found || strings.Contains(line, args[1])
		}
	}
	ts.Fatalf("%s has no code block with a line containing %q", args[0], args[1])
}
