package agentid

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	// maxDepth bounds the walk: real trees are a dozen deep, and a forged
	// or racing /proc must not keep us reading. Reaching it is itself a
	// signal: nesting processes until the walk gives up must not make an
	// agent look like the human, so a deeper tree counts as an agent.
	maxDepth = 1024
	// maxStat and maxCmdline bound reads; a real stat line is a few hundred
	// bytes, and argv[0] and the script come first in cmdline.
	maxStat    = 4096
	maxCmdline = 8192
	// maxComm is the kernel's extended comm length: kernel threads may show
	// names longer than TASK_COMM_LEN in stat.
	maxComm = 64
)

// agentPrograms maps the program names agents run as to agent names. The
// names are those their installers put on PATH; Claude Code's node build
// also sets its process title to "claude".
var agentPrograms = map[string]string{
	"claude":       "claude-code",
	"codex":        "codex",
	"gemini":       "gemini",
	"copilot":      "github-copilot",
	"cursor-agent": "cursor",
	"opencode":     "opencode",
	"amp":          "amp",
	"cline":        "cline",
	"auggie":       "augment",
	"aider":        "aider",
	"cn":           "continue",
}

// agentPackages maps the npm packages of node-based agents, for when the
// process is "node /…/node_modules/<package>/….js".
var agentPackages = map[string]string{
	"@anthropic-ai/claude-code": "claude-code",
	"@openai/codex":             "codex",
	"@google/gemini-cli":        "gemini",
	"@github/copilot":           "github-copilot",
	"opencode-ai":               "opencode",
	"@sourcegraph/amp":          "amp",
	"cline":                     "cline",
	"@augmentcode/auggie":       "augment",
	"@continuedev/cli":          "continue",
}

// walkProcesses adds every agent among pid and its ancestors, nearest
// first. Any file it cannot read or parse ends the walk: a process that
// exited mid-walk, or a /proc it does not understand, adds nothing further
// rather than a guess.
func walkProcesses(r *Result, procRoot string, pid int) {
	seen := make(map[int]bool, 16)
	for depth := 0; pid > 0 && !seen[pid]; depth++ {
		seen[pid] = true
		dir := filepath.Join(procRoot, strconv.Itoa(pid))
		stat, err := readBounded(filepath.Join(dir, "stat"), maxStat)
		if err != nil {
			return
		}
		if depth == maxDepth {
			r.add(Finding{Agent: Unknown, Source: fmt.Sprintf("process: ancestry deeper than %d levels", maxDepth)})
			return
		}
		comm, ppid, err := parseStat(stat, pid)
		if err != nil {
			return
		}
		if agent, name, ok := identify(dir, comm); ok {
			r.add(Finding{Agent: agent, Source: fmt.Sprintf("process:%s (pid %d)", name, pid)})
		}
		if pid == 1 {
			return
		}
		pid = ppid
	}
}

// identify matches one process against the known agent programs. The
// matched name reported is always one of ours, never raw process data.
func identify(dir, comm string) (agent, name string, ok bool) {
	names := []string{comm}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		names = append(names, path.Base(strings.TrimSuffix(exe, " (deleted)")))
	}
	args := readCmdline(dir)
	if len(args) > 0 {
		names = append(names, path.Base(args[0]))
	}
	for _, n := range names {
		if a, ok := agentPrograms[n]; ok {
			return a, n, true
		}
	}
	if !slices.ContainsFunc(names, isInterpreter) {
		return "", "", false
	}
	script := scriptArg(args)
	if a, ok := agentPrograms[path.Base(script)]; ok {
		return a, path.Base(script), true
	}
	if pkg := npmPackage(script); pkg != "" {
		if a, ok := agentPackages[pkg]; ok {
			return a, pkg, true
		}
	}
	return "", "", false
}

func isInterpreter(name string) bool {
	switch name {
	case "node", "nodejs", "bun", "python", "python3":
		return true
	}
	return strings.HasPrefix(name, "python3.")
}

// scriptArg returns the first argument after the interpreter that is not an
// option: the script, or for "python -m aider" the module.
func scriptArg(args []string) string {
	for _, a := range args[min(1, len(args)):] {
		if a != "" && a[0] != '-' {
			return a
		}
	}
	return ""
}

// npmPackage returns the package a script lives in, from its last
// node_modules component: "@scope/name" or "name".
func npmPackage(script string) string {
	const dir = "/node_modules/"
	i := strings.LastIndex(script, dir)
	if i < 0 {
		return ""
	}
	parts := strings.SplitN(script[i+len(dir):], "/", 3)
	if strings.HasPrefix(parts[0], "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

func readCmdline(dir string) []string {
	b, err := readBounded(filepath.Join(dir, "cmdline"), maxCmdline)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

var errTooLong = errors.New("file longer than expected")

// readBounded reads a /proc file of at most limit bytes with plain system
// calls: os.Open would first try to register each file with the runtime's
// poller, which refuses it — five more calls per file, for every ancestor
// of every command.
func readBounded(name string, limit int64) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, min(limit+1, 512))
	for int64(len(b)) <= limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(limit+1, int64(2*cap(b))))-len(b))
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
	return nil, errTooLong
}

// parseStat reads the command name and parent pid from /proc/<pid>/stat:
//
//	<pid> (<comm>) <state> <ppid> …
//
// comm is whatever the process named itself and may hold spaces and ')',
// so it ends at the last ')' of the line; no later field can hold one. The
// line must be for wantPID, in exactly this shape, or it is refused.
func parseStat(stat []byte, wantPID int) (comm string, ppid int, err error) {
	pidField, rest, ok := bytes.Cut(stat, []byte(" ("))
	if !ok {
		return "", 0, errors.New("stat: no command name")
	}
	if pid, ok := parseDecimal(pidField); !ok || pid != wantPID {
		return "", 0, fmt.Errorf("stat: not the line of pid %d", wantPID)
	}
	end := bytes.LastIndexByte(rest, ')')
	if end < 0 {
		return "", 0, errors.New("stat: unterminated command name")
	}
	name, rest := rest[:end], rest[end+1:]
	if len(name) > maxComm || bytes.IndexByte(name, 0) >= 0 {
		return "", 0, errors.New("stat: malformed command name")
	}
	// rest is " <state> <ppid>" then optionally " <more fields…>".
	if len(rest) < 4 || rest[0] != ' ' || !isStateLetter(rest[1]) || rest[2] != ' ' {
		return "", 0, errors.New("stat: malformed state")
	}
	ppidField := rest[3:]
	if i := bytes.IndexAny(ppidField, " \n"); i >= 0 {
		ppidField = ppidField[:i]
	}
	p, ok := parseDecimal(ppidField)
	if !ok {
		return "", 0, errors.New("stat: malformed parent pid")
	}
	return string(name), p, nil
}

func isStateLetter(b byte) bool { return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') }

// parseDecimal accepts a canonical non-negative decimal that fits a pid:
// no sign, no leading zero, at most 10 digits.
func parseDecimal(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 1<<31-1
}

// ForProgram is the agent that runs as a program of this name (a path's
// base name counts), as the process-tree walk names it.
func ForProgram(name string) (string, bool) {
	id, ok := agentPrograms[filepath.Base(name)]
	return id, ok
}

// Descends reports whether pid is ancestor or one of its descendants,
// walking parent links in procRoot ("" is /proc). A file it cannot read or
// parse, or a walk longer than the deepest tree it follows, is "no": the
// answer fails closed.
func Descends(procRoot string, pid, ancestor int) bool {
	if procRoot == "" {
		procRoot = "/proc"
	}
	seen := make(map[int]bool, 16)
	for depth := 0; pid > 0 && !seen[pid] && depth < maxDepth; depth++ {
		if pid == ancestor {
			return true
		}
		seen[pid] = true
		stat, err := readBounded(filepath.Join(procRoot, strconv.Itoa(pid), "stat"), maxStat)
		if err != nil {
			return false
		}
		_, ppid, err := parseStat(stat, pid)
		if err != nil {
			return false
		}
		pid = ppid
	}
	return false
}
