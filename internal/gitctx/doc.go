// Package gitctx reports which repository, branch and git user a directory
// belongs to, for matching policy rules and for the audit log.
//
// It reads the files git reads and never runs git, so that `llms exec`
// starts fast and does not depend on the git binary or on a repository's
// hooks and aliases. Lookup walks up from a directory to the first .git
// (a directory, or a "gitdir: " file as in worktrees and submodules,
// following commondir), reads HEAD for the branch and the config files for
// remote "origin"'s url and user.email:
//
//   - the global config: $GIT_CONFIG_GLOBAL if set, otherwise
//     $XDG_CONFIG_HOME/git/config (or ~/.config/git/config) then ~/.gitconfig;
//   - the repository's config, then config.worktree when
//     extensions.worktreeConfig is on; later files win, as in git, except
//     that a remote's url is its first value, again as in git.
//
// url.<base>.insteadOf rewrites apply to the origin URL. A repository owned
// by another user is refused unless the global safe.directory names it, as
// git does.
//
// These values are what the files on disk say. Whoever can write the
// repository, including an agent working in it, can make them say anything;
// they narrow what an honest caller is allowed, they do not authenticate it.
//
// The package refuses to:
//
//   - guess: HEAD must be "ref: <valid ref name>" or a hex object id, a .git
//     file must be "gitdir: <path>", and config must parse as git parses it,
//     or Lookup fails (with file and line for config). An empty Info field
//     means unknown, never "any".
//   - put config lines in errors: a config file can hold a token in a URL,
//     so errors name the file and line only. NormalizeRepo never keeps user
//     info.
//   - read more than 1 MiB of config or 64 KiB of HEAD, .git or commondir,
//     or anything but a regular file (or /dev/null, an empty config): a
//     FIFO planted at a config path would otherwise hang every request.
//
// Not supported, each leaving the affected field as git's plain files
// describe it: include and includeIf, the system config (/etc/gitconfig),
// GIT_CONFIG_COUNT/-c settings, GIT_DIR, GIT_WORK_TREE,
// GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM, core.worktree,
// bare repositories (ErrNotRepo), GIT_AUTHOR_EMAIL and EMAIL, and ssh host
// aliases. A repository using the reftable ref format is an error, since its
// HEAD file is a placeholder.
package gitctx
