#!/usr/bin/env bash
# Token throughput on one core, from the Go benchmarks of internal/macaroon
# and internal/caveat (go test -cpu 1, medians of COUNT runs, default 10):
#
#   token-verify     BenchmarkVerify6Caveats: the HMAC chain of a token with
#                    six caveats     target: >= 300,000/s
#   token-mint       BenchmarkMint           target: >= 300,000/s
#   token-attenuate  BenchmarkAttenuate      target: >= 300,000/s
#
# INFO lines give the mint of a whole six-caveat token
# (BenchmarkMint6Caveats: New and six attenuations); the same verification
# written with crypto/hmac (BenchmarkVerify6CaveatsCryptoHMAC), which the
# package's own RFC 2104 HMAC replaces; and what the broker does per request
# with a token: parse it, verify it, parse its caveats and check them. The
# raw go test output is kept in bench/out/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

count=${COUNT:-10}

describe_build

mac_txt=$OUT/macaroon-bench.txt
cav_txt=$OUT/caveat-bench.txt
(cd "$ROOT" && go test -run '^$' -bench . -benchmem -count "$count" -cpu 1 ./internal/macaroon/) >"$mac_txt"
(cd "$ROOT" && go test -run '^$' -bench . -benchmem -count "$count" -cpu 1 ./internal/caveat/) >"$cav_txt"
echo "bench: go test -cpu 1 medians (ns/op), of $count runs:"
bench_medians "$mac_txt" | sed 's/^/bench:   /'
bench_medians "$cav_txt" | sed 's/^/bench:   /'

verify=$(median_of "$mac_txt" BenchmarkVerify6Caveats)
result_rate token-verify "Verify, 6 caveats" 1 "$(ns_to_s "$verify")" 300000 ops
result_rate token-mint "Mint" 1 "$(ns_to_s "$(median_of "$mac_txt" BenchmarkMint)")" 300000 ops
result_rate token-attenuate "Attenuate" 1 "$(ns_to_s "$(median_of "$mac_txt" BenchmarkAttenuate)")" 300000 ops

mint6=$(median_of "$mac_txt" BenchmarkMint6Caveats)
printf 'INFO   %-14s mint with 6 caveats %s, %s ops/s\n' \
	token-mint6 "$(duration "$(ns_to_s "$mint6")")" "$(awk -v n="$mint6" 'BEGIN { printf "%.0f", 1e9 / n }')"
std=$(median_of "$mac_txt" BenchmarkVerify6CaveatsCryptoHMAC)
printf 'INFO   %-14s with crypto/hmac %s, %s ops/s: %s the time of the package HMAC\n' \
	token-hmac "$(duration "$(ns_to_s "$std")")" "$(awk -v n="$std" 'BEGIN { printf "%.0f", 1e9 / n }')" "$(ratio "$std" "$verify")"
request=$(awk -v a="$(median_of "$mac_txt" BenchmarkParse)" -v b="$verify" \
	-v c="$(median_of "$cav_txt" BenchmarkParseAll)" -v d="$(median_of "$cav_txt" BenchmarkSetCheck)" 'BEGIN { print a + b + c + d }')
printf 'INFO   %-14s parse + verify + caveat parse + check %s, %s ops/s\n' \
	token-request "$(duration "$(ns_to_s "$request")")" "$(awk -v n="$request" 'BEGIN { printf "%.0f", 1e9 / n }')"

exit $((failures > 0))
