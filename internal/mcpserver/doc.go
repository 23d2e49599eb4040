// Package mcpserver is `llms mcp`: the Model Context Protocol front end,
// on the official Go SDK, linked into the llms-mcp program alone (ADR 36,
// internal/mcpmain), through which an agent that speaks MCP uses
// secrets without ever being handed one.
//
// What it owns: the tools (list_secrets, describe_access, peek_secret,
// run_with_secrets, request_secret, audit_recent), their input and output
// schemas, the bounds on what a call may ask for (argv size, working
// directory, timeout, output size) and the shape of their answers:
// structured output, truncation and timeouts marked, output made valid
// UTF-8.
//
// Every call is one operation of a [broker.Service] — the broker in this process,
// or inside agent mode the launcher's broker behind its socket — under the
// one delegated token the server was started with, for a caller described
// afresh ([Config]). The broker verifies the token, applies the policy and
// records the call (event "mcp") on every call, so a token that expires or
// is revoked mid-session stops working at once. [Serve] runs the server on
// stdio, answering lines that are not JSON-RPC messages itself.
//
// What it refuses to do: return a value. No tool reads, prints, mints,
// revokes or returns a secret or a token; run_with_secrets returns the
// child's output only after the broker's redactor, and peek_secret the
// broker's bounded mask. It never acts without a token and never with the
// session or root keys: without a token it starts and lists its tools, and
// every tool answers with what the human should run.
package mcpserver
