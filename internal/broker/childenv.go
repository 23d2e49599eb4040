package broker

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/llm-secrets/llms/internal/caveat"
	"github.com/llm-secrets/llms/internal/pinned"
	"github.com/llm-secrets/llms/internal/userdb"
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

// TokenEnv and TokenFileEnv carry a caller's token, or name the file
// that holds it (some agent sandboxes strip variables that look like
// tokens); they never reach the child.
const (
	TokenEnv     = "LLM_SECRETS_MACAROON"
	TokenFileEnv = "LLM_SECRETS_MACAROON_FILE"
)

var tokenVars = setOf(TokenEnv, TokenFileEnv)

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
// through (neverKept).
func checkKeepable(name string) error {
	var why string
	switch {
	case startupVar(name):
		why = "it changes how a program starts"
	case tokenVars[name]:
		why = "it holds the caller's token"
	case accountVars[strings.ToUpper(name)]:
		why = "a pinned program gets it from the user database"
	case neverKept(name):
		why = "it names files or code a program reads"
	default:
		return nil
	}
	return fmt.Errorf("%w: --keep-env %s: %s, so it is never passed to a pinned program", ErrBadRequest, name, why)
}

// A pinned program's environment is built, not filtered (docs/adr/0019,
// 0027): the variables below, each only with a value its check accepts;
// PATH, the system directories only root can change; HOME, USER and
// LOGNAME from the user database; the variables the human named at mint
// (keep_env) but those neverKept refuses; and the injected ones.

// pinnedVars are the variables a pinned program keeps from the caller
// without anyone naming them: how text is shown, never a path, a program
// or anything a program loads. A locale variable that names a path makes
// gettext read the caller's message catalogue, whose translations are
// printf formats (one printed a pinned printenv's stack and environment);
// a TZ that names a path makes the C library read the caller's zone file.
var pinnedVars = map[string]valueCheck{
	"LANG": localeName, "LANGUAGE": localeList, "LC_ALL": localeName, "LC_CTYPE": localeName,
	"LC_NUMERIC": localeName, "LC_TIME": localeName, "LC_COLLATE": localeName, "LC_MONETARY": localeName,
	"LC_MESSAGES": localeName, "LC_PAPER": localeName, "LC_NAME": localeName, "LC_ADDRESS": localeName,
	"LC_TELEPHONE": localeName, "LC_MEASUREMENT": localeName, "LC_IDENTIFICATION": localeName,
	"TZ":   zoneName,
	"TERM": word, "COLORTERM": word, "NO_COLOR": word,
	"COLUMNS": number, "LINES": number,
}

// accountVars come from the user database, never from the caller: HOME is
// where a program reads its start-up files (~/.terminfo, ~/.curlrc,
// ~/.gitconfig, ~/.psqlrc), and the XDG directories, which are never
// passed, default to places under it.
var accountVars = setOf("HOME", "USER", "LOGNAME")

// loadNames and loadPrefixes name files, directories or code a program
// reads, beyond the start-up variables: the C library's and terminfo's
// data, certificate authorities (a CA of the caller's lets it read a pinned
// program's TLS traffic), TLS key logs, credentials and start-up files,
// message catalogues, runtimes' homes, module and plug-in paths, the XDG
// directories. The human cannot name them at mint, and they never reach a
// pinned program. With the start-up list they cover glibc's list of the
// variables it ignores in setuid programs (unsecvars.h).
var (
	loadNames = setOf(
		// the C library and terminfo
		"TMPDIR", "TERMINFO", "TERMINFO_DIRS", "TERMCAP", "TERMPATH", "INPUTRC", "TEXTDOMAIN", "TEXTDOMAINDIR",
		// certificate authorities, key logs, credentials files
		"SSLKEYLOGFILE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE", "PIP_CERT", "HTTPLIB2_CA_CERTS", "CARGO_HTTP_CAINFO",
		"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "NIX_SSL_CERT_FILE", "PGSSLROOTCERT", "PGSERVICEFILE", "PGSYSCONFDIR",
		"PGPASSFILE", "NETRC", "WGETRC", "GNUPGHOME",
		// programs' own start-up files, helpers and plug-ins
		"PSQLRC", "PSQL_EDITOR", "PSQL_PAGER", "PSQL_HISTORY", "MYSQL_HOME", "MANOPT", "MANPATH", "MAGIC",
		"GTK_MODULES", "GTK_PATH", "GIO_MODULE_DIR", "GIO_EXTRA_MODULES", "GST_PLUGIN_PATH",
		"GST_PLUGIN_SYSTEM_PATH", "GDK_PIXBUF_MODULE_FILE", "LIBGL_DRIVERS_PATH", "VK_ICD_FILENAMES",
		"VK_LAYER_PATH", "OCL_ICD_FILENAMES",
	)
	loadPrefixes = []string{
		"SSL_CERT_", "OPENSSL_", "GNUTLS_", "CURL_", "GIT_", "XDG_", "LESS", "NODE_", "RUBY", "GEM_", "BUNDLE_",
		"PERL", "JAVA_", "JULIA_", "R_LIBS", "R_PROFILE", "R_ENVIRON", "DOTNET_", "CORECLR_", "COMPLUS_", "MONO_",
		"ERL_", "GUILE_", "DENO_", "QT_", "TCL", "TK_", "PHP",
	}
)

// neverKept reports whether a variable never reaches a pinned program from
// the caller, even named at mint. Names are compared in upper case.
func neverKept(name string) bool {
	up := strings.ToUpper(name)
	return startupVar(name) || tokenVars[name] || accountVars[up] || inFamily(up, loadNames, loadPrefixes)
}

// A valueCheck accepts the values a variable may pass with; want says what
// it accepts.
type valueCheck struct {
	re   func() *regexp.Regexp
	want string
}

// matching compiles expr on first use, not at start-up: every llms command
// links this package, and only a pinned program's environment is checked.
func matching(expr, want string) valueCheck {
	return valueCheck{sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) }), want}
}

// ok accepts the empty value (a variable set to nothing names nothing).
func (v valueCheck) ok(s string) bool { return s == "" || len(s) <= 64 && v.re().MatchString(s) }

// locale is one locale name: C, POSIX or language[_territory][.codeset]
// [@modifier], which the C library looks up in its locale directory and
// gettext in the program's — never a path: no '/', no leading '.'.
const locale = `[A-Za-z]{1,8}(_[A-Za-z0-9]{1,8})?(\.[A-Za-z0-9][A-Za-z0-9_-]{0,15})?(@[A-Za-z0-9]{1,16})?`

var (
	localeName = matching(`^`+locale+`$`, "a locale name")
	// localeList is LANGUAGE's: locale names separated by ':'.
	localeList = matching(`^(`+locale+`)?(:(`+locale+`)?)*$`, "a list of locale names")
	// zoneName: a zone name (Europe/Paris, Etc/GMT+3) or a POSIX rule
	// (CET-1CEST,M3.5.0,M10.5.0/3), after an optional ':'. It is not
	// absolute and no part is empty or starts with '.', so a file the C
	// library reads for it lies in its own zoneinfo directory (TZDIR is
	// never passed).
	zoneName = matching(`^:?[A-Za-z0-9_+<-][A-Za-z0-9_+<>,.:-]*(/[A-Za-z0-9_+<-][A-Za-z0-9_+<>,.:-]*)*$`, "a time zone name")
	// word: a terminal's name (ncurses looks it up in its own
	// directories), a colour setting.
	word = matching(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`, "a plain name")
	// number: a terminal's size.
	number = matching(`^[0-9]{1,5}$`, "a number")
)

// childEnv is the child's environment before the injected variables are
// added. A program that is not pinned gets the caller's environment without
// the token's variables and the injected names: the caller could start any
// program, its own included, so removing more would protect nothing. A
// pinned program gets the environment built above; keep is what the token
// keeps (keptVars), account the caller's entry in the user database (nil
// when it has none), and warn hears of every variable dropped for its
// value, by name only (a value may be a secret).
func childEnv(callerEnv []string, injected map[string]bool, pinnedChild bool, keep []string, account *userdb.Account, warn func(string)) []string {
	env := make([]string, 0, len(callerEnv)+4)
	if pinnedChild {
		env = append(env, "PATH="+pinned.Path())
		if account != nil {
			env = append(env, "HOME="+account.Home, "USER="+account.Name, "LOGNAME="+account.Name)
		}
	}
	for _, kv := range callerEnv {
		name, value, _ := strings.Cut(kv, "=")
		check, shown := pinnedVars[name]
		switch {
		case injected[name], tokenVars[name]:
			// The child gets the secrets it asked for, not the caller's
			// bearer token, which would let it reach every other secret
			// in the token's scope.
		case !pinnedChild:
			env = append(env, kv)
		case shown && check.ok(value):
			env = append(env, kv)
		case shown:
			if warn != nil {
				warn(fmt.Sprintf("%s is not passed to the pinned program: its value is not %s", name, check.want))
			}
		case slices.Contains(keep, name) && !neverKept(name):
			env = append(env, kv)
		}
	}
	return env
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
	return slices.DeleteFunc(slices.Clone(g.keep), func(n string) bool { return !slices.Contains(atMint, n) || neverKept(n) }), nil
}
