#!/usr/bin/env bash
# Throughput of `llms scan`, side by side with grep.
#
#   scan-log    llms scan LOGFILE, with 100 secrets in the store, pinned to
#               one core (taskset -c 0); targets: >= 400 MB/s (10^6 bytes)
#               and CPU time <= 1.0x that of LC_ALL=C grep -F -c -f
#               PATTERNS LOGFILE on the same core, where PATTERNS holds the
#               100 raw values only (llms looks for every form of each: base64
#               at three alignments, hex, percent and JSON escapes, wrapped
#               across lines, hex dumps; about 900 patterns in two views).
#               Output goes to a pipe: GNU grep stops at the first match,
#               even with -c, when its output is /dev/null.
#   scan-base64 the same two commands on random base64 text in 76-column
#               lines (base64 -w 76), the same size; target: CPU time <=
#               1.0x grep's.
#   git-history llms scan --git --all-history in a repository of COMMITS
#               commits (default 10,000) made with git fast-import; reported,
#               with `git rev-list --all --objects | git cat-file --batch`
#               (reading every blob, no search) as the floor. COMMITS=0
#               skips it.
#
# The ratios are judged on CPU time (user + system, hyperfine's means),
# which other processes on a shared machine inflate less than the wall
# clock; the wall-clock medians are printed too. LOGFILE is log and
# transcript lines (bench/scangen) in which 10 values are planted, raw,
# base64-encoded and JSON-escaped: llms scan exits 1, which hyperfine is
# told to accept. Everything is generated in a temporary directory and
# removed afterwards. Environment: SIZE (default 1G = 1 GiB), COMMITS
# (default 10000), RUNS (default 5), WARMUP (default 1).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=$(numfmt --from=iec "${SIZE:-1G}")
commits=${COMMITS:-10000}
runs=${RUNS:-5}
warmup=${WARMUP:-1}
label=$(numfmt --to=iec-i "$size")B
command -v git >/dev/null || { echo "bench: git is required" >&2; exit 2; }

describe_build

store=$work/store
"$LLMS" --dir "$store" init >/dev/null
export LLM_SECRETS_DIR=$store

gen=$work/scangen
(cd "$ROOT" && go build -trimpath -o "$gen" bench/scangen/main.go)
big=$work/big.txt
patterns=$work/patterns.txt
"$gen" -n 100 -size "$size" -patterns "$patterns" -out "$big"
i=0
while read -r v; do
	i=$((i + 1))
	printf '%s\n' "$v" | "$LLMS" set --stdin "SECRET_$i" >/dev/null
done <"$patterns"
cat "$big" >/dev/null

found=$("$LLMS" scan "$big" 2>/dev/null | wc -l) || true
echo "bench: llms scan finds $found findings in $label (10 values planted, 3 forms each)"

b64=$work/base64.txt
head -c $((size / 77 * 57 + 57)) /dev/urandom | base64 -w 76 >"$b64"
truncate -s "$size" "$b64"
cat "$b64" >/dev/null

json=$OUT/scan.json
hyperfine -N -i --style basic --output=pipe --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms scan (log, $label, 100 secrets)" "taskset -c 0 $LLMS scan $big" \
	--command-name "grep -F -f (log, $label, 100 raw values)" "taskset -c 0 env LC_ALL=C grep -F -c -f $patterns $big" \
	--command-name "llms scan (base64, $label, 100 secrets)" "taskset -c 0 $LLMS scan $b64" \
	--command-name "grep -F -f (base64, $label, 100 raw values)" "taskset -c 0 env LC_ALL=C grep -F -c -f $patterns $b64"
mb=$(awk -v n="$size" 'BEGIN { print n / 1e6 }')
# per_s SECONDS: MB/s of the file's size.
per_s() { awk -v n="$mb" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
llms=$(cpu_s "$json" 0)
result_rate "scan-$label" "llms scan (log), CPU time" "$mb" "$llms" 400 MB
i=0
for text in log base64; do
	llms=$(cpu_s "$json" "$i")
	grep=$(cpu_s "$json" $((i + 1)))
	result_ratio "scan-$text" "llms scan CPU" "$llms" "grep -F -f CPU" "$grep" 1.0
	wl=$(median_s "$json" "$i")
	wg=$(median_s "$json" $((i + 1)))
	printf 'INFO   %-14s CPU per byte: llms %s MB/s, grep %s MB/s; wall-clock medians: llms %s (%s MB/s), grep %s (%s MB/s)\n' \
		"scan-$text" "$(per_s "$llms")" "$(per_s "$grep")" "$(duration "$wl")" "$(per_s "$wl")" "$(duration "$wg")" "$(per_s "$wg")"
	i=$((i + 2))
done

[ "$commits" -gt 0 ] || exit $((failures > 0))

# A generated history: git fast-import writes it in seconds.
repo=$work/repo
git init -q -b main "$repo"
"$gen" -git "$commits" -patterns "$work/git-patterns.txt" -out "$work/history.fi"
git -C "$repo" fast-import --quiet <"$work/history.fi"
git -C "$repo" checkout -q main
head -n 1 "$work/git-patterns.txt" | "$LLMS" set --stdin GIT_SECRET >/dev/null
blobs=$(git -C "$repo" rev-list --all --objects --filter=object:type=blob --filter-provided-objects | grep -c ' ')
(cd "$repo" && "$LLMS" scan --git --all-history) 2>&1 | sed 's/^/bench: /' || true

json=$OUT/scan-git.json
(cd "$repo" && hyperfine -N -i --style basic --output=pipe --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms scan --git --all-history ($commits commits, $blobs blobs)" "$LLMS scan --git --all-history" \
	--command-name "git rev-list --all --objects | git cat-file --batch" \
	"sh -c 'git rev-list --all --objects --filter=object:type=blob --filter-provided-objects | cut -d\" \" -f1 | git cat-file --batch'")
printf 'INFO   %-14s llms scan --git --all-history, %s commits, %s blobs: %s; git cat-file alone: %s\n' "git-history" \
	"$commits" "$blobs" "$(duration "$(median_s "$json" 0)")" "$(duration "$(median_s "$json" 1)")"

exit $((failures > 0))
