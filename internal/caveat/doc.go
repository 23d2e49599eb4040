// Package caveat owns the grammar of llms's first-party macaroon caveats and
// their evaluation against the context of one request.
//
// A caveat is an ASCII byte string "name=value". The grammar is strict and
// canonical, so that one meaning has exactly one encoding:
//
//   - bytes are printable ASCII (0x21–0x7E); spaces are not allowed anywhere;
//   - exactly one '=' separates a known name from its value; values never
//     contain '=';
//   - a caveat is at most 4096 bytes;
//   - list values are comma-separated, with no empty item and no duplicate,
//     in ascending byte order (the constructors sort for you).
//
// The names, and when each one holds:
//
//	secret=a,b        every secret the request asks for is in the list.
//	                  Names match [A-Za-z0-9_.-]{1,128}, not starting with '.'.
//	                  A request that asks for no secret holds only for op list;
//	                  list results are filtered with [Set.AllowedSecrets].
//	expires_at=T      Now is strictly before T. T is exactly
//	                  2006-01-02T15:04:05Z: UTC, whole seconds, no fraction.
//	repo=p,q          the request's repository (canonical host/org/repo,
//	                  normalised by the caller) matches one pattern.
//	branch=p,q        the current branch matches one pattern.
//	who=p,q           the git user email matches one pattern. Patterns are
//	                  lowercase and matching ignores ASCII case.
//	agent=a,b         every agent detected is one of the names
//	                  ([a-z0-9][a-z0-9._-]{0,63}): agentid ids or aliases
//	                  (claude stands for claude-code); a name that is
//	                  neither allows nothing.
//	cmd=c,d           the program exec starts is allowed: an entry with '/'
//	                  is a clean absolute path compared exactly with the
//	                  resolved program path; an entry without '/' is compared
//	                  with the program's base name, and only when the program
//	                  is the one of that name in the system directories
//	                  (Context.SystemProgram). The broker records a name
//	                  given at mint as that program's path.
//	op=o,p            the operation is in the list: exec, peek or list (the
//	                  Op constants; only operations a request checks exist).
//	keep_env=A,B      always holds: it is not about the request. It names
//	                  variables of the caller's environment that the broker
//	                  may pass to a pinned program, whose environment is
//	                  otherwise a fixed allow-list. Several keep_env caveats
//	                  intersect ([Set.Items]); the broker honours only names
//	                  the token carried when it was minted, so appending one
//	                  cannot widen a token.
//	launch=ID         the request is served by the broker of the agent-mode
//	                  launch ID (Context.Launch), which only the live
//	                  launcher sets: the token that `llms agent` mints for
//	                  its agent, and every attenuation of it, is refused
//	                  everywhere else — by `llms exec` and `llms mcp`
//	                  outside agent mode, by another launch's broker, and
//	                  once its launcher is gone. ID is 32 lowercase hex
//	                  digits (128 random bits).
//
// Every name but expires_at is a list caveat; [ListKinds] is the one table
// of them, from which the CLI's flags, the profile keys and the broker's
// restrictions are made. Only the launcher adds launch
// ([ListKind.LauncherOnly]): it has no flag and no profile key.
//
// Patterns (repo, branch, who) are literal except for '*', which matches any
// run of bytes other than '/', and '**', which matches any run of bytes.
// '?', '[' and '\' are refused, so no other glob syntax is silently taken
// literally.
//
// Evaluation fails closed. A caveat about a context field that is empty does
// not hold: a branch caveat never holds outside a repository, an agent caveat
// never holds when no agent was detected, a cmd caveat never holds for an
// operation that starts no program. Several caveats of one name must all hold,
// so adding a caveat can only narrow a token. A Context without a time or
// with an unknown operation is refused whatever the caveats say.
//
// This package does not verify macaroon signatures, normalise repository
// URLs, detect agents (agentid only names them) or read git state: callers do that and hand in the
// results. It never sees secret values, only secret names.
package caveat
