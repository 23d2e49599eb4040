// Package sandbox confines a program with Landlock for agent mode: the
// agent, and every child the broker starts for it, runs in a domain in
// which the llms store, key files and a list of credential paths cannot be
// read, only the working tree, the agent's own temp dir, terminals and the
// agent's own state can be written, and in the shared temp dirs entries
// can be added but none removed, renamed or replaced.
//
// It owns:
//
//   - the rule set: AgentSpec says what an agent may touch (AgentOptions →
//     Spec), HiddenPaths what no confined program may read (git too, see
//     internal/gitrun), Build compiles a Spec into Rules, Landlock "path
//     beneath" rules that grant, along each path from / to a hidden entry,
//     the enclosing rights to every sibling rather than to the ancestor
//     (see BuildFor, and docs/adr/0021 and 0028);
//   - the agent's private view (View, docs/adr/0028): where a mount
//     namespace can be made — as root, or in a user namespace Start asks
//     for — Main mounts the agent's temp dir over /tmp, a fresh /dev/shm
//     and empty placeholders over the hidden paths before it applies the
//     rules; where none can be made it says so, and the rules hold in the
//     shared view;
//   - applying it: Restrict confines the calling thread — every capability
//     dropped (and, with CAP_SETPCAP, the bounding set emptied and the
//     securebits locked), no_new_privs, a seccomp filter refusing the
//     terminal ioctls TIOCSTI and TIOCLINUX, prlimit on another process
//     and the key ring calls, Landlock filesystem rules
//     (from ABI 9, Unix sockets by path only in Spec.Sockets) and, from
//     ABI 6, signal and abstract-socket scoping — and refuses rather than
//     apply fewer rights than the rules were built for;
//   - starting confined programs: the agent through a self re-exec — Wrap
//     turns "start PATH ARGV" into "start llms __sandbox-exec --rules-fd=3
//     PATH ARGV" with the rules in an inherited memory file (never in the
//     environment the program inherits, nor on the command line, whose
//     arguments the kernel bounds), the guard starts it (in a user
//     namespace when the view needs one, Wrapped.UserNS; without where
//     the kernel refuses it), and Main (dispatched first thing by
//     cmd/llms) reads and closes
//     it, makes the view, restricts itself and execs PATH; the
//     broker's children from a thread confined by Prepared.Restrict (in
//     agent mode Supervisor.Confine, whose filter sends their connects to
//     the launcher: children.go). Both
//     start from the unconfined launcher, so each is a new domain beside
//     the others, never nested in the agent's: the agent can neither
//     ptrace the children the broker starts nor read their
//     /proc/PID/environ or memory;
//   - the launcher's process tree: BecomeSubreaper, and EndTree, which
//     kills and reaps whatever the agent left behind; the agent's guard
//     (StartGuard, and GuardMain, the `llms __agent-guard` entry point),
//     a subreaper between the launcher and the agent that ends the
//     agent's tree when the agent exits or the launcher dies, and the
//     agent's cgroup (NewCgroup), killed whole where one can be made;
//     Confined, the heuristic `llms status` reports;
//   - ABI, the kernel's Landlock ABI (with a hook, SetABIForTest, that
//     simulates a kernel without it, or an older one; and
//     SetNamespacesForTest, one that refuses namespaces);
//   - the agent's environment: AgentEnv removes every LLM_SECRETS_*
//     variable but the launcher's own and the credential variables
//     (CredentialVars, CredentialSuffixes) except the agent's own key
//     (Agents) and --keep-env.
//
// It refuses: relative paths, rules in a format or for an ABI it does not
// know, a working tree that holds the home directory or lies inside a
// hidden path, an agent's temp dir that is a shared one, and a socket
// directory inside a tree the agent may write (the agent could replace the
// broker's socket). It does not decide who may use a secret (the broker does)
// nor which hosts are allowed (internal/egress does: the supervisor asks it
// of each TCP/IP connect, egress.go), and confines no process that is not
// started through it.
package sandbox
