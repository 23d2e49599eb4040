# shellcheck shell=bash
# Shared by the bench/*.sh scripts, which source it; not run on its own.
#
# Sourcing it builds bin/llms and bin/llms-mcp exactly as `make build` does
# (static, CGO_ENABLED=0), makes a private work directory that is removed on exit,
# and provides helpers to make throwaway stores and read hyperfine's JSON.
# Results go to bench/out/ (gitignored); every script prints one
# "RESULT …" line per target and exits 1 if any target was missed, 2 if
# something else failed.

set -Eeuo pipefail
trap 'exit 2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out
LLMS=$ROOT/bin/llms
mkdir -p "$OUT"

for tool in go hyperfine age; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/llms-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/llms ./cmd/llms-mcp)

# The stores must not inherit a caller's store.
unset LLM_SECRETS_DIR

failures=0

# describe_build prints what is being measured: a dynamically linked binary
# pays for the dynamic loader and cgo's runtime start on every run.
describe_build() {
	local cgo linked
	cgo=$(go version -m "$LLMS" | awk '$2 ~ /^CGO_ENABLED=/ { sub("CGO_ENABLED=", "", $2); print $2 }')
	if grep -qa 'ld-linux' <(head -c 4096 "$LLMS"); then
		linked=dynamic
	else
		linked=static
	fi
	echo "bench: $(go version | cut -d' ' -f3-), CGO_ENABLED=${cgo:-?} ($linked binary), $(nproc) CPUs, hyperfine $(hyperfine --version | cut -d' ' -f2), age $(age --version)"
	echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# new_store DIR: an initialised store holding one secret, k, with a
# 40-character value (long enough to be redacted).
new_store() {
	local dir=$1
	"$LLMS" --dir "$dir" init >/dev/null
	printf 'bench_%s\n' "$(head -c 17 /dev/urandom | od -An -tx1 | tr -d ' \n')" |
		"$LLMS" --dir "$dir" set --stdin k >/dev/null
}

# check_exec DIR: one `llms exec` must succeed before it is timed. It fails
# when llms detects an AI agent (CLAUDECODE=1, a parent named claude…) and
# no token is given: run the benchmarks from a plain shell.
check_exec() {
	"$LLMS" --dir "$1" exec --inject X=k -- true || {
		echo "bench: llms exec failed (see above); nothing to measure" >&2
		exit 2
	}
}

# fill_store DIR TOTAL: adds TOTAL-1 secrets named SECRET_000001… next to k.
# Each is a byte copy of secrets/k.age, so each is a valid age file for the
# store's identity; writing them through `llms set` would cost an fsync
# pair per secret and measures nothing the benchmarks look at. tee writes
# one input to many files, a few hundred per process.
fill_store() {
	local dir=$1 total=$2
	[ "$total" -gt 1 ] || return 0
	(
		umask 077
		seq -f "$dir/secrets/SECRET_%06.0f.age" 1 $((total - 1)) |
			xargs -d '\n' -n 500 sh -c 'tee -- "$@" <"$0" >/dev/null' "$dir/secrets/k.age"
	)
}

# median_s JSON I: the median, in seconds, of the I-th (0-based) command of a
# hyperfine --export-json file. hyperfine writes one key per line, which is
# all this needs (no jq on a fresh machine).
median_s() {
	awk -v want="$2" '/"median":/ { if (n++ == want) { gsub(/[",]/, "", $2); print $2; exit } }' "$1"
}

# cpu_s JSON I: user + system seconds (hyperfine's means) of the I-th
# command, which other processes on a shared machine inflate less than the
# wall clock.
cpu_s() {
	awk -v want="$2" '
		/"user":/ { gsub(/[",]/, "", $2); u[nu++] = $2 }
		/"system":/ { gsub(/[",]/, "", $2); s[ns++] = $2 }
		END { print u[want] + s[want] }' "$1"
}

# ms SECONDS: milliseconds with two decimals.
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# verdict VALUE TARGET: PASS if VALUE <= TARGET, else FAIL.
verdict() {
	if awk -v v="$1" -v t="$2" 'BEGIN { exit !(v <= t) }'; then echo PASS; else echo FAIL; fi
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# result_ratio NAME A_LABEL A_SECONDS B_LABEL B_SECONDS TARGET: prints the
# summary line of a side-by-side target, A/B <= TARGET, and counts a miss.
result_ratio() {
	local name=$1 al=$2 a=$3 bl=$4 b=$5 target=$6 r v
	r=$(ratio "$a" "$b")
	v=$(verdict "$r" "$target")
	[ "$v" = PASS ] || failures=$((failures + 1))
	printf 'RESULT %-14s %s %s ms, %s %s ms, ratio %s (target <= %s) %s\n' \
		"$name" "$al" "$(ms "$a")" "$bl" "$(ms "$b")" "$r" "$target" "$v"
}

# result_abs NAME LABEL SECONDS TARGET_MS: the summary line of an absolute
# target, median <= TARGET_MS milliseconds, and counts a miss.
result_abs() {
	local name=$1 label=$2 s=$3 target=$4 m v
	m=$(ms "$s")
	v=$(verdict "$m" "$target")
	[ "$v" = PASS ] || failures=$((failures + 1))
	printf 'RESULT %-14s %s %s ms (target <= %s ms) %s\n' "$name" "$label" "$m" "$target" "$v"
}

# duration SECONDS: s, ms or µs with two decimals, whichever reads best.
duration() {
	awk -v s="$1" 'BEGIN {
		if (s >= 1) printf "%.2f s", s
		else if (s >= 1e-3) printf "%.2f ms", s * 1e3
		else printf "%.2f µs", s * 1e6
	}'
}

# result_rate NAME LABEL COUNT SECONDS TARGET UNIT: the summary line of a
# throughput target, COUNT/SECONDS >= TARGET UNIT/s, and counts a miss.
result_rate() {
	local name=$1 label=$2 count=$3 s=$4 target=$5 unit=$6 rate v
	rate=$(awk -v c="$count" -v s="$s" 'BEGIN { printf "%.0f", c / s }')
	if awk -v r="$rate" -v t="$target" 'BEGIN { exit !(r >= t) }'; then v=PASS; else v=FAIL; fi
	[ "$v" = PASS ] || failures=$((failures + 1))
	printf 'RESULT %-14s %s %s, %s %s/s (target >= %s %s/s) %s\n' \
		"$name" "$label" "$(duration "$s")" "$rate" "$unit" "$target" "$unit" "$v"
}

# bench_medians FILE: "name median_ns" for each benchmark in go test -bench
# output, the -GOMAXPROCS suffix removed.
bench_medians() {
	awk '$1 ~ /^Benchmark/ && $4 == "ns/op" { name = $1; sub(/-[0-9]+$/, "", name); print name, $3 }' "$1" |
		sort -k1,1 -k2,2n |
		awk '{ v[$1, ++n[$1]] = $2 }
			END { for (k in n) { c = n[k]; m = c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2; printf "%s %.1f\n", k, m } }' |
		sort
}

# ns_to_s NANOSECONDS: seconds.
ns_to_s() { awk -v n="$1" 'BEGIN { print n / 1e9 }'; }

# median_of FILE NAME: the median ns/op of benchmark NAME.
median_of() {
	local m
	m=$(bench_medians "$1" | awk -v want="$2" '$1 == want { print $2 }')
	[ -n "$m" ] || { echo "bench: no result for $2 in $1" >&2; exit 2; }
	echo "$m"
}

