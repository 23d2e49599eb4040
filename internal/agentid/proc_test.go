package agentid

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type statVector struct {
	line     int
	ok       bool
	pid      int
	stat     []byte
	comm     string
	ppid     int
	fullLine string
}

// readStatVectors reads testdata/stat.txt; the fuzzer seeds from it too.
func readStatVectors(t testing.TB) []statVector {
	t.Helper()
	f, err := os.Open("testdata/stat.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []statVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(msg string) { t.Fatalf("stat.txt:%d: %s", n, msg) }
		fields := strings.Fields(line)
		if len(fields) < 3 {
			fail("too few fields")
		}
		v := statVector{line: n, fullLine: line, ok: fields[0] == "ok"}
		if !v.ok && fields[0] != "bad" {
			fail("verdict " + fields[0])
		}
		if v.pid, err = strconv.Atoi(fields[1]); err != nil {
			fail(err.Error())
		}
		rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(line[len(fields[0]):], " "), fields[1]), " ")
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			fail(err.Error())
		}
		s, _ := strconv.Unquote(q)
		v.stat = []byte(s)
		rest = strings.TrimLeft(rest[len(q):], " ")
		if v.ok {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				fail(err.Error())
			}
			v.comm, _ = strconv.Unquote(q)
			if v.ppid, err = strconv.Atoi(strings.TrimSpace(rest[len(q):])); err != nil {
				fail(err.Error())
			}
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 30 {
		t.Fatalf("only %d vectors read", len(vs))
	}
	return vs
}

func TestParseStatVectors(t *testing.T) {
	for _, v := range readStatVectors(t) {
		comm, ppid, err := parseStat(v.stat, v.pid)
		switch {
		case v.ok && err != nil:
			t.Errorf("stat.txt:%d: %v", v.line, err)
		case v.ok && (comm != v.comm || ppid != v.ppid):
			t.Errorf("stat.txt:%d: got (%q, %d), want (%q, %d)", v.line, comm, ppid, v.comm, v.ppid)
		case !v.ok && err == nil:
			t.Errorf("stat.txt:%d: accepted as (%q, %d)", v.line, comm, ppid)
		}
	}
}

func TestParseStatOfThisProcess(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	_, ppid, err := parseStat(b, os.Getpid())
	if err != nil {
		t.Fatalf("parseStat(/proc/self/stat): %v", err)
	}
	if ppid != os.Getppid() {
		t.Errorf("ppid = %d, want %d", ppid, os.Getppid())
	}
}

func FuzzParseStat(f *testing.F) {
	for _, v := range readStatVectors(f) {
		f.Add(v.stat, v.pid)
	}
	f.Fuzz(func(t *testing.T, stat []byte, pid int) {
		comm, ppid, err := parseStat(stat, pid)
		if err != nil {
			return
		}
		if len(comm) > maxComm || strings.IndexByte(comm, 0) >= 0 || ppid < 0 {
			t.Fatalf("accepted bad fields (%q, %d) from %q", comm, ppid, stat)
		}
		// What was accepted must begin with exactly the fields returned.
		prefix := fmt.Sprintf("%d (%s) ", pid, comm)
		if !strings.HasPrefix(string(stat), prefix) {
			t.Fatalf("%q does not start with %q", stat, prefix)
		}
		again := fmt.Sprintf("%s%c %d\n", prefix, stat[len(prefix)], ppid)
		c2, p2, err := parseStat([]byte(again), pid)
		if err != nil || c2 != comm || p2 != ppid {
			t.Fatalf("re-parse of %q = (%q, %d, %v), want (%q, %d)", again, c2, p2, err, comm, ppid)
		}
	})
}

// fakeProc is one process of a fake /proc tree. exe and cmdline are
// optional; a stat of "" is written as a well-formed line.
type fakeProc struct {
	pid, ppid int
	comm      string
	exe       string
	cmdline   []string
	stat      string
}

func makeProc(t *testing.T, procs ...fakeProc) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(p.pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := p.stat
		if stat == "" {
			stat = fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 0 0\n", p.pid, p.comm, p.ppid, p.pid, p.pid)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if p.exe != "" {
			// A dangling link is fine: only its target text is read.
			if err := os.Symlink(p.exe, filepath.Join(dir, "exe")); err != nil {
				t.Fatal(err)
			}
		}
		if p.cmdline != nil {
			b := strings.Join(p.cmdline, "\x00") + "\x00"
			if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func noEnv(string) (string, bool) { return "", false }

func TestProcessTree(t *testing.T) {
	init1 := fakeProc{pid: 1, comm: "systemd", exe: "/usr/lib/systemd/systemd", cmdline: []string{"/sbin/init"}}
	shell := fakeProc{pid: 90, ppid: 80, comm: "bash", exe: "/usr/bin/bash", cmdline: []string{"/bin/bash", "-c", "llms exec"}}
	llms := fakeProc{pid: 100, ppid: 90, comm: "llms", exe: "/usr/local/bin/llms", cmdline: []string{"llms", "exec"}}
	at80 := func(p fakeProc) fakeProc { p.pid, p.ppid = 80, 1; return p }

	tests := []struct {
		name       string
		procs      []fakeProc
		wantAgent  string
		wantSource string
	}{
		{"comm", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "claude"})},
			"claude-code", "process:claude (pid 80)"},
		{"exe of a renamed process", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "tokio-runtime-w", exe: "/opt/codex/bin/codex"})},
			"codex", "process:codex (pid 80)"},
		{"deleted exe", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "x", exe: "/home/u/.local/bin/cursor-agent (deleted)"})},
			"cursor", "process:cursor-agent (pid 80)"},
		{"argv0", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "MainThread", cmdline: []string{"/home/u/.local/bin/opencode", "run"}})},
			"opencode", "process:opencode (pid 80)"},
		{"python console script", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "python3", exe: "/usr/bin/python3.12", cmdline: []string{"/usr/bin/python3", "/home/u/.local/bin/aider", "--yes"}})},
			"aider", "process:aider (pid 80)"},
		{"python -m", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "python3.12", cmdline: []string{"python3.12", "-m", "aider"}})},
			"aider", "process:aider (pid 80)"},
		{"node bin script", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "node", exe: "/usr/bin/node", cmdline: []string{"node", "--no-warnings", "/usr/local/bin/gemini"}})},
			"gemini", "process:gemini (pid 80)"},
		{"node package", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "node", exe: "/usr/bin/node", cmdline: []string{"node", "/usr/lib/node_modules/@continuedev/cli/dist/index.js"}})},
			"continue", "process:@continuedev/cli (pid 80)"},
		{"unscoped node package", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "node", cmdline: []string{"/usr/bin/node", "/x/node_modules/opencode-ai/bin/run.js"}})},
			"opencode", "process:opencode-ai (pid 80)"},
		{"bun package", []fakeProc{init1, llms, shell, at80(fakeProc{comm: "bun", cmdline: []string{"bun", "/x/node_modules/@anthropic-ai/claude-code/cli.js"}})},
			"claude-code", "process:@anthropic-ai/claude-code (pid 80)"},
		{"nearest agent first", []fakeProc{init1, llms,
			{pid: 90, ppid: 80, comm: "aider"},
			at80(fakeProc{comm: "claude"})},
			"aider", "process:aider (pid 90)"},
		{"the starting process itself", []fakeProc{init1, {pid: 100, ppid: 1, comm: "gemini"}},
			"gemini", "process:gemini (pid 100)"},
		{"agent as pid 1 in a container", []fakeProc{{pid: 1, comm: "claude"}, {pid: 100, ppid: 1, comm: "llms"}},
			"claude-code", "process:claude (pid 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := makeProc(t, tt.procs...)
			r, ok := Detect(noEnv, root, 100)
			if !ok || r.Findings[0] != (Finding{tt.wantAgent, tt.wantSource}) {
				t.Errorf("Detect = %+v, %v; want {%s %s}", r, ok, tt.wantAgent, tt.wantSource)
			}
		})
	}
}

// Every agent in the ancestry counts, not only the nearest: codex started
// by claude is both.
func TestProcessTreeFindsEveryAgent(t *testing.T) {
	root := makeProc(t,
		fakeProc{pid: 100, ppid: 90, comm: "llms"},
		fakeProc{pid: 90, ppid: 85, comm: "codex"},
		fakeProc{pid: 85, ppid: 80, comm: "bash"},
		fakeProc{pid: 80, ppid: 70, comm: "claude"},
		fakeProc{pid: 70, ppid: 1, comm: "claude"},
		fakeProc{pid: 1, comm: "init"})
	r, _ := Detect(noEnv, root, 100)
	want := []Finding{{"codex", "process:codex (pid 90)"}, {"claude-code", "process:claude (pid 80)"}}
	if !slices.Equal(r.Findings, want) {
		t.Errorf("Detect = %+v, want %+v", r.Findings, want)
	}
}

func TestProcessTreeFindsNothing(t *testing.T) {
	tests := []struct {
		name  string
		procs []fakeProc
	}{
		{"plain shell", []fakeProc{
			{pid: 1, comm: "systemd"},
			{pid: 90, ppid: 1, comm: "bash", exe: "/usr/bin/bash", cmdline: []string{"-bash"}},
			{pid: 100, ppid: 90, comm: "llms"}}},
		{"node running something else", []fakeProc{
			{pid: 1, comm: "systemd"},
			{pid: 90, ppid: 1, comm: "node", cmdline: []string{"node", "/srv/node_modules/express/index.js"}},
			{pid: 100, ppid: 90, comm: "llms"}}},
		{"names only as arguments of a non-interpreter", []fakeProc{
			{pid: 1, comm: "systemd"},
			{pid: 90, ppid: 1, comm: "vim", cmdline: []string{"vim", "claude"}},
			{pid: 100, ppid: 90, comm: "llms"}}},
		{"walk stops at pid 1", []fakeProc{
			{pid: 1, ppid: 5, comm: "init"},
			{pid: 5, ppid: 0, comm: "claude"},
			{pid: 100, ppid: 1, comm: "llms"}}},
		{"missing parent", []fakeProc{{pid: 100, ppid: 90, comm: "llms"}}},
		{"no such pid", nil},
		{"parent loop", []fakeProc{
			{pid: 100, ppid: 90, comm: "llms"},
			{pid: 90, ppid: 100, comm: "bash"}}},
		{"self loop", []fakeProc{{pid: 100, ppid: 100, comm: "llms"}}},
		{"garbage stat", []fakeProc{{pid: 100, stat: "\x00\xff garbage"}}},
		{"stat of another pid", []fakeProc{{pid: 100, stat: "80 (claude) S 1 1 1\n"}}},
		{"comm forging a parent", []fakeProc{
			// A process named "x) S 80" must not send the walk to pid 80.
			{pid: 100, stat: "100 (x) S 80) S 90 1 1\n"},
			{pid: 90, ppid: 1, comm: "bash"},
			{pid: 80, ppid: 1, comm: "claude"}}},
		{"oversized stat", []fakeProc{{pid: 100, stat: "100 (llms) S 80 " + strings.Repeat("1 ", maxStat)}, {pid: 80, comm: "claude"}}},
		{"garbage in an ancestor ends the walk", []fakeProc{
			{pid: 100, ppid: 90, comm: "llms"},
			{pid: 90, stat: "90 (bash) S"},
			{pid: 80, comm: "claude"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := makeProc(t, tt.procs...)
			if r, ok := Detect(noEnv, root, 100); ok {
				t.Errorf("Detect = %+v, want nothing", r)
			}
		})
	}
}

func TestProcessTreeDepthBound(t *testing.T) {
	// A chain 100 → 101 → … with an agent at a given depth (0 = pid 100),
	// ending in a parent that does not exist.
	chain := func(length, agentDepth int) []fakeProc {
		var procs []fakeProc
		for d := 0; d < length; d++ {
			p := fakeProc{pid: 100 + d, ppid: 101 + d, comm: "sh"}
			if d == agentDepth {
				p.comm = "claude"
			}
			procs = append(procs, p)
		}
		return procs
	}
	if r, ok := Detect(noEnv, makeProc(t, chain(maxDepth, maxDepth-1)...), 100); !ok || !slices.Equal(r.Agents(), []string{"claude-code"}) {
		t.Errorf("agent at depth %d: Detect = %+v, %v; want claude", maxDepth-1, r, ok)
	}
	if r, ok := Detect(noEnv, makeProc(t, chain(maxDepth-1, -1)...), 100); ok {
		t.Errorf("a chain of %d without an agent: Detect = %+v, want nothing", maxDepth-1, r)
	}
	// Nesting deeper than the walk goes must not hide an agent: it counts
	// as one.
	if r, ok := Detect(noEnv, makeProc(t, chain(maxDepth+5, maxDepth+2)...), 100); !ok || !slices.Equal(r.Agents(), []string{Unknown}) {
		t.Errorf("a chain deeper than %d: Detect = %+v, %v; want unknown", maxDepth, r, ok)
	}
}

func TestNPMPackage(t *testing.T) {
	tests := map[string]string{
		"/usr/lib/node_modules/@google/gemini-cli/dist/index.js": "@google/gemini-cli",
		"/x/node_modules/cline/bin/cline":                        "cline",
		"/x/node_modules/a/node_modules/@openai/codex/bin.js":    "@openai/codex",
		"/x/node_modules/@scope":                                 "@scope",
		"/usr/local/bin/gemini":                                  "",
		"":                                                       "",
	}
	for in, want := range tests {
		if got := npmPackage(in); got != want {
			t.Errorf("npmPackage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescends(t *testing.T) {
	root := makeProc(t,
		fakeProc{pid: 1, comm: "systemd"},
		fakeProc{pid: 50, ppid: 1, comm: "llms"},    // the launcher
		fakeProc{pid: 60, ppid: 50, comm: "claude"}, // the agent
		fakeProc{pid: 70, ppid: 60, comm: "bash"},
		fakeProc{pid: 80, ppid: 1, comm: "bash"}, // elsewhere
		fakeProc{pid: 90, ppid: 91, comm: "loop"},
		fakeProc{pid: 91, ppid: 90, comm: "loop"},
		fakeProc{pid: 95, ppid: 50, stat: "95 (x) S fifty\n"},
	)
	for _, c := range []struct {
		pid  int
		want bool
	}{{50, true}, {60, true}, {70, true}, {80, false}, {1, false}, {90, false}, {95, false}, {12345, false}} {
		if got := Descends(root, c.pid, 50); got != c.want {
			t.Errorf("Descends(%d, 50) = %v, want %v", c.pid, got, c.want)
		}
	}
	if !Descends("", os.Getpid(), os.Getppid()) || Descends("", os.Getppid(), os.Getpid()) {
		t.Error("the real /proc: we descend from our parent, not the other way round")
	}
}

// readBounded reads a file of up to limit bytes whole, however many reads
// it takes, and refuses a longer one.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 4095, 4096} {
		data := bytes.Repeat([]byte{'x'}, size)
		name := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readBounded(name, 4096)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: got %d bytes, %v", size, len(got), err)
		}
		if _, err := readBounded(name, int64(size)-1); size > 0 && !errors.Is(err, errTooLong) {
			t.Errorf("%d bytes, limit %d: err = %v, want errTooLong", size, size-1, err)
		}
	}
	if _, err := readBounded(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}
