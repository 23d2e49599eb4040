#!/usr/bin/env bash
# `llms mcp` over stdio, as an MCP host sees it: the Go SDK's client starts
# bin/llms mcp under a delegated token and times N sequential tools/call
# round trips of each call (bench/mcpbench), after a warm-up.
#
#   mcp-run    run_with_secrets of `true` with one secret injected   target: p50 <= 10 ms
#   mcp-list   list_secrets                                          target: p50 <= 2 ms
#
# p90, p99 and the maximum are reported on INFO lines. The raw latencies go
# to bench/out/mcp.json. Environment: CALLS (default 1000), WARMUP (50).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

calls=${CALLS:-1000}
warmup=${WARMUP:-50}

describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
"$LLMS" session-start --ttl 1h >/dev/null
(umask 077; "$LLMS" macaroon mint --secret k --ttl 30m >"$work/token")
export LLM_SECRETS_MACAROON_FILE=$work/token

out=$OUT/mcp.txt
(cd "$ROOT" && go run bench/mcpbench/main.go -llms "$LLMS" -n "$calls" -warmup "$warmup" -out "$OUT/mcp.json") | tee "$out"

# field NAME KEY: a value from mcpbench's line for NAME.
field() { awk -v name="$1" -v key="$2" 'index($0, name) == 1 { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == key) print kv[2] }' "$out"; }

for row in "mcp-run|run_with_secrets true|10" "mcp-list|list_secrets|2"; do
	IFS='|' read -r name label target <<<"$row"
	p50=$(field "$label" p50)
	[ -n "$p50" ] || { echo "bench: no result for $label" >&2; exit 2; }
	result_abs "$name" "$label p50 ($calls calls)" "$(awk -v m="$p50" 'BEGIN { print m / 1000 }')" "$target"
	printf 'INFO   %-14s %s p90 %s ms, p99 %s ms, max %s ms\n' "$name" "$label" "$(field "$label" p90)" "$(field "$label" p99)" "$(field "$label" max)"
done

exit $((failures > 0))
