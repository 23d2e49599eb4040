// Package broker is the single gate through which every secret value
// passes. The CLI (and, later, the MCP server and the agent-mode socket)
// turn user input into requests; the broker decides, and only after a
// decision does it read values from the store and hand them to the runner,
// wrapped in a redactor.
//
// What it owns: the decision for every access (today: the store is readable
// and the names exist; tokens, policy and audit join here and nowhere
// else), the child's environment, and redaction of the child's output.
//
// What it refuses to do: return a value to its caller. No exported function
// or field carries plaintext out of this package; Peek returns a bounded
// mask and a keyed fingerprint, never the value.
package broker
