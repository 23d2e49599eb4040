// Package agentsock is the agent-mode broker protocol: the server the
// launcher runs on a Unix socket, outside the agent's sandbox, and the
// client that `llms exec`, `llms peek` and `llms list` become inside it.
//
// It owns:
//
//   - the framing: a version byte, a big-endian uint32 length and a JSON
//     body of at most MaxFrame bytes, decoded strictly (unknown fields,
//     trailing data, another version: refused);
//   - the requests (exec, peek, list, and the MCP front end's describe,
//     audit and ask: each op has an argument object of its own) and their
//     replies, with the error kinds that map to the CLI's exit statuses;
//   - passing the client's stdin, stdout and stderr to the broker
//     (SCM_RIGHTS), relaying the client's signals while the child runs and
//     returning the child's status;
//   - the peer check: a connection is served only when SO_PEERCRED names a
//     process of our user that descends from the launcher (the agent, what
//     it starts, and orphans its guard or the launcher reaped as a
//     subreaper), checked
//     against a pidfd where the kernel has one;
//   - handing each request to the broker with the stamped agent identity
//     and the policy read at launch, and each child a confinement of its
//     own (Server.Confine).
//
// It refuses to decide anything: the broker runs the whole gate (token,
// policy, audit) on every request, with the token the client sends. It
// never carries a value: replies hold statuses, masks, names and error
// messages, which the broker phrases without values; the child's output
// goes from the broker's redactor straight to the passed descriptors.
//
// A malformed or oversized frame gets an error reply and ends its own
// connection; the server keeps serving the others. A client that goes away
// while its child runs takes the child with it (the broker kills it).
// Requests beyond those served at once wait their turn in a bounded queue
// (queue.go).
//
// The protocol is described for other implementations in
// docs/AGENT-MODE.md ("Protocol"). Linux only.
package agentsock
