#!/usr/bin/env bash
# Reading a big audit log from the command line.
#
#   audit-verify  llms audit verify, on a log of 1,000,000 lines
#                 target: >= 500,000 lines/s (median wall time <= 2 s)
#   audit-tail    llms audit -n 20, on the same log
#                 target: median <= 50 ms
#
# The log is a real one: bench/auditgen appends the lines with the same
# audit.Log.Append that llms uses, under the store's own audit key, in a
# scratch directory on tmpfs where fsync is cheap, then moves it into the
# store. Neither command writes to the log, so every run reads the same
# lines, from the page cache after the warm-up. Environment: AUDIT_LINES
# (default 1000000), RUNS (default 10 for verify, 10x that for the tail),
# WARMUP (default 2), SCRATCH (default /dev/shm).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

lines=${AUDIT_LINES:-1000000}
runs=${RUNS:-10}
warmup=${WARMUP:-2}
scratch=${SCRATCH:-/dev/shm}

describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
# new_store's `llms set` made the audit key and the log's first line.
existing=$(wc -l <"$store/audit.jsonl")
start=$(date +%s.%N)
(cd "$ROOT" && go run bench/auditgen/main.go -store "$store" -scratch "$scratch" -n "$lines")
echo "bench: appended $lines lines in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s ($(du -h "$store/audit.jsonl" | cut -f1))"
total=$((existing + lines))

# A benchmark of a check that does not pass would mean nothing.
verified=$("$LLMS" audit verify)
[ "$verified" = "ok: $total lines, chain intact" ] || { echo "bench: llms audit verify said: $verified; want $total lines" >&2; exit 2; }
shown=$("$LLMS" audit -n 20 | wc -l)
[ "$shown" -eq 20 ] || { echo "bench: llms audit -n 20 printed $shown lines" >&2; exit 2; }

label=$(numfmt --to=si --round=nearest "$total")
json=$OUT/audit-verify.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms audit verify ($label lines)" "$LLMS audit verify"
result_rate audit-verify "llms audit verify ($label lines)" "$total" "$(median_s "$json" 0)" 500000 lines

json=$OUT/audit-tail.json
hyperfine -N --style basic --output=null --warmup "$((warmup * 5))" --runs "$((runs * 10))" --export-json "$json" \
	--command-name "llms audit -n 20 ($label lines)" "$LLMS audit -n 20"
result_abs audit-tail "llms audit -n 20 ($label lines)" "$(median_s "$json" 0)" 50

exit $((failures > 0))
