#!/usr/bin/env bash
# Throughput of redacted output.
#
# 1. The redactor alone (Go benchmarks of internal/redact, 50 secrets of
#    16-64 printable bytes, every form of each: 1 MiB of log lines masked
#    in 32 KiB writes, in 80-byte writes, and with a secret on every line;
#    and 20 base64 secrets over base64 lines in 1 MiB writes, as below):
#
#      redact-text    BenchmarkWriterText   target: median >= 1000 MB/s
#
#    judged on MB per CPU second of the benchmark's thread, which other
#    processes on a shared machine do not inflate; the wall-clock MB/s is
#    printed beside it.
#
# 2. A child that writes a big file through llms, whose redactor scans every
#    byte, side by side with plain pipes:
#
#      llms exec -i X01=k01 … -i X20=k20 -- cat BIGFILE > /dev/null
#      sh -c 'cat BIGFILE | cat'     two cats and a pipe: target llms <= 1.3x,
#                                    on the wall clock and on CPU time
#                                    (user + system, hyperfine's means)
#      cat BIGFILE                   one cat, no pipe (INFO)
#      llms exec -i X=k01 -- cat     one secret instead of 20 (INFO)
#      pipefloor cat BIGFILE         bench/pipefloor: llms's own data path,
#                                    a 1 MiB pipe and 1 MiB copies, without
#                                    the redactor (INFO)
#
# llms redacts even when its stdout is /dev/null: the child writes to a
# pipe, llms reads it, masks, and writes to its own stdout. BIGFILE is
# random base64 text in 76-column lines, read once before timing so that
# every command reads it from the page cache. On a machine whose CPUs are
# busy with other work the commands cannot run side by side with their
# child, and the wall clock follows the CPU time. Environment: SIZE (bytes,
# or with an IEC suffix such as 256M; default 400M), SECRETS (default 20),
# RUNS (default 10), WARMUP (default 2), COUNT (Go benchmark runs, default
# 10).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=$(numfmt --from=iec "${SIZE:-400M}")
nsecrets=${SECRETS:-20}
runs=${RUNS:-10}
warmup=${WARMUP:-2}
count=${COUNT:-10}
label=$(numfmt --to=iec-i "$size")B

describe_build

# 1. The Go benchmarks.
gobench=$OUT/redact-bench.txt
(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkWriter' -count "$count" ./internal/redact/) | tee "$gobench" | grep '^Benchmark' || true
# metric_median FILE NAME UNIT: the median of the value before UNIT on the
# benchmark's lines.
metric_median() {
	awk -v want="$2" -v unit="$3" '{ n = $1; sub(/-[0-9]+$/, "", n) } n == want { for (i = 2; i < NF; i++) if ($(i + 1) == unit) print $i }' "$1" |
		sort -g | awk '{ v[++n] = $1 } END { if (n == 0) exit 1; print (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) }'
}
for b in Text Lines Dense Base64; do
	cpu=$(metric_median "$gobench" "BenchmarkWriter$b" MB/cpu-s) || { echo "bench: no result for BenchmarkWriter$b" >&2; exit 2; }
	wall=$(metric_median "$gobench" "BenchmarkWriter$b" MB/s)
	if [ "$b" = Text ]; then
		if awk -v v="$cpu" 'BEGIN { exit !(v >= 1000) }'; then v=PASS; else v=FAIL; failures=$((failures + 1)); fi
		printf 'RESULT %-14s %s MB/cpu-s (wall %s MB/s), 50 secrets x every form (target >= 1000) %s\n' "redact-text" "$cpu" "$wall" "$v"
	else
		printf 'INFO   %-14s %s MB/cpu-s (wall %s MB/s)\n' "redact-$(echo "$b" | tr A-Z a-z)" "$cpu" "$wall"
	fi
done

# 2. llms exec cat.
store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
inject=()
for i in $(seq -f %02.0f 1 "$nsecrets"); do
	# Values of 16 to 64 bytes, as the Go benchmarks use.
	head -c 48 /dev/urandom | base64 -w0 | head -c $((16 + 10#$i * 48 / nsecrets)) | "$LLMS" set --stdin "k$i" >/dev/null
	inject+=(-i "X$i=k$i")
done
"$LLMS" exec "${inject[@]}" -- true || { echo "bench: llms exec failed" >&2; exit 2; }

# base64 turns 57 random bytes into a 77-byte line; make a little more than
# size, then cut to size exactly.
big=$work/big.txt
head -c $((size / 77 * 57 + 57)) /dev/urandom | base64 -w 76 >"$big"
truncate -s "$size" "$big"
cat "$big" >/dev/null

pipefloor=$work/pipefloor
(cd "$ROOT" && go build -trimpath -o "$pipefloor" bench/pipefloor/main.go)

json=$OUT/cat.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms exec cat, $nsecrets secrets ($label)" "$LLMS exec ${inject[*]} -- cat $big" \
	--command-name "cat | cat ($label)" "sh -c 'cat $big | cat'" \
	--command-name "cat ($label)" "cat $big" \
	--command-name "llms exec cat, 1 secret ($label)" "$LLMS exec -i X=k01 -- cat $big" \
	--command-name "pipefloor cat ($label)" "$pipefloor cat $big"
result_ratio "cat-pipe-$label" "llms ($nsecrets secrets)" "$(median_s "$json" 0)" "cat|cat" "$(median_s "$json" 1)" 1.3
result_ratio "cat-pipe-cpu" "llms CPU" "$(cpu_s "$json" 0)" "cat|cat CPU" "$(cpu_s "$json" 1)" 1.3
llms=$(median_s "$json" 0)
printf 'INFO   %-14s llms %s ms, cat alone %s ms, ratio %s\n' "cat-$label" "$(ms "$llms")" "$(ms "$(median_s "$json" 2)")" "$(ratio "$llms" "$(median_s "$json" 2)")"
one=$(median_s "$json" 3)
printf 'INFO   %-14s llms with 1 secret %s ms; %s secrets / 1 = %s\n' "secrets" "$(ms "$one")" "$nsecrets" "$(ratio "$llms" "$one")"
floor=$(median_s "$json" 4)
printf 'INFO   %-14s pipefloor (1 MiB pipe, no redaction) %s ms; llms / pipefloor = %s\n' "copy-floor" "$(ms "$floor")" "$(ratio "$llms" "$floor")"

exit $((failures > 0))
