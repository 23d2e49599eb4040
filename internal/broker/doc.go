// Package broker is the single gate through which every secret value
// passes. The CLI, the MCP server and the agent-mode socket turn user
// input into requests; the broker decides, records the decision,
// and only then reads values from the store and hands them to the runner,
// wrapped in a redactor.
//
// What it owns, in the order a request meets it (authorize, then decide;
// gate.go):
//
//  1. the request's shape: valid names, secrets that exist;
//  2. the caller: a token is parsed strictly, checked against the
//     deny-list, its HMAC chain recomputed under its root key and compared
//     in constant time, and only then are its caveats evaluated against a
//     context the broker builds itself (its clock, the resolved program,
//     the repository on disk, the detected agent). Without a token, a
//     detected agent is refused; the human in their own shell is not;
//  3. the policy files (user and repository; both must allow), including
//     max_ttl against the token's remaining life;
//  4. the audit line: every allow and every deny is recorded, and an allow
//     that cannot be recorded becomes a deny.
//
// Every operation has one shape: the caller first, then one request value
// (ListRequest, ExecRequest, …; none when the caller is all it needs), and
// one result, so that each front end — the CLI, the MCP server, the
// agent-mode socket — is a thin adapter. [Service] is the operations a
// front end asks, of a broker here or of the launcher's across the socket.
// The caller is described by the front end and never changed by an
// operation. The gate is gate.go, whole.
//
// It also owns the authority itself — sessions, root keys, minting,
// revocation, leases — and the child's environment (childenv.go): the
// variables a secret is never injected into, and the allow-list a pinned
// program's environment is built from, for every front end that starts a
// child through Exec; and when a program is pinned, and so looked up and
// checked as package pinned says (pin.go).
//
// What it refuses to do: return a value to its caller. No exported function
// or field carries plaintext out of this package; Peek returns a bounded
// mask and a keyed fingerprint, never the value. Only authorize creates the
// grant that values() needs, and only the broker imports the store
// (internal/archtest). Two operations read values without a grant, each
// only for the human without a token: Scan, which searches for every value
// after its audit line, and a migration, which compares in constant time
// the values it would overwrite with those it brings.
package broker
