#!/usr/bin/env bash
# rounds.sh ROUNDS RUNS CMD… — times several commands in interleaved rounds
# and prints, per command, the median over all rounds.
#
# One hyperfine run times its commands one after the other, so on a shared
# machine a burst of load can land on one of them and skew their ratio.
# Here every round runs every command RUNS times, so each command sees the
# same load on average. This is the tool behind the variant tables in
# docs/PERFORMANCE.md; the target scripts use single hyperfine runs, as the
# targets are defined. Needs jq. Commands run without a shell (-N).
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 ROUNDS RUNS CMD..." >&2; exit 2; }
command -v jq >/dev/null || { echo "rounds.sh: jq is required" >&2; exit 2; }
rounds=$1 runs=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
	# hyperfine warns about outliers on every round; show its stderr only
	# when it fails.
	hyperfine -N --style none --output=null --warmup 3 --runs "$runs" --export-json "$tmp/$r.json" "$@" \
		>/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 2; }
done

# Pool the runs of each command over the rounds; report median, 25th
# percentile and mean user and system time.
jq -s -r '
	[.[].results] | transpose[] |
	{cmd: .[0].command, t: ([.[].times[]] | sort), user: ([.[].user] | add / length), sys: ([.[].system] | add / length)} |
	def ms: . * 100000 | round / 100;
	"\(.t[(.t | length) / 2 | floor] | ms) ms  (p25 \(.t[(.t | length) / 4 | floor] | ms), n=\(.t | length), user \(.user | ms), sys \(.sys | ms))  \(.cmd)"
' "$tmp"/*.json
