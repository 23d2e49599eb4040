#!/usr/bin/env bash
# The credential proxy's cost, side by side with the same local HTTPS
# server reached directly (internal/credproxy's BenchmarkRoundTrip and
# BenchmarkBody1MiB: each iteration fetches once direct, once through the
# proxy to the host a value is bound to — intercepted, substituted,
# redacted — and once through a tunnel of the proxy, so that all three
# see the same load):
#
#   added p50   keep-alive loop of small requests, proxy p50 - direct p50
#               (target <= 0.3 ms)
#   throughput  1 MiB answers, direct / proxy of the medians (target >= 0.8)
#
# Medians of COUNT (default 5) go test runs; the raw output is kept in
# bench/out/. Environment: COUNT.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

count=${COUNT:-5}

describe_build

txt=$OUT/proxy-bench.txt
(cd "$ROOT" && go test -run '^$' -bench '^Benchmark(RoundTrip|Body1MiB)$' -count "$count" ./internal/credproxy/) >"$txt"

# metric NAME UNIT: the median over the runs of benchmark NAME's UNIT.
metric() {
	awk -v want="$1" -v unit="$2" '
		{ name = $1; sub(/-[0-9]+$/, "", name) }
		name == want { for (i = 3; i < NF; i++) if ($(i + 1) == unit) print $i }' "$txt" |
		sort -g | awk '{ v[++n] = $1 } END { if (n == 0) exit 1; print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

for b in BenchmarkRoundTrip BenchmarkBody1MiB; do
	printf 'INFO   %-18s direct %s ms, proxy %s ms, tunnel %s ms (medians of %s runs)\n' "$b" \
		"$(ms "$(ns_to_s "$(metric "$b" direct-ns)")")" "$(ms "$(ns_to_s "$(metric "$b" proxy-ns)")")" \
		"$(ms "$(ns_to_s "$(metric "$b" tunnel-ns)")")" "$count"
done

added=$(ns_to_s "$(metric BenchmarkRoundTrip added-ns)")
result_abs proxy-p50 "added p50" "$added" 0.3

r=$(metric BenchmarkBody1MiB ratio)
if awk -v r="$r" 'BEGIN { exit !(r >= 0.8) }'; then v=PASS; else v=FAIL; failures=$((failures + 1)); fi
printf 'RESULT %-14s 1 MiB answers, direct/proxy %.2f (target >= 0.8) %s\n' proxy-1mib "$r" "$v"

exit $((failures > 0))
