package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Attacks on a pinned program: a token pinned to printenv, date and tput,
// and an agent that makes the pinned program run its own code or load its
// own data. An attempt is "allowed" when that worked: its program ran, or
// the pinned program loaded its catalogue, time zone or terminal
// description. Every child's output is kept in out-*.txt in the working
// tree, where the test looks for the value.

// pinnedPrograms are what the token of the attack session pins.
var pinnedPrograms = []string{"date", "printenv", "tput"}

// catalogueMsgid is the message printenv prints for an unknown option
// (coreutils), which the agent's catalogue translates.
const catalogueMsgid = "Try '%s --help' for more information.\n"

// catalogueMarker starts every translation of the agent's catalogue.
const catalogueMarker = "CATALOGUE-LOADED"

// moFile is a GNU message catalogue with the header and one translation.
func moFile(msgid, msgstr string) []byte {
	ids := []string{"", msgid}
	strs := []string{"Content-Type: text/plain; charset=UTF-8\n", msgstr}
	const header = 28
	n := len(ids)
	origTab, transTab := header, header+8*n
	data := transTab + 8*n
	var tables, blob []byte
	put := func(list []string) {
		for _, s := range list {
			tables = binary.LittleEndian.AppendUint32(tables, uint32(len(s)))
			tables = binary.LittleEndian.AppendUint32(tables, uint32(data+len(blob)))
			blob = append(append(blob, s...), 0)
		}
	}
	put(ids)
	put(strs)
	var out []byte
	for _, v := range []uint32{0x950412de, 0, uint32(n), uint32(origTab), uint32(transTab), 0, 0} {
		out = binary.LittleEndian.AppendUint32(out, v)
	}
	return append(append(out, tables...), blob...)
}

// catalogueAttack plants coreutils.mo under dir and has the pinned
// printenv print its usage hint, once to find the environment among its
// arguments (the translation prints the stack), once to print every prefix
// of every variable — a value cut short is a form redaction cannot know.
// run executes `llms exec -i P=K -- printenv --bogus` with the variables
// given added and returns its output. loaded reports whether the pinned
// program read the catalogue; outputs are everything it printed.
func catalogueAttack(dir string, extraEnv []string, run func(env []string) string) (loaded bool, outputs []string) {
	msgDir := filepath.Join(dir, "cat", "LC_MESSAGES")
	if err := os.MkdirAll(msgDir, 0o755); err != nil {
		return false, nil
	}
	// gettext looks in /usr/share/locale/LANGUAGE/LC_MESSAGES.
	language := "LANGUAGE=../../.." + filepath.Join(dir, "cat")
	env := append([]string{"LANG=C.UTF-8", language}, extraEnv...)
	stage := func(msgstr string) string {
		os.WriteFile(filepath.Join(msgDir, "coreutils.mo"), moFile(catalogueMsgid, msgstr), 0o644)
		out := run(env)
		outputs = append(outputs, out)
		return out
	}
	var dump strings.Builder
	dump.WriteString(catalogueMarker + " %1$s")
	for i := 2; i <= 200; i++ {
		fmt.Fprintf(&dump, " %d:%%%d$p", i, i)
	}
	out := stage(dump.String() + "\n")
	if !strings.Contains(out, catalogueMarker) {
		return false, outputs
	}
	// argc (2), argv[0], argv[1], NULL, then the environment up to NULL.
	vals := map[int]string{}
	for _, f := range strings.Fields(out) {
		if i, v, ok := strings.Cut(f, ":"); ok {
			if n, err := strconv.Atoi(i); err == nil {
				vals[n] = v
			}
		}
	}
	first, last := 0, 0
	for i := 2; i <= 196; i++ {
		if vals[i] == "0x2" && strings.HasPrefix(vals[i+1], "0x") && strings.HasPrefix(vals[i+2], "0x") && vals[i+3] == "(nil)" {
			first = i + 4
			for last = first; strings.HasPrefix(vals[last+1], "0x"); last++ {
			}
			break
		}
	}
	if first == 0 {
		return true, outputs
	}
	var prefixes strings.Builder
	prefixes.WriteString(catalogueMarker + " %1$s")
	for i := 2; i < first; i++ {
		fmt.Fprintf(&prefixes, " %%%d$p", i)
	}
	for i := first; i <= last; i++ {
		prefixes.WriteString(" [")
		for n := 1; n <= 80; n++ {
			fmt.Fprintf(&prefixes, "%%%d$.%ds|", i, n)
		}
		prefixes.WriteString("]")
	}
	stage(prefixes.String() + "\n")
	return true, outputs
}

// attackPins is the attack agent's phase "pins".
func attackPins(llms, work string, report func(name string, allowed bool, detail string)) int {
	n := 0
	// setupErr is the first preparation that failed: the attempts that
	// needed it would be refused for that reason alone.
	var setupErr error
	prepare := func(err error) {
		if setupErr == nil {
			setupErr = err
		}
	}
	// run runs llms in dir with env added, keeping its output in the tree.
	run := func(dir string, env []string, args ...string) (string, int) {
		cmd := exec.Command(llms, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Dir = dir
		var o bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &o
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		n++
		prepare(os.WriteFile(filepath.Join(work, fmt.Sprintf("out-%02d.txt", n)), o.Bytes(), 0o600))
		return o.String(), code
	}
	firstLine := func(s string) string {
		s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
		if len(s) > 120 {
			s = s[:120]
		}
		return s
	}
	// The agent's own printenv, which prints the value reversed (a form
	// redaction does not know), and a link to another pinned program.
	bin := filepath.Join(work, "bin")
	prepare(os.MkdirAll(bin, 0o755))
	prepare(os.WriteFile(filepath.Join(bin, "printenv"), []byte("#!/bin/sh\necho AGENT-PROGRAM; printf '%s\\n' \"$P\" | rev\n"), 0o755))
	links := filepath.Join(work, "links")
	prepare(os.MkdirAll(links, 0o755))
	prepare(os.Symlink("/usr/bin/date", filepath.Join(links, "printenv")))
	path := "PATH=" + os.Getenv("PATH")
	ran := func(name, dir string, env []string, args ...string) {
		out, code := run(dir, env, args...)
		report(name, strings.Contains(out, "AGENT-PROGRAM") || strings.Contains(out, "AGENT-LINK"), fmt.Sprintf("exit %d: %s", code, firstLine(out)))
	}
	// The pinned program itself, as the token allows it.
	out, code := run(work, nil, "exec", "-i", "P=K", "--", "printenv", "P")
	report("pinned-printenv-runs", strings.Contains(out, "[REDACTED:K]"), fmt.Sprintf("exit %d: %s", code, firstLine(out)))
	ran("pin-PATH=./bin-first", work, []string{"PATH=" + bin + ":" + os.Getenv("PATH")}, "exec", "-i", "P=K", "--", "printenv", "P")
	ran("pin-cd-bin-PATH=.", bin, []string{"PATH=.:" + os.Getenv("PATH")}, "exec", "-i", "P=K", "--", "printenv", "P")
	ran("pin-./bin/printenv", work, nil, "exec", "-i", "P=K", "--", "./bin/printenv", "P")
	ran("pin-link-in-tree", work, nil, "exec", "-i", "P=K", "--", "./links/printenv", "+AGENT-LINK")

	// The agent's message catalogue, through LANGUAGE.
	loaded, _ := catalogueAttack(work, []string{path}, func(env []string) string {
		out, _ := run(work, env, "exec", "-i", "P=K", "--", "printenv", "--bogus")
		return out
	})
	report("pin-LANGUAGE=../../..", loaded, fmt.Sprintf("catalogue read: %v", loaded))

	// A locale named by path: its LC_MESSAGES with the catalogue beside.
	loc := filepath.Join(work, "locale")
	if err := copyTree("/usr/lib/locale/C.utf8", loc); err == nil {
		prepare(os.WriteFile(filepath.Join(loc, "LC_MESSAGES", "coreutils.mo"), moFile(catalogueMsgid, catalogueMarker+" %s\n"), 0o644))
	}
	for _, a := range []struct{ name, env string }{
		{"pin-LANG=/abs", "LANG=" + loc},
		{"pin-LANG=/../..", "LANG=/../../.." + loc},
		{"pin-LC_MESSAGES=/abs", "LC_MESSAGES=/../../.." + loc},
		{"pin-LC_ALL=rel", "LC_ALL=../../../.." + loc},
	} {
		out, code := run(work, []string{"LANG=C.UTF-8", a.env}, "exec", "-i", "P=K", "--", "printenv", "--bogus")
		report(a.name, strings.Contains(out, catalogueMarker), fmt.Sprintf("exit %d", code))
	}

	// The agent's time zone file: its abbreviation is PWN.
	zone := filepath.Join(work, "zone")
	if utc, err := os.ReadFile("/usr/share/zoneinfo/UTC"); err == nil {
		prepare(os.WriteFile(zone, bytes.ReplaceAll(utc, []byte("UTC"), []byte("PWN")), 0o644))
	}
	for _, a := range []struct{ name, tz string }{
		{"pin-TZ=:/path", ":" + zone},
		{"pin-TZ=/path", zone},
		{"pin-TZ=../path", "../../../.." + zone},
	} {
		out, code := run(work, []string{"TZ=" + a.tz}, "exec", "-i", "P=K", "--", "date", "+%Z")
		report(a.name, strings.Contains(out, "PWN"), fmt.Sprintf("exit %d: %s", code, firstLine(out)))
	}

	// The agent's terminal description, compiled by tic: its clear
	// string is a marker.
	ti := filepath.Join(work, "ti")
	src := filepath.Join(work, "pwn.ti")
	prepare(os.WriteFile(src, []byte("pwn|pwned terminal,\n\tclear=AGENT-TERMINFO,\n"), 0o644))
	tic := exec.Command("tic", "-o", ti, src)
	if err := tic.Run(); err == nil {
		home := filepath.Join(work, "tihome")
		copyTree(ti, filepath.Join(home, ".terminfo"))
		for _, a := range []struct {
			name string
			env  []string
		}{
			{"pin-TERMINFO=./ti", []string{"TERM=pwn", "TERMINFO=" + ti}},
			{"pin-TERMINFO_DIRS=./ti", []string{"TERM=pwn", "TERMINFO_DIRS=" + ti}},
			{"pin-HOME=tree(~/.terminfo)", []string{"TERM=pwn", "HOME=" + home}},
		} {
			out, code := run(work, a.env, "exec", "-i", "P=K", "--", "tput", "clear")
			report(a.name, strings.Contains(out, "AGENT-TERMINFO"), fmt.Sprintf("exit %d", code))
		}
	} else {
		report("pin-TERMINFO=./ti", false, "tic is not installed")
	}
	if setupErr != nil {
		return setupFailed(setupErr)
	}
	return 0
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
}

// canaryForms are the value and what would betray it: its encodings, its
// reverse, and a prefix long enough to hold most of its random part.
func canaryForms(canary string) []string {
	rev := []byte(canary)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)), hex.EncodeToString([]byte(canary)),
		string(rev), canary[:len(canary)-4]}
}

// TestAgentModeAttacksPins launches `llms agent` with a token pinned to
// printenv, date and tput around the attack agent, at this kernel's
// Landlock ABI and at 6, 4 and 1: every attempt must be refused at each,
// and no form of the value may appear anywhere. Nothing here depends on
// the ABI: the checks are the broker's, outside the sandbox.
func TestAgentModeAttacksPins(t *testing.T) { atEachAttackABI(t, agentModeAttacksPins) }

// agentModeAttacksPins runs the pins phase confined at Landlock ABI abi.
func agentModeAttacksPins(t *testing.T, abi int) {
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "pin-canary-" + hex.EncodeToString(raw)

	root := t.TempDir()
	home, store, work, tmp := filepath.Join(root, "home"), filepath.Join(root, "store"), filepath.Join(root, "proj"), filepath.Join(root, "tmp")
	for _, d := range []string{home, work, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := llmsBin(t)
	agent := attackAgentPath(t, bin)
	env := []string{"LLM_SECRETS_DIR=" + store, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "TMPDIR=" + tmp, "GORACE=atexit_sleep_ms=0",
		"LLMS_TEST_PROCROOT=" + filepath.Join(root, ".proc"),
		envAttackStore + "=" + store, envAttackHome + "=" + home, envAttackLLMS + "=" + bin, envAttackWork + "=" + work,
		envAttackPhase + "=pins"}
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")

	args := []string{"agent", "--agent", "claude-code", "--landlock-abi", strconv.Itoa(abi), "--secret", "K", "--ttl", "10m"}
	for _, p := range pinnedPrograms {
		args = append(args, "--cmd", p)
	}
	cmd := exec.Command(bin, append(args, "--", agent)...)
	cmd.Env, cmd.Dir = env, work
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("llms %v: %v\nstderr: %s", args, err, errb.String())
	}
	t.Logf("llms %s -- attackagent: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))

	attempts := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 || f[0] != "ATTEMPT" {
			t.Errorf("unexpected agent output line %q", line)
			continue
		}
		attempts++
		want := "refused"
		if f[1] == "pinned-printenv-runs" {
			want = "allowed"
		}
		mark := "ok  "
		if f[2] != want {
			mark = "FAIL"
			t.Errorf("%s: %s (%s), want %s", f[1], f[2], strings.Join(f[3:], " "), want)
		}
		t.Logf("%s %-32s %-8s %s", mark, f[1], f[2], strings.Join(f[3:], " "))
	}
	if attempts < 12 {
		t.Errorf("the agent made %d attempts, want at least 12", attempts)
	}

	audit := mustRun(t, bin, env, "", "audit")
	texts := map[string]string{"agent stdout": out.String(), "agent stderr": errb.String(), "audit": audit}
	files, _ := filepath.Glob(filepath.Join(work, "out-*.txt"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		mustDo(t, err)
		texts[filepath.Base(f)] = string(b)
	}
	for where, text := range texts {
		for _, form := range canaryForms(canary) {
			if strings.Contains(text, form) {
				t.Errorf("%s holds a form of the value (%d bytes of it)", where, len(form))
			}
		}
	}
}

// TestPinnedProgramReadsNoCatalogue is the catalogue attack outside agent
// mode, against a real printenv pinned by a token: the agent's LANGUAGE
// names its own coreutils.mo, whose translation prints every prefix of
// every variable.
func TestPinnedProgramReadsNoCatalogue(t *testing.T) {
	if _, err := exec.LookPath("printenv"); err != nil {
		t.Skip("printenv is not installed")
	}
	raw := make([]byte, 12)
	rand.Read(raw)
	canary := "pin-canary-" + hex.EncodeToString(raw)
	root := t.TempDir()
	bin := llmsBin(t)
	env := llmsEnv(filepath.Join(root, "store"))
	mustRun(t, bin, env, "", "init")
	mustRun(t, bin, env, canary, "set", "--stdin", "K")
	mustRun(t, bin, env, "", "session-start", "--ttl", "1h")
	tok := filepath.Join(root, "token")
	mustDo(t, os.WriteFile(tok, []byte(mustRun(t, bin, env, "", "macaroon", "mint", "--secret", "K", "--ttl", "5m", "--cmd", "printenv")), 0o600))
	agent := append(env, "CLAUDECODE=1", "LLM_SECRETS_MACAROON_FILE="+tok)
	var warnings []string
	loaded, outputs := catalogueAttack(root, nil, func(extra []string) string {
		out, errs, _ := run(t, bin, append(slices.Clone(agent), extra...), "", "exec", "-i", "P=K", "--", "printenv", "--bogus")
		warnings = append(warnings, errs)
		return out + errs
	})
	if loaded {
		t.Error("the pinned printenv read the agent's message catalogue")
	}
	if !strings.Contains(strings.Join(warnings, ""), "LANGUAGE is not passed to the pinned program") {
		t.Error("no warning that LANGUAGE was dropped")
	}
	for _, out := range outputs {
		for _, form := range canaryForms(canary) {
			if strings.Contains(out, form) {
				t.Errorf("printenv's output holds a form of the value (%d bytes of it)", len(form))
			}
		}
	}
}
