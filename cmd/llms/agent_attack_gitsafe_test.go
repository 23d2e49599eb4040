package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llm-secrets/llms/internal/sandbox"
)

// The "gitsafe" phase of the attack agent: what the human's own llms does
// with what the agent leaves behind, and what the agent can do in the
// places it shares with the user.
//
//   - The human's commands, from inside: every command for the human alone
//     is refused with one sentence and exit status 3, before the store is
//     touched, also with $LLM_SECRETS_SOCKET removed.
//   - A core.fsmonitor planted in the working tree's .git/config, which the
//     human's `llms scan --git` must not run (the test checks, after).
//   - /tmp and the agent's own $TMPDIR: writable whatever the
//     configuration ($XDG_RUNTIME_DIR is unset here, which put the broker's
//     socket in /tmp and took /tmp's create rights); what a coding agent
//     does there (mktemp -d, a cwd file, a socket, go build) works; nothing
//     of the user's there (a tmux-like server's socket, a file) can be
//     replaced, renamed or removed.
//   - stat of hidden paths: nothing where a mount namespace can be made;
//     size and times where it cannot (the fallback, documented).
//
// ATTACK_MODE says which: "namespace" or "fallback" (forced).

const (
	envAttackMarks   = "ATTACK_MARKS_DIR"
	envAttackUserTmp = "ATTACK_USER_TMP"
	envAttackMode    = "ATTACK_MODE"
	envAttackGoBuild = "LLMS_TEST_GO_BUILD" // set to 1: also a go build with a fresh GOCACHE (slow)
)

// humanOnlyCommands are llms commands for the human alone, each as the
// agent would try it (stdin "x\n").
var humanOnlyCommands = [][]string{
	{"macaroon", "mint", "--secret", "K", "--ttl", "5m"},
	{"session-start", "--ttl", "1h"},
	{"revoke-all"},
	{"revoke", "0123456789abcdef"},
	{"set", "--stdin", "K"},
	{"delete", "K"},
	{"init"},
	{"import", "/dev/null"},
	{"lease", "K", "--ttl", "5m"},
	{"leases"},
	{"session-info"},
	{"audit"},
	{"audit", "verify"},
	{"requests"},
	{"policy", "check", "--key", "K"},
	{"macaroon", "verify", "--macaroon", "x"},
	{"profile", "mint", "p"},
	{"profile", "exec", "p", "--", "true"},
	{"migrate", "--yes"},
	{"scan", "."},
	{"setup", "claude"},
}

func humanOnlyName(args []string) string {
	return "human-only-" + strings.Join(args[:min(2, len(args))], "-")
}

// withoutSocketVariable are tried again with $LLM_SECRETS_SOCKET removed:
// the sandbox alone must then refuse them (one of each way a command
// first reaches for the store or its files).
var withoutSocketVariable = []string{"macaroon", "set", "init", "profile", "migrate", "setup"}

func attackGitsafe(report func(string, bool, string), llms, store, work string) int {
	mode := os.Getenv(envAttackMode)
	if mode == "namespace" { // once: the human's commands and the planted config
		for _, args := range humanOnlyCommands {
			for _, unset := range []bool{false, true} {
				if unset && !slices.Contains(withoutSocketVariable, args[0]) {
					continue
				}
				name := humanOnlyName(args)
				env := append(os.Environ(), "LLM_SECRETS_DIR="+store)
				if unset {
					name += "-no-socket-variable"
					env = dropEnv(env, "LLM_SECRETS_SOCKET")
				}
				cmd := exec.Command(llms, args...)
				cmd.Env, cmd.Stdin = env, strings.NewReader("x\n")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				clean := len(lines) == 1 && strings.Contains(lines[0], "is for the human")
				report(name, err == nil, fmt.Sprintf("exit %d, one sentence: %v: %s", cmd.ProcessState.ExitCode(), clean, firstLineOf(stderr.String())))
			}
		}
		// A program the human's git would run, planted in the tree's
		// config.
		marks := os.Getenv(envAttackMarks)
		hook := filepath.Join(work, ".git", "fsmonitor-hook")
		err := os.WriteFile(hook, []byte("#!/bin/sh\n: > "+filepath.Join(marks, "fsmonitor")+"\n"), 0o755)
		if err == nil {
			cmd := exec.Command("git", "config", "core.fsmonitor", hook)
			cmd.Dir = work
			err = cmd.Run()
		}
		report("plant-core.fsmonitor", err == nil, errDetailOf(err))
	}

	// The agent's own temp dir: every right.
	tmpdir := os.Getenv("TMPDIR")
	report("TMPDIR-is-its-own", tmpdir != "" && !strings.HasPrefix(tmpdir, "/tmp"), tmpdir)
	sh := func(name, script string) {
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		report(name, err == nil, fmt.Sprintf("exit %d %s", cmd.ProcessState.ExitCode(), firstLineOf(string(out))))
	}
	sh("TMPDIR-write-rename-remove", `f="$TMPDIR/a" && echo x > "$f" && mv "$f" "$f.b" && rm "$f.b" && mkdir "$TMPDIR/d" && rmdir "$TMPDIR/d"`)
	sh("mktemp-d-and-rm-rf", `d=$(mktemp -d) && echo x > "$d/f" && rm -rf "$d" && test ! -e "$d"`)
	// What Claude Code's Bash tool does after each command.
	sh("claude-code-cwd-file", `f="$TMPDIR/claude-$$-cwd" && pwd -P >| "$f" && test -s "$f" && rm "$f"`)
	sh("TMPDIR-bind-socket", `python3 -c 'import os,socket; s=socket.socket(socket.AF_UNIX); p=os.environ["TMPDIR"]+"/s.sock"; s.bind(p); s.close(); os.unlink(p)'`)
	if os.Getenv(envAttackGoBuild) == "1" {
		start := time.Now()
		// A cache of its own for each view, under the home: the first
		// session of each builds the runtime into it.
		cmd := exec.Command("sh", "-c", `d="$TMPDIR/hello" && mkdir -p "$d" && cd "$d" && printf 'package main\nfunc main(){}\n' > main.go && printf 'module hello\ngo 1.22\n' > go.mod && go build -o hello . && ./hello && echo "$(go env GOCACHE)"`)
		cmd.Env = append(dropEnv(os.Environ(), "GOCACHE"), "GOFLAGS=", "GOCACHE="+filepath.Join(os.Getenv("HOME"), ".cache", "go-build-"+strings.TrimSuffix(mode, "-abi")))
		out, err := cmd.CombinedOutput()
		report("go-build-fresh-GOCACHE", err == nil, fmt.Sprintf("in %v, cache %s", time.Since(start).Round(time.Second), firstLineOf(string(out))))
	}

	// /tmp: it can always create and write; in its own /tmp (namespace)
	// remove and bind too.
	mode = strings.TrimSuffix(mode, "-abi")
	own := "/tmp/agent-" + mode
	err := os.WriteFile(own, []byte("x"), 0o600)
	report("tmp-create-write", err == nil, errDetailOf(err))
	err = os.Mkdir(own+".d", 0o700)
	report("tmp-mkdir", err == nil, errDetailOf(err))
	err = os.Remove(own)
	report("tmp-remove-own", err == nil, errDetailOf(err))
	err = bindSocket(own + ".sock")
	report("tmp-bind-socket", err == nil, errDetailOf(err))

	// The user's: a server's socket (tmux keeps /tmp/tmux-UID/default),
	// a file.
	user := os.Getenv(envAttackUserTmp)
	sock, notes := filepath.Join(user, "default"), filepath.Join(user, "notes")
	_, err = os.ReadFile(notes)
	report("user-tmp-read-file", err == nil, errDetailOf(err))
	f, err := os.OpenFile(notes, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString("agent\n")
		f.Close()
	}
	report("user-tmp-write-file", err == nil, errDetailOf(err))
	err = os.Rename(notes, notes+".moved")
	report("user-tmp-rename-file", err == nil, errDetailOf(err))
	err = os.Remove(sock)
	report("user-tmp-unlink-socket", err == nil, errDetailOf(err))
	// Replace it in one step: a socket of its own renamed over the user's.
	mine := filepath.Join(user, "mine.sock")
	err = bindSocket(mine)
	if err == nil {
		err = os.Rename(mine, sock)
	}
	report("user-tmp-replace-socket", err == nil, errDetailOf(err))
	err = bindSocket(filepath.Join(user, "squat.sock"))
	report("user-tmp-bind-beside", err == nil, errDetailOf(err))
	err = os.Symlink("/etc/hostname", filepath.Join(user, "link"))
	report("user-tmp-symlink", err == nil, errDetailOf(err))

	// stat of hidden paths: a secret's file tells its size (its value's
	// length) and when it was set.
	for _, p := range []string{filepath.Join(store, "identity.txt"), filepath.Join(store, "secrets", "K.age")} {
		fi, err := os.Stat(p)
		detail := errDetailOf(err)
		if err == nil {
			detail = fmt.Sprintf("size %d", fi.Size())
		}
		report("stat-hidden-"+filepath.Base(p), err == nil, detail)
	}
	return 0
}

// bindSocket makes a listening Unix socket at path, and closes it (the
// file stays).
func bindSocket(path string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Bind(fd, &unix.SockaddrUnix{Name: path})
}

func dropEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func errDetailOf(err error) string {
	if err == nil {
		return "succeeded"
	}
	var errno syscall.Errno
	if e, ok := err.(*os.PathError); ok {
		err = e.Err
	}
	if e, ok := err.(*os.LinkError); ok {
		err = e.Err
	}
	if e, ok := err.(*os.SyscallError); ok {
		err = e.Err
	}
	if e, ok := err.(syscall.Errno); ok {
		errno = e
		return fmt.Sprintf("errno %d (%s)", int(errno), errno.Error())
	}
	return err.Error()
}

// expectedGitsafe is each attempt's required outcome in a mode, and a part
// of its detail that says it failed for the right reason.
func expectedGitsafe(session string) map[string][2]string {
	mode := strings.TrimSuffix(session, "-abi")
	eacces, enoent := "errno 13", "errno 2"
	want := map[string][2]string{
		"TMPDIR-is-its-own":          {"allowed", "/llms-agent-"},
		"TMPDIR-write-rename-remove": {"allowed", ""},
		"mktemp-d-and-rm-rf":         {"allowed", ""},
		"claude-code-cwd-file":       {"allowed", ""},
		"TMPDIR-bind-socket":         {"allowed", ""},
		"tmp-create-write":           {"allowed", ""},
		"tmp-mkdir":                  {"allowed", ""},
		"user-tmp-unlink-socket":     {"refused", ""},
		"user-tmp-replace-socket":    {"refused", ""},
		"user-tmp-rename-file":       {"refused", ""},
		"user-tmp-bind-beside":       {"refused", ""},
		"user-tmp-symlink":           {"refused", ""},
	}
	if os.Getenv(envAttackGoBuild) == "1" {
		want["go-build-fresh-GOCACHE"] = [2]string{"allowed", "/.cache/go-build-" + mode}
	}
	if session == "namespace" {
		want["plant-core.fsmonitor"] = [2]string{"allowed", ""}
		for _, args := range humanOnlyCommands {
			want[humanOnlyName(args)] = [2]string{"refused", "exit 3, one sentence: true"}
			if slices.Contains(withoutSocketVariable, args[0]) {
				want[humanOnlyName(args)+"-no-socket-variable"] = [2]string{"refused", "exit 3, one sentence: true"}
			}
		}
	}
	if mode == "namespace" {
		// Its own /tmp: every right there, the user's out of sight, the
		// hidden paths covered.
		for k, v := range map[string][2]string{
			"tmp-remove-own": {"allowed", ""}, "tmp-bind-socket": {"allowed", ""},
			"user-tmp-read-file": {"refused", enoent}, "user-tmp-write-file": {"refused", enoent},
			"user-tmp-unlink-socket": {"refused", enoent}, "user-tmp-rename-file": {"refused", enoent},
			"stat-hidden-identity.txt": {"refused", eacces}, "stat-hidden-K.age": {"refused", eacces},
		} {
			want[k] = v
		}
		return want
	}
	// The shared /tmp: add, never take away or replace. What remains: the
	// user's files there can be read and written, and stat tells sizes.
	for k, v := range map[string][2]string{
		"tmp-remove-own": {"refused", eacces}, "tmp-bind-socket": {"refused", eacces},
		"user-tmp-read-file": {"allowed", ""}, "user-tmp-write-file": {"allowed", ""},
		"user-tmp-unlink-socket": {"refused", eacces}, "user-tmp-rename-file": {"refused", eacces},
		"user-tmp-replace-socket": {"refused", eacces}, "user-tmp-bind-beside": {"refused", eacces},
		"user-tmp-symlink":         {"refused", eacces},
		"stat-hidden-identity.txt": {"allowed", "size"}, "stat-hidden-K.age": {"allowed", "size"},
	} {
		want[k] = v
	}
	return want
}

// TestAgentModeAttacksGitsafe launches `llms agent` around the attack agent
// in its "gitsafe" phase — with a mount namespace, then with none (forced)
// — checks every attempt, the user's things in /tmp after, and runs the
// human's `llms scan --git` in the tree the agent wrote.
func TestAgentModeAttacksGitsafe(t *testing.T) {
	needLandlock(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "gitsafe-canary-" + hex.EncodeToString(raw)

	// Everything but the user's /tmp entries outside /tmp, as on a real
	// machine: a home under /tmp would keep /tmp from being the agent's.
	root, err := os.MkdirTemp("/var/tmp", "llms-gitsafe-test-")
	if err != nil {
		t.Skip("no /var/tmp:", err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	home, store, work, marks := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj"), filepath.Join(root, "marks")
	// A home as a real one is: ~/.cache exists (a tree the agent may write
	// is one that exists at launch).
	for _, d := range []string{home, filepath.Join(home, ".cache"), work, marks} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	user, err := os.MkdirTemp("/tmp", "llms-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(user) })
	const notesText = "the user's notes\n"
	mustDo(t, os.WriteFile(filepath.Join(user, "notes"), []byte(notesText), 0o600))
	server, err := net.Listen("unix", filepath.Join(user, "default"))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	serverIno := inode(t, filepath.Join(user, "default"))

	// The test binary is under /tmp: the agent could not run it from its
	// own /tmp. A copy (or a hard link) outside.
	bin := filepath.Join(root, "bin", "llms")
	agent := filepath.Join(root, "bin", attackAgentName)
	self, err := os.Executable()
	mustDo(t, err)
	mustDo(t, os.Mkdir(filepath.Dir(bin), 0o755))
	if err := os.Link(self, bin); err != nil {
		data, err := os.ReadFile(self)
		if err != nil || os.WriteFile(bin, data, 0o755) != nil {
			t.Fatal("copying the test binary:", err)
		}
	}
	if err := os.Symlink(bin, agent); err != nil {
		t.Fatal(err)
	}
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"), "GIT_CONFIG_NOSYSTEM=1",
		envAttackStore + "=" + store, envAttackHome + "=" + home, envAttackLLMS + "=" + bin, envAttackWork + "=" + work,
		envAttackMarks + "=" + marks, envAttackUserTmp + "=" + user, envAttackPhase + "=gitsafe"}
	if os.Getenv(envAttackGoBuild) == "1" {
		env = append(env, envAttackGoBuild+"=1")
	}
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	git := exec.Command("git", "init", "-q", "-b", "main")
	git.Dir, git.Env = work, env
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	mustDo(t, os.WriteFile(filepath.Join(work, "notes.txt"), []byte("nothing secret\n"), 0o600))

	// Each view at the kernel's ABI, then with the rule set forced down to
	// ABI 6, 4 and 1 (the human's commands only once: they do not depend
	// on it).
	type session struct {
		mode string
		abi  int
	}
	sessions := []session{{"namespace", sandbox.ABI()}, {"fallback", sandbox.ABI()}}
	for _, abi := range []int{6, 4, 1} {
		if abi < sandbox.ABI() {
			sessions = append(sessions, session{"namespace-abi", abi}, session{"fallback-abi", abi})
		}
	}
	var all bytes.Buffer
	for _, ss := range sessions {
		mode := strings.TrimSuffix(ss.mode, "-abi")
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, "agent", "--agent", "claude-code", "--secret", "K", "--ttl", "10m", "--cmd", "sh", "--landlock-abi", fmt.Sprint(ss.abi), "--", agent)
		cmd.Env, cmd.Dir = append(env, envAttackMode+"="+ss.mode), work
		if mode == "fallback" {
			cmd.Env = append(cmd.Env, "LLMS_TEST_NO_NAMESPACES=1")
		}
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("llms agent (%s, ABI %d): %v\nstderr: %s", mode, ss.abi, err, errb.String())
		}
		t.Logf("llms agent -- attackagent (gitsafe, %s, Landlock ABI %d): %v", mode, ss.abi, time.Since(start).Round(time.Millisecond))
		checkGitsafeAttempts(t, out.String(), expectedGitsafe(ss.mode))
		os.RemoveAll("/tmp/agent-fallback") // the fallback leaves what it made in /tmp
		os.RemoveAll("/tmp/agent-fallback.d")
		if note := strings.Contains(errb.String(), "no private /tmp for the agent"); note != (mode == "fallback") {
			t.Errorf("%s: the launch note of the fallback shown: %v\n%s", mode, note, errb.String())
		}
		all.WriteString(out.String() + errb.String())
		// The user's server still has its socket; the file is there.
		if ino := inode(t, filepath.Join(user, "default")); ino != serverIno {
			t.Errorf("%s: the user's socket was replaced", mode)
		}
		if c, err := net.Dial("unix", filepath.Join(user, "default")); err != nil {
			t.Errorf("%s: the user's server cannot be reached: %v", mode, err)
		} else {
			c.Close()
		}
		b, err := os.ReadFile(filepath.Join(user, "notes"))
		if err != nil || (mode == "namespace" && string(b) != notesText) {
			t.Errorf("%s: the user's notes: %q, %v", mode, b, err)
		}
		mustDo(t, os.WriteFile(filepath.Join(user, "notes"), []byte(notesText), 0o600)) // the fallback may write it
	}
	for _, p := range []string{"/tmp/agent-namespace", "/tmp/agent-namespace.d", "/tmp/agent-namespace.sock"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s: made in the agent's own /tmp, it is in the shared one", p)
		}
	}

	// The human scans the tree the agent wrote: the planted fsmonitor does
	// not run.
	scan := exec.Command(bin, "scan", "--git")
	scan.Dir, scan.Env = work, env
	if o, err := scan.CombinedOutput(); err != nil {
		t.Errorf("llms scan --git: %v\n%s", err, o)
	}
	if _, err := os.Stat(filepath.Join(marks, "fsmonitor")); err == nil {
		t.Error("the human's llms scan --git ran the fsmonitor the agent planted")
	}
	for _, form := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary))} {
		if strings.Contains(all.String(), form) {
			t.Error("the canary (or an encoding of it) appears in the output")
		}
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}

// checkGitsafeAttempts checks the attack agent's ATTEMPT lines against want, and
// logs one line per attempt.
func checkGitsafeAttempts(t *testing.T, out string, want map[string][2]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		name, got, detail := f[1], f[2], ""
		if len(f) == 4 {
			detail = f[3]
		}
		w, known := want[name]
		mark := "ok  "
		if !known || got != w[0] || !strings.Contains(detail, w[1]) {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s %s", name, got, detail, w[0], w[1])
		}
		seen[name] = true
		t.Logf("%s %-48s %-8s %s", mark, name, got, detail)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("attempt %s was not made", name)
		}
	}
}
