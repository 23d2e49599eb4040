#!/usr/bin/env bash
# What the audit line costs an `llms exec`. The binary cannot run without
# its audit (an access that cannot be recorded does not happen), so the
# exec without audit is estimated from the broker's Go benchmarks:
#
#   audit cost   BenchmarkDecide - BenchmarkAuthorize: the same decision with
#                and without its audit line (open, lock, check the tail,
#                write, fsync)
#   unseal       BenchmarkRead/warm of internal/store: one age decryption,
#                what each llms process pays once to read the sealed audit
#                key, which the Go benchmarks pay only once per run
#   exec         llms exec --inject X=k -- true, hyperfine median
#
# and prints, on INFO lines (the issue sets no target), exec / (exec - audit
# cost) and exec / (exec - audit cost - unseal). Medians of COUNT (default
# 10) go test runs; the raw output is kept in bench/out/. Environment:
# COUNT, RUNS (default 300), WARMUP (default 20).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

count=${COUNT:-10}
runs=${RUNS:-300}
warmup=${WARMUP:-20}

describe_build

broker_txt=$OUT/broker-bench.txt
store_txt=$OUT/store-read-bench.txt
(cd "$ROOT" && go test -run '^$' -bench '^Benchmark(Authorize|Decide|DecideWithToken|Exec)$' -count "$count" ./internal/broker/) >"$broker_txt"
(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkRead$/^warm$' -count "$count" ./internal/store/) >"$store_txt"
echo "bench: go test medians (ns/op), of $count runs:"
bench_medians "$broker_txt" | sed 's/^/bench:   /'
bench_medians "$store_txt" | sed 's/^/bench:   /'

authorize=$(median_of "$broker_txt" BenchmarkAuthorize)
decide=$(median_of "$broker_txt" BenchmarkDecide)
unseal=$(median_of "$store_txt" BenchmarkRead/warm)

store=$work/store
new_store "$store"
check_exec "$store"
json=$OUT/audit-cost-exec.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name 'llms exec' "$LLMS --dir $store exec --inject X=k -- true"
exec_s=$(median_s "$json" 0)

# Everything below in seconds.
authorize=$(ns_to_s "$authorize")
decide=$(ns_to_s "$decide")
unseal=$(ns_to_s "$unseal")
cost=$(awk -v d="$decide" -v a="$authorize" 'BEGIN { print d - a }')
per_process=$(awk -v c="$cost" -v u="$unseal" 'BEGIN { print c + u }')
without=$(awk -v e="$exec_s" -v c="$cost" 'BEGIN { print e - c }')
without_all=$(awk -v e="$exec_s" -v c="$per_process" 'BEGIN { print e - c }')
printf 'INFO   %-14s Decide %s ms - Authorize %s ms = %s ms per audit line; + unseal %s ms = %s ms per process\n' \
	audit-cost "$(ms "$decide")" "$(ms "$authorize")" "$(ms "$cost")" "$(ms "$unseal")" "$(ms "$per_process")"
printf 'INFO   %-14s llms exec %s ms, without audit (est.) %s ms, ratio %s; without audit or unseal %s ms, ratio %s\n' \
	audit-ratio "$(ms "$exec_s")" "$(ms "$without")" "$(ratio "$exec_s" "$without")" "$(ms "$without_all")" "$(ratio "$exec_s" "$without_all")"

exit $((failures > 0))
