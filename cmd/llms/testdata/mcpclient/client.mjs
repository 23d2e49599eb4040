// Drives `llms mcp` with the official MCP TypeScript SDK client over stdio,
// as an MCP host would, and prints a JSON report of everything it saw.
// cmd/llms/mcp_client_test.go runs it and judges the report and the raw
// protocol stream, which the server's command line tees to files.
//
// Environment: LLMS (the binary), MCP_IN_LOG / MCP_OUT_LOG / MCP_ERR_LOG
// (where the raw stream goes), SECRET (the name of the canary secret),
// WORK (the server's working directory).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";

const secret = process.env.SECRET;
const transport = new StdioClientTransport({
  command: "/bin/sh",
  args: ["-c", 'tee -a "$MCP_IN_LOG" | "$LLMS" mcp 2>>"$MCP_ERR_LOG" | tee -a "$MCP_OUT_LOG"'],
  env: { ...process.env },
  cwd: process.env.WORK,
  stderr: "inherit",
});
const client = new Client({ name: "llms-e2e", version: "1.0.0" });
await client.connect(transport);

const report = {
  server: client.getServerVersion(),
  instructions: client.getInstructions(),
  tools: [],
  calls: [],
};

const listed = await client.listTools();
for (const t of listed.tools) {
  report.tools.push({ name: t.name, input: t.inputSchema, output: t.outputSchema ?? null });
}

// call records one tools/call: its result, or the JSON-RPC error.
async function call(label, name, args) {
  try {
    const res = await client.callTool({ name, arguments: args });
    report.calls.push({ label, isError: !!res.isError, structured: res.structuredContent ?? null, content: res.content });
  } catch (e) {
    report.calls.push({ label, rpcError: { code: e.code ?? null, message: String(e.message) } });
  }
}

// raw sends a request the typed API would not let us build.
async function raw(label, method, params) {
  try {
    const res = await client.request({ method, params }, CallToolResultSchema);
    report.calls.push({ label, isError: !!res.isError, structured: res.structuredContent ?? null, content: res.content });
  } catch (e) {
    report.calls.push({ label, rpcError: { code: e.code ?? null, message: String(e.message) } });
  }
}

const inject = { X: secret };
await call("list", "list_secrets", {});
await call("describe", "describe_access", {});
await call("peek", "peek_secret", { name: secret });
await call("run-echo", "run_with_secrets", {
  argv: ["sh", "-c", 'echo "value=$X"; printf %s "$X" | base64; printf %s "$X" | od -An -tx1 | tr -d " \\n"; echo; echo "err=$X" >&2'],
  inject,
});
await call("run-env", "run_with_secrets", { argv: ["env"], inject });
await call("run-exit", "run_with_secrets", { argv: ["sh", "-c", "exit 7"], inject });
await call("run-timeout", "run_with_secrets", { argv: ["sleep", "30"], inject, timeout_seconds: 1 });
await call("request", "request_secret", { name: "NEW_TOKEN_FOR_CI", reason: "the release job needs it" });
await call("audit", "audit_recent", { limit: 50 });

// Malformed and refused requests: each is a clean error, and the server
// keeps serving.
await call("bad-unknown-tool", "get_secret", { name: secret });
await call("bad-extra-arg", "peek_secret", { name: secret, reveal: true });
await call("bad-missing-arg", "peek_secret", {});
await call("bad-type", "run_with_secrets", { argv: "env", inject });
await call("bad-not-allowed", "peek_secret", { name: "NOT_ALLOWED" });
await call("bad-program", "run_with_secrets", { argv: ["/nonexistent/x"], inject });
await raw("bad-arguments-not-object", "tools/call", { name: "peek_secret", arguments: [secret] });
await raw("bad-no-params", "tools/call", undefined);
await raw("bad-method", "secrets/get", { name: secret });
await call("after-bad", "list_secrets", {});

await client.close();
process.stdout.write(JSON.stringify(report));
