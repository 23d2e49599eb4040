// Package policy owns the allow-list policy files: parsing them strictly and
// deciding, for one secret and one subject (repo, branch, login name, git
// email, agents, command), whether access is allowed and for how long at
// most.
//
// It does not choose which files apply (the broker passes their paths: the
// user's ~/.config/llm-secrets/policy.yaml, ~ from the user database,
// $XDG_CONFIG_HOME's when set elsewhere, and .llm-secrets-policy.yaml at the
// repository root), establish the subject, or
// enforce max_ttl; it only decides.
//
// # Format
//
//	secrets:
//	  DB_PASSWORD:
//	    allow:
//	      - repo: github.com/acme/api     # one pattern, or a list
//	        branch: [main, "release/*"]
//	        user: "*@acme.com"            # git user.email, or a login name
//	        agent: [claude-code, cursor]
//	        cmd: [psql, /usr/bin/pg_dump] # base name or absolute path
//	        max_ttl: 15m
//	    deny:
//	      - branch: "wip/*"
//
// The top level holds `secrets` only; a secret holds `allow` and/or `deny`,
// each a list of rules; a rule holds any of repo, branch, user, agent, cmd
// (each one pattern or a non-empty list) and, in allow rules only, max_ttl
// (a positive Go duration: 90s, 15m, 1h30m).
//
// Patterns are path.Match globs ('*', '?', [classes], '\' escapes) in which
// '/' is an ordinary character: '*' matches any run of characters including
// '/', so `release/*` matches release/1.0 and release/1.0/hotfix, and `*`
// matches every known value. repo and user match case-insensitively (forges
// and mail domains ignore case, and a deny rule must not be dodged by
// spelling); branch and cmd match exactly. A repo pattern is written as
// gitctx.NormalizeRepo prints it (host/path, no scheme, user or .git); one
// whose first component holds no '.' (acme/api, llm-secrets v3's form)
// names no host and matches that path on any host, and also the whole value
// (for a host without a dot). A user pattern holding '@' matches the git
// email, any other the login name of the caller's uid, which the broker
// takes from the system's user database, never from $USER. An agent
// pattern is an agentid id or alias (case ignored) or human, stored as the
// id; a glob must match at least one of them. A cmd pattern without '/'
// matches the base name of the program of that name in the system
// directories (Subject.SystemProgram) — in a deny rule, of any program — and
// one with '/' its absolute path.
//
// # Semantics
//
//   - No policy file at all: everything is allowed (as in llm-secrets v3).
//   - With a policy, a secret the file does not list is denied.
//   - A rule matches when every field it names matches; a field it does not
//     name matches anything. A list matches when any element does.
//   - A matching deny rule wins over any allow rule; otherwise a matching
//     allow rule allows; otherwise access is denied.
//   - A subject with several agents (every agent found) is decided once per
//     agent: each must be allowed, and MaxTTL is the smallest.
//   - Unknown subject values (an empty Branch on a detached HEAD, no
//     user.email, no login name, no origin, the agent agentid.Unknown, no
//     command as for peek, or a command that is not an absolute clean
//     path) fail closed both ways: a rule field naming an unknown value
//     does not match in an allow rule (not even with `*`) and does match
//     in a deny rule. So `deny: [{cmd: curl}]` also denies peek, which has
//     no command, and `allow: [{branch: main}]` denies a detached HEAD.
//   - When several files are loaded, every one must allow: a repository
//     file can only narrow the user's file, and a secret the user file does
//     not list stays denied whatever the repository file says.
//   - MaxTTL is the smallest max_ttl among the allow rules that matched, in
//     all files; rules without max_ttl do not raise it. 0 means no limit.
//
// A deny rule naming a field with pattern `*` denies every subject: `*`
// matches every known value, and an unknown value satisfies a deny rule.
// llm-secrets v3's example `deny: [{branch: "*"}]` therefore denies everything.
//
// # Refusals
//
// Load returns an error, pointing at file:line, for: YAML syntax (including
// tab indentation; the line is where the YAML library places the error, the
// offending token or the start of the enclosing block, and the few library
// errors without a position name the file alone), an unknown field, a value of the wrong type (numbers,
// booleans and null must be quoted to be patterns), an empty rule (it would
// match everything), an empty pattern or list, a bad glob, a bad or
// non-positive duration, max_ttl in a deny rule, an agent name that is no
// known id or alias (or a glob matching none), a secret name outside the
// store's [A-Za-z0-9_.-]{1,128} (not starting with '.' or '-'), a duplicate
// key, a secret with neither allow nor deny, an empty file, several YAML
// documents, anchors, aliases and tags. The caller must then deny every
// access; an unreadable policy is never read as "no policy". Files larger
// than 1 MiB and relative paths are refused too.
//
// The repository file lives where an agent can write it: editing or deleting
// it widens access up to what the user file allows, and without a user file
// up to everything. Only the user file binds an agent that can write the
// repository, and the broker should read both before the agent starts.
package policy
