package broker

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/llm-secrets/llms/internal/caveat"
)

// The environment of exec's child is decided here, in one place, for every
// front end that starts a child through Exec: which variables a secret may
// never be injected into, and what a pinned program receives.
// docs/SECURITY.md lists the same rules for the human.

// startupNames and startupPrefixes are the variables that change how a
// program starts or which other code it runs: the dynamic loader's, the
// shells' start-up files and exported functions, interpreters' and build
// tools' options and module paths, and the programs that programs start
// (pagers, editors, git's helpers, compilers). A secret is never injected into one of them: the loader and
// shells print such a value's pieces in their error messages, where no
// redaction recognises them. Prefixes stand for a whole family. Names are
// compared in upper case.
var (
	startupNames = setOf(
		// shells
		"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH",
		"BASH_XTRACEFD", "BASH_LOADABLES_PATH", "ZDOTDIR", "SHELL", "PATH",
		// the C library and its loader (besides LD_*)
		"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH",
		"NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR", "OPENSSL_CONF", "OPENSSL_ENGINES",
		// programs that programs run
		"EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN", "LESSCLOSE", "SSH_ASKPASS", "SUDO_ASKPASS",
		// git
		"GIT_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR",
		"GIT_EXTERNAL_DIFF", "GIT_PROXY_COMMAND", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_DIR", "GIT_COMMON_DIR",
		// interpreters (besides the prefixes)
		"PERLLIB", "PERLIO", "RUBYOPT", "RUBYLIB", "RUBYPATH", "RUBYSHELL", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
		"NODE_OPTIONS", "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE",
		"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
		"TCLLIBPATH", "PHPRC", "PHP_INI_SCAN_DIR",
		// build tools: Go's, the C compiler, Rust's, make's (besides CGO_*)
		"GOFLAGS", "GOENV", "GOPATH", "GOROOT", "GOTOOLCHAIN", "GOAUTH", "GOEXPERIMENT", "CC", "CXX",
		"RUSTC", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "RUSTFLAGS", "RUSTDOCFLAGS", "RUSTUP_TOOLCHAIN",
		"CARGO_BUILD_RUSTC_WRAPPER", "CARGO_BUILD_RUSTFLAGS", "MAKEFLAGS", "MFLAGS", "MAKEFILES",
	)
	startupPrefixes = []string{
		"LD_", "DYLD_", "MALLOC_", "BASH_FUNC_", "GIT_CONFIG",
		"PYTHON", "PERL5", "RUBY_", "NPM_CONFIG_", "LUA_INIT", "LUA_PATH", "LUA_CPATH", "CGO_",
	}
)

// baseNames and basePrefixes are the variables a pinned program keeps from
// the caller's environment without anyone naming them: who and where the
// user is, and how text is shown.
var (
	baseNames    = setOf("HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TERM", "COLORTERM", "TZ", "TMPDIR", "COLUMNS", "LINES", "NO_COLOR")
	basePrefixes = []string{"LC_"}
)

// safePathDirs are the candidates for a pinned program's PATH, in order; a
// directory is used only if root owns it and nobody else may write to it.
var safePathDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// tokenVars carry the caller's token; they never reach the child.
var tokenVars = setOf("LLM_SECRETS_MACAROON", "LLM_SECRETS_MACAROON_FILE")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func inFamily(name string, names map[string]bool, prefixes []string) bool {
	return names[name] || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// startupVar reports whether the variable changes how a program starts.
func startupVar(name string) bool {
	return inFamily(strings.ToUpper(name), startupNames, startupPrefixes)
}

// checkInjectable refuses a variable a secret must not be injected into.
func checkInjectable(name string) error {
	if startupVar(name) {
		return fmt.Errorf("%w: a secret is never injected into %s: it changes how a program starts (docs/SECURITY.md lists these variables)", ErrBadRequest, name)
	}
	return nil
}

// checkKeepable refuses a keep_env name that the allow-list must never let
// through: the start-up variables and the token's.
func checkKeepable(name string) error {
	if startupVar(name) || tokenVars[name] {
		return fmt.Errorf("%w: --keep-env %s: it changes how a program starts and is never passed to a pinned program", ErrBadRequest, name)
	}
	return nil
}

// childEnv is the child's environment before the injected variables are
// added. A program that is not pinned gets the caller's environment without
// the token's variables and the injected names. A pinned program gets an
// environment built by allow-list: the base variables and the kept ones, as
// the caller has them, and the safe PATH.
func childEnv(callerEnv []string, injected map[string]bool, pinned bool, keep []string) []string {
	env := make([]string, 0, len(callerEnv)+1)
	if pinned {
		env = append(env, "PATH="+safePath())
	}
	for _, kv := range callerEnv {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case injected[name], tokenVars[name]:
			// The child gets the secrets it asked for, not the caller's
			// bearer token, which would let it reach every other secret
			// in the token's scope.
		case !pinned:
			env = append(env, kv)
		case inFamily(name, baseNames, basePrefixes), slices.Contains(keep, name) && !startupVar(name):
			env = append(env, kv)
		}
	}
	return env
}

// safePath is the PATH of a pinned program: the candidate directories that
// exist, are owned by root and are writable by nobody else.
func safePath() string {
	var dirs []string
	for _, d := range safePathDirs {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == 0 {
			dirs = append(dirs, d)
		}
	}
	return strings.Join(dirs, ":")
}

// keptVars returns the variables a pinned program keeps by name: those
// every keep_env caveat of the token lists, and only if the token carried a
// keep_env caveat when it was minted, as the lease registry recorded it.
// keep_env widens what reaches the child, so a caveat appended by a holder
// must never add a name: it can only take names away.
func (b *Broker) keptVars(g grant) ([]string, error) {
	if !g.programPinned || len(g.keep) == 0 {
		return nil, nil
	}
	var list []LeaseRecord
	b.mu.Lock()
	_, err := b.readState(leasesState, &list)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(l LeaseRecord) bool { return l.ID == g.tokenID })
	if i < 0 {
		return nil, nil
	}
	raw := make([][]byte, len(list[i].Caveats))
	for j, c := range list[i].Caveats {
		raw[j] = []byte(c)
	}
	minted, err := caveat.ParseAll(raw)
	if err != nil {
		return nil, nil
	}
	atMint, found := minted.Items(caveat.NameKeepEnv)
	if !found {
		return nil, nil
	}
	return slices.DeleteFunc(slices.Clone(g.keep), func(n string) bool { return !slices.Contains(atMint, n) }), nil
}
