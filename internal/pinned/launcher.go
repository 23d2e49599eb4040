package pinned

import (
	"path/filepath"
	"slices"
	"strings"
)

// launchers run whatever their arguments, working directory, or the files
// they read there say: shells and interpreters run code given on the
// command line; env, xargs, find, timeout and the like start another
// program; git, make, npm and cargo run what the tree's configuration
// names; curl and wget read a config file and write where they are told;
// database clients have a shell escape (psql's \!); editors and pagers
// have one too. The agent chooses the arguments and the working directory,
// so pinning one of them contains nothing: it is a warning, not a refusal,
// because the list can never be complete.
var launchers = []string{
	// shells
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "busybox",
	// programs that start programs
	"env", "xargs", "find", "nohup", "timeout", "nice", "ionice", "setsid", "stdbuf", "sudo", "su", "doas",
	"script", "watch", "time", "chroot", "unshare", "nsenter", "flock", "parallel", "strace", "ltrace", "gdb",
	"ssh", "socat",
	// interpreters (a version suffix counts: python3.12, perl5.36, lua5.4)
	"python", "pypy", "perl", "ruby", "irb", "node", "nodejs", "deno", "bun", "php", "lua", "luajit",
	"tclsh", "wish", "java", "jshell", "r", "rscript", "julia", "awk", "gawk", "mawk", "nawk", "sed",
	// build tools and package managers: the tree's files say what runs
	"git", "make", "gmake", "cmake", "ninja", "npm", "npx", "yarn", "pnpm", "pip", "pipx", "uv", "uvx",
	"poetry", "cargo", "go", "gradle", "gradlew", "mvn", "rake", "bundle", "gem", "composer", "docker", "podman",
	// network clients that read a config file and write where asked
	"curl", "wget",
	// database clients, editors and pagers with a shell escape
	"psql", "mysql", "sqlite3", "vi", "vim", "nvim", "emacs", "less", "more", "man",
}

// Launcher reports whether the program at path (or of that name) is one a
// pin contains nothing for.
func Launcher(path string) bool {
	name := strings.ToLower(filepath.Base(path))
	return slices.Contains(launchers, name) || slices.Contains(launchers, strings.TrimRight(name, "0123456789."))
}
