// Package archtest holds no code, only a test that pins the import graph:
// data flows one way, from the CLI (and the command packages it hands
// parsed flags to: agentmode, the launcher, and setup) to the broker and
// from the broker to the packages it uses (store, macaroon, caveat,
// policy, audit, runner, redact…), and no package but the broker can
// reach the store, which is the only place a value is read. The allowed graph is exact: an import it does not
// list fails, and so does a listed import nobody makes, so the table
// always describes the code. agentid, which only names agents, sits below
// caveat and policy; pinned, which judges program files, below the broker;
// supervise, the seccomp notification loop, which holds no policy, below
// sandbox, whose supervisor it serves; egress, the network allow-list, a
// leaf the supervisor, profiles and the launcher ask. agentmode and setup import neither
// cli nor each other; human (terminal-safe text) and exitstatus (the
// errors that carry an exit status) import nothing of llms, so every
// command package shares them instead of copying them.
//
// It also guards start-up, coarsely: cmd/llms links none of the packages
// whose initialisers only llms-mcp needs (docs/adr/0036), and llms
// --version and exec stay within wide bounds of a hello-world and of the
// age one-liner in page faults and CPU time.
package archtest
