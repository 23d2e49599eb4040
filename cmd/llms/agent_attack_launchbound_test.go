package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// The launchbound phases of the attack agent:
//
//   - "launchbound": the agent copies its token, and an attenuation of it,
//     into files in the working tree; checks both work while its launcher
//     lives; tries to reach the process that ends its tree; leaves two
//     processes behind, each forked twice and in a session of its own (a
//     sleeper, and a comet that keeps replacing itself); writes the pids
//     and "ready", and waits to be killed.
//   - "launchbound-other": another launch's agent uses each copied token
//     (the files envAttackTokens names) with its own launcher's broker.
const envAttackTokens = "ATTACK_TOKENS"

// launchRefusal is what a refusal under a launch caveat says.
const launchRefusal = "honoured only by the broker of the `llms agent` that minted it"

func attackLaunchbound(phase string) int {
	llms, work := os.Getenv(envAttackLLMS), os.Getenv(envAttackWork)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	report := func(name string, allowed bool, detail string) {
		verdict := "refused"
		if allowed {
			verdict = "allowed"
		}
		fmt.Fprintf(out, "ATTEMPT %s %s %s\n", name, verdict, strings.Join(strings.Fields(detail), " "))
	}
	// use runs `llms exec` with the secret for sh, under token (the
	// agent's own when "").
	use := func(token string) (int, string) {
		cmd := exec.Command(llms, "exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)
		cmd.Env = os.Environ()
		if token != "" {
			cmd.Env = append(cmd.Env, "LLM_SECRETS_MACAROON="+token)
		}
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		first, _, _ := strings.Cut(strings.TrimSpace(e.String()), "\n")
		if err != nil && cmd.ProcessState == nil {
			return -1, err.Error()
		}
		return cmd.ProcessState.ExitCode(), first
	}

	if phase == "launchbound-other" {
		for _, path := range strings.Split(os.Getenv(envAttackTokens), ":") {
			tok, err := os.ReadFile(path)
			if err != nil {
				report("other-broker-"+filepath.Base(path), false, "unreadable: "+err.Error())
				continue
			}
			code, msg := use(strings.TrimSpace(string(tok)))
			report("other-broker-"+filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), code == 0, fmt.Sprintf("exit %d: %s", code, msg))
		}
		return 0
	}

	token := os.Getenv("LLM_SECRETS_MACAROON")
	err := os.WriteFile(filepath.Join(work, "copied.token"), []byte(token+"\n"), 0o600)
	report("copy-token", err == nil, fmt.Sprint(err))
	cmd := exec.Command(llms, "macaroon", "attenuate", "--op", "exec")
	attenuated, err := cmd.Output()
	if err == nil {
		err = os.WriteFile(filepath.Join(work, "attenuated.token"), attenuated, 0o600)
	}
	report("attenuate-token", err == nil, fmt.Sprint(err))
	code, msg := use("")
	report("token-works-before-kill", code == 0, fmt.Sprintf("exit %d: %s", code, msg))
	code, msg = use(strings.TrimSpace(string(attenuated)))
	report("attenuated-works-before-kill", code == 0, fmt.Sprintf("exit %d: %s", code, msg))

	// The process that would end this tree when the launcher dies: the
	// agent's parent.
	guard := os.Getppid()
	err = unix.Kill(guard, 0)
	report("signal-guard", err == nil, fmt.Sprint(err))
	err = unix.PtraceSeize(guard)
	if err == nil {
		unix.PtraceDetach(guard)
	}
	report("ptrace-guard", err == nil, fmt.Sprint(err))
	_, err = os.ReadFile(fmt.Sprintf("/proc/%d/environ", guard))
	report("read-/proc/guard/environ", err == nil, fmt.Sprint(err))
	var lim unix.Rlimit
	err = unix.Prlimit(guard, unix.RLIMIT_CPU, nil, &lim)
	if err == nil {
		err = unix.Prlimit(guard, unix.RLIMIT_CPU, &lim, nil)
	}
	report("prlimit-guard", err == nil, fmt.Sprint(err))

	// A process re-parented to the guard (forked twice, its parent gone)
	// still descends from the launcher: the broker serves it.
	done := filepath.Join(work, "orphan.status")
	err = exec.Command("setsid", "-f", "sh", "-c", `"$1" exec -i V=K -- sh -c 'test -n "$V"'; echo $? > "$0"`, done, llms).Run()
	status := ""
	for deadline := time.Now().Add(10 * time.Second); err == nil && status == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(done)
		if len(b) > 0 && b[len(b)-1] == '\n' {
			status = strings.TrimSpace(string(b))
		}
	}
	report("orphan-uses-broker", status == "0", fmt.Sprintf("%v, exit %q", err, status))

	// Left behind: a sleeper and a comet, each forked twice (setsid -f, then
	// sh's &) into a session of their own.
	os.WriteFile(filepath.Join(work, "comet.sh"), []byte(`while :; do [ -e "$1.stop" ] && exit 0; echo $$ > "$1.pid"; sh "$0" "$1" & exit 0; done`+"\n"), 0o600)
	bg := exec.Command("setsid", "-f", "sh", "-c", `sh -c 'trap "" HUP TERM; echo $$ > "$0"; exec sleep 600' "$0" &`, filepath.Join(work, "bg.pid"))
	err = bg.Run()
	if err == nil {
		err = exec.Command("setsid", "-f", "sh", "-c", `sh "$0" "$1" &`, filepath.Join(work, "comet.sh"), filepath.Join(work, "comet")).Run()
	}
	for deadline := time.Now().Add(5 * time.Second); err == nil; time.Sleep(10 * time.Millisecond) {
		_, e1 := os.Stat(filepath.Join(work, "bg.pid"))
		_, e2 := os.Stat(filepath.Join(work, "comet.pid"))
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			err = errors.New("no pid file after 5s")
		}
	}
	report("leave-background", err == nil, fmt.Sprint(err))
	os.WriteFile(filepath.Join(work, "agent.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	os.WriteFile(filepath.Join(work, "socket.path"), []byte(os.Getenv("LLM_SECRETS_SOCKET")), 0o600)
	out.Flush()
	os.WriteFile(filepath.Join(work, "ready"), nil, 0o600)
	time.Sleep(10 * time.Minute)
	return 0
}

// Before the kill, in the agent.
var expectedLaunchbound = map[string]string{
	"copy-token": "allowed", "attenuate-token": "allowed",
	"token-works-before-kill": "allowed", "attenuated-works-before-kill": "allowed",
	"signal-guard": "refused", "ptrace-guard": "refused", "read-/proc/guard/environ": "refused", "prlimit-guard": "refused",
	"orphan-uses-broker": "allowed",
	"leave-background":   "allowed",
}

// TestAgentModeAttacksLaunchbound: an agent copies its token out and
// leaves processes behind in sessions of their own; then its launcher is
// killed with SIGKILL — or the process between the launcher and the agent,
// or the agent. Within two seconds no process of the agent's tree may be
// left, and the copied token and an attenuation of it must be refused
// (exit 3, audited) by a plain `llms exec`, by `llms mcp` and by the broker
// of another launch.
func TestAgentModeAttacksLaunchbound(t *testing.T) {
	needLandlock(t)
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "launch-canary-" + hex.EncodeToString(raw)
	forms := []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))}

	root := t.TempDir()
	home, store, tmp := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	bin := llmsBin(t)
	agent := attackAgentPath(t, bin)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "TMPDIR=" + tmp, "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"), envAttackLLMS + "=" + bin}
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	launch := []string{"agent", "--agent", "claude-code", "--secret", "K", "--ttl", "10m", "--cmd", "sh", "--", agent}

	var outputs []string
	record := func(path string) {
		b, err := os.ReadFile(path)
		mustDo(t, err)
		outputs = append(outputs, string(b))
	}
	// Why each launch's tokens are refused, by working tree: a token a
	// live launcher revoked is refused for that first; a launcher killed
	// outright revoked nothing, and only the launch caveat refuses.
	type launched struct {
		victim, tokenID string
		bound           bool // refused by its launch caveat
	}
	launches := map[string]launched{}
	var tokens []string
	// Each victim with the agent in a cgroup of its own where the test
	// runs may make one (as root), and with the guard alone; and once
	// confined as on a kernel below Landlock ABI 6, where the launcher,
	// not Landlock, keeps the agent from signalling the guard.
	for i, v := range []struct {
		victim string
		cgroup bool
		abi    int // 0: this kernel's
	}{{"launcher", true, 0}, {"launcher", false, 0}, {"launcher's child", true, 0}, {"launcher's child", false, 0}, {"agent", true, 0}, {"launcher", false, 4}} {
		victim := v.victim
		if !v.cgroup {
			victim += " (no cgroup)"
		}
		args := launch
		if v.abi > 0 && v.abi < sandbox.ABI() {
			victim += fmt.Sprintf(" (Landlock ABI %d)", v.abi)
			args = append([]string{"agent", "--landlock-abi", fmt.Sprint(v.abi)}, launch[1:]...)
		}
		work := filepath.Join(root, fmt.Sprintf("proj%d", i))
		mustDo(t, os.Mkdir(work, 0o700))
		t.Cleanup(func() { endLeftovers(work) })
		cmd := exec.Command(bin, args...)
		cmd.Env = append(slices.Clone(env), envAttackPhase+"=launchbound", envAttackWork+"="+work)
		if !v.cgroup {
			cmd.Env = append(cmd.Env, "LLMS_TEST_NO_CGROUP=1")
		}
		cmd.Dir = work
		// Files, not pipes: what the agent left behind may hold them open.
		stdout, stderr := filepath.Join(root, fmt.Sprintf("out%d", i)), filepath.Join(root, fmt.Sprintf("err%d", i))
		outF, err := os.Create(stdout)
		mustDo(t, err)
		errF, err := os.Create(stderr)
		mustDo(t, err)
		cmd.Stdout, cmd.Stderr = outF, errF
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		outF.Close()
		errF.Close()
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		if !waitForFile(filepath.Join(work, "ready"), 30*time.Second) {
			b, err := os.ReadFile(stderr)
			mustDo(t, err)
			t.Fatalf("%s: the agent never got ready; stderr:\n%s", victim, b)
		}
		checkAttempts(t, victim, stdout, expectedLaunchbound)
		pids := treePids(work)
		agentPid := pids["agent"]
		for name, pid := range pids {
			if name != "comet" && !alive(pid) {
				t.Fatalf("%s: %s (pid %d) is not running before the kill: the test would prove nothing", victim, name, pid)
			}
		}
		if !cometRuns(work) {
			t.Fatalf("%s: the comet does not run before the kill: the test would prove nothing", victim)
		}

		cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", agentPid))
		mustDo(t, err)
		inCgroup := strings.Contains(string(cg), "/llms-agent-")
		if inCgroup && !v.cgroup {
			t.Errorf("%s: the agent is in a cgroup of its own", victim)
		}
		target := cmd.Process.Pid
		switch v.victim {
		case "launcher's child":
			target = childOnPath(cmd.Process.Pid, agentPid)
		case "agent":
			target = agentPid
		}
		if target <= 0 {
			t.Fatalf("%s: not found", victim)
		}
		comm, _, _, _ := procStat(target)
		if err := syscall.Kill(target, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		// Gone when nothing is seen twice in a row, and the comet stopped.
		var left []string
		var gone time.Duration
		for {
			left = leftovers(work, cmd.Process.Pid)
			if len(left) == 0 {
				gone = time.Since(killed)
				time.Sleep(50 * time.Millisecond)
				if left = leftovers(work, cmd.Process.Pid); len(left) == 0 && cometRuns(work) {
					left = []string{"the comet"}
				}
			}
			if len(left) == 0 || time.Since(killed) > 2*time.Second {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		mark := "ok  "
		if len(left) > 0 {
			mark = "FAIL"
			t.Errorf("%s killed: 2s later the agent's tree still runs: %s", victim, strings.Join(left, ", "))
		}
		t.Logf("%s %-34s %s", mark, "tree-ends/"+victim, fmt.Sprintf("killed %s (pid %d), agent in a cgroup: %v; %d left, the tree gone after %v",
			comm, target, inCgroup, len(left), gone.Round(time.Millisecond)))
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s killed: the launcher did not exit", victim)
		}
		sock, err := os.ReadFile(filepath.Join(work, "socket.path"))
		mustDo(t, err)
		_, err = os.Stat(filepath.Dir(string(sock)))
		outcome(t, "socket-dir-removed/"+victim, len(sock) > 0 && errors.Is(err, os.ErrNotExist), fmt.Sprintf("%s: %v", filepath.Dir(string(sock)), err))
		record(stdout)
		record(stderr)

		info := struct{ ID string }{}
		json.Unmarshal([]byte(mustRun(t, bin, env, "", "macaroon", "inspect", "--json", "--macaroon-file", filepath.Join(work, "copied.token"))), &info)
		l := launched{victim: victim, tokenID: info.ID, bound: v.victim == "launcher"}
		launches[filepath.Base(work)] = l
		want := "was revoked"
		if l.bound {
			want = launchRefusal + ", while that launcher runs; this request does not come through it"
		}
		for _, name := range []string{"copied.token", "attenuated.token"} {
			path := filepath.Join(work, name)
			tokens = append(tokens, path)
			// Outside agent mode, as the agent's own program would be:
			// the token's agent caveat holds.
			tenv := append(slices.Clone(env), "LLM_SECRETS_MACAROON_FILE="+path, "CLAUDECODE=1")
			cmd := exec.Command(bin, "exec", "-i", "V=K", "--", "sh", "-c", `test -n "$V"`)
			cmd.Env, cmd.Dir = tenv, work
			var e bytes.Buffer
			cmd.Stderr = &e
			cmd.Run()
			code := cmd.ProcessState.ExitCode()
			outcome(t, victim+"/exec/"+name, code == 3 && strings.Contains(e.String(), want), fmt.Sprintf("exit %d: %s", code, firstLineOf(e.String())))
			outputs = append(outputs, e.String())

			res := mcpRunWithSecrets(t, bin, tenv, work)
			outputs = append(outputs, res)
			outcome(t, victim+"/mcp/"+name, strings.Contains(res, `"isError":true`) && strings.Contains(res, "access denied") && strings.Contains(res, jsonQuoted(want)),
				firstLineOf(res))
		}
	}

	// Another launch's broker: its agent uses each token copied above.
	work := filepath.Join(root, "other")
	mustDo(t, os.Mkdir(work, 0o700))
	t.Cleanup(func() { endLeftovers(work) })
	cmd := exec.Command(bin, launch...)
	cmd.Env = append(slices.Clone(env), envAttackPhase+"=launchbound-other", envAttackWork+"="+work, envAttackTokens+"="+strings.Join(tokens, ":"))
	cmd.Dir = work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("the other launch: %v\n%s", err, errb.String())
	}
	outputs = append(outputs, out.String(), errb.String())
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 4 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		proj, _, _ := strings.Cut(strings.TrimPrefix(f[1], "other-broker-"), "/")
		l, known := launches[proj]
		want := "was revoked"
		if l.bound {
			want = launchRefusal + ", while that launcher runs; this request comes through another launcher's broker"
		}
		outcome(t, f[1], known && f[2] == "refused" && strings.Contains(f[3], "exit 3") && strings.Contains(f[3], want), f[3])
	}
	if n := strings.Count(out.String(), "ATTEMPT"); n != len(tokens) {
		t.Errorf("the other launch tried %d tokens, want %d", n, len(tokens))
	}

	// Every refusal is in the audit log: per token, two direct execs, two
	// through the other broker, two MCP calls.
	audit := mustRun(t, bin, env, "", "audit", "-n", "0", "--denied", "--json")
	outputs = append(outputs, audit)
	for _, l := range launches {
		events := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(audit), "\n") {
			var e struct{ Event, Token, Reason string }
			if json.Unmarshal([]byte(line), &e) == nil && e.Token == l.tokenID {
				events[e.Event]++
				if l.bound && !strings.Contains(e.Reason, launchRefusal) {
					t.Errorf("%s: a refusal of the token was audited without the launch caveat's reason: %s", l.victim, e.Reason)
				}
			}
		}
		outcome(t, l.victim+"/audited", events["exec"] == 4 && events["mcp"] == 2, fmt.Sprintf("denials audited: %v", events))
	}
	for _, s := range outputs {
		for _, form := range forms {
			if strings.Contains(s, form) {
				t.Errorf("the canary (or an encoding of it) appears in an output")
			}
		}
	}
}

// outcome logs one line per attempt, for the CI log, and fails on a wrong
// one.
func outcome(t *testing.T, name string, ok bool, detail string) {
	t.Helper()
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		t.Errorf("%s: %s", name, detail)
	}
	t.Logf("%s %-34s %s", mark, name, detail)
}

// checkAttempts checks the agent's ATTEMPT lines in the file at path.
func checkAttempts(t *testing.T, victim, path string, want map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	mustDo(t, err)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			continue
		}
		seen[f[1]] = true
		detail := ""
		if len(f) == 4 {
			detail = f[3]
		}
		outcome(t, victim+"/"+f[1], want[f[1]] == f[2], f[2]+" "+detail)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: attempt %s was not made", victim, name)
		}
	}
}

// cometRuns reports whether the comet's pid file changes within 200ms.
func cometRuns(work string) bool {
	first, _ := os.ReadFile(filepath.Join(work, "comet.pid"))
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if now, _ := os.ReadFile(filepath.Join(work, "comet.pid")); !bytes.Equal(now, first) {
			return true
		}
	}
	return false
}

// treePids reads the pid files the agent wrote in work.
func treePids(work string) map[string]int {
	pids := map[string]int{}
	for _, name := range []string{"agent", "bg", "comet"} {
		b, _ := os.ReadFile(filepath.Join(work, name+".pid"))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pids[name] = pid
		}
	}
	return pids
}

// leftovers lists what runs of the agent's tree: the processes its pid
// files name (the comet's latest), and every process but the launcher
// whose working directory is in work.
func leftovers(work string, launcher int) []string {
	var left []string
	for name, pid := range treePids(work) {
		if alive(pid) {
			left = append(left, fmt.Sprintf("%s (pid %d)", name, pid))
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == launcher {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && (cwd == work || strings.HasPrefix(cwd, work+"/")) && alive(pid) {
			comm, _, _, _ := procStat(pid)
			left = append(left, fmt.Sprintf("%s (pid %d, in the tree)", comm, pid))
		}
	}
	return left
}

// endLeftovers kills whatever of the agent's tree a failed test left.
func endLeftovers(work string) {
	os.WriteFile(filepath.Join(work, "comet.stop"), nil, 0o600)
	for i := 0; i < 50 && len(leftovers(work, 0)) > 0; i++ {
		for _, pid := range treePids(work) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && strings.HasPrefix(cwd+"/", work+"/") {
				if pid, err := strconv.Atoi(e.Name()); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// launcherOfAgent is, in the agent, the launcher: its guard's parent.
func launcherOfAgent() int {
	_, ppid, _, _ := procStat(os.Getppid())
	return ppid
}

// childOf is the first child of parent found in /proc, 0 if none.
func childOf(parent int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, _, ok := procStat(pid); ok && ppid == parent {
			return pid
		}
	}
	return 0
}

// childOnPath is the child of ancestor through which pid descends from it.
func childOnPath(ancestor, pid int) int {
	for pid > 1 {
		_, ppid, _, ok := procStat(pid)
		if !ok {
			return 0
		}
		if ppid == ancestor {
			return pid
		}
		pid = ppid
	}
	return 0
}

func waitForFile(path string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
	}
	return false
}

// mcpRunWithSecrets runs `llms mcp` in dir and calls run_with_secrets once;
// it returns the call's answer.
func mcpRunWithSecrets(t *testing.T, bin string, env []string, dir string) string {
	t.Helper()
	cmd := exec.Command(bin, "mcp")
	cmd.Env, cmd.Dir = env, dir
	stdin, err := cmd.StdinPipe()
	mustDo(t, err)
	stdout, err := cmd.StdoutPipe()
	mustDo(t, err)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	go io.WriteString(stdin, strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_with_secrets","arguments":{"argv":["sh","-c","test -n \"$V\""],"inject":{"V":"K"}}}}`,
	}, "\n")+"\n")
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"id":2,`) {
			return sc.Text()
		}
	}
	return "no answer; stderr: " + errb.String()
}

// jsonQuoted is s as it appears inside a JSON string.
func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
