// Package pinned owns what makes a file a pinned program: one that a token
// or a policy allows to start with a secret and that nobody but root can
// have written.
//
// It owns:
//
//   - the system directories (Dirs, Path): /usr/local/sbin, /usr/local/bin,
//     /usr/sbin, /usr/bin, /sbin and /bin, those that only root can
//     change. They are the only place a pin by name is looked up, at mint
//     (Resolve) and at exec (Find), and the PATH a pinned program gets;
//   - the check (Open): the file and every directory on the way to it,
//     through every symbolic link, must be owned by root, writable by
//     nobody else, outside any tree the caller may write (the agent
//     sandbox's writable trees, compared by device and inode so that a
//     bind mount is no way round) and not on a FUSE file system, which
//     its user serves; a script's interpreter is checked the same way;
//   - starting from what was checked: Open keeps the file's directory open,
//     and the child is started from the file's name in it
//     (/proc/self/fd/3/NAME), so that no path above it is looked up again
//     and the program keeps its name (started from its own descriptor, it
//     would be named "3" in ps). A script is started from its checked path:
//     its interpreter opens the path it is given after exec, and sees it as
//     its $0;
//   - Launcher: the programs that run whatever their arguments, working
//     directory or files say (shells, interpreters, git, make, curl…), for
//     which a pin contains nothing and the CLI warns.
//
// It refuses a file owned by anyone but root: outside agent mode the agent
// runs as the user and can change anything the user owns, and inside it,
// whatever the user owns may have been changed by an agent run earlier
// without the sandbox. It does not decide whether a program is pinned (the
// broker does, from the token and the policy), nor what environment a
// pinned program gets beyond its PATH.
package pinned
