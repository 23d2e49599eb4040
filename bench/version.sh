#!/usr/bin/env bash
# What every llms command pays before it does anything: start-up.
#
#   version-vs-hello  llms --version vs a static Go hello-world (the same
#                     toolchain, CGO_ENABLED=0): Go's runtime start, the
#                     package initialisers of everything linked, cobra
#                     target: median ratio <= 1.5
#
#   version-http      INFO: the same llms built with a blank import of
#                     net/http, and one of crypto/tls, timed in the same run:
#                     what a credential proxy linked into llms would add to
#                     every command (docs/adr/0036)
#
# One hyperfine run, side by side (-N: no shell). The package initialisers
# are listed as INFO (GODEBUG=inittrace=1, the sum over all packages and the
# five costliest, each the minimum of INIT_RUNS runs). Environment: RUNS
# (default 500), WARMUP (default 20), INIT_RUNS (default 15).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-500}
warmup=${WARMUP:-20}
init_runs=${INIT_RUNS:-15}

describe_build

hello=$work/hello
mkdir "$hello"
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' >"$hello/main.go"
(cd "$hello" && CGO_ENABLED=0 GO111MODULE=off go build -trimpath -o hello main.go)

# llms with one more package linked: main.go with a blank import, through
# -overlay, so the tree is not touched.
for pkg in net/http crypto/tls; do
	v=${pkg//\//-}
	sed "s#^import (#import (\n\t_ \"$pkg\"#" "$ROOT/cmd/llms/main.go" >"$work/main-$v.go"
	printf '{"Replace":{"%s":"%s"}}' "$ROOT/cmd/llms/main.go" "$work/main-$v.go" >"$work/overlay-$v.json"
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -overlay "$work/overlay-$v.json" -o "$work/llms-$v" ./cmd/llms)
done

json=$OUT/version-vs-hello.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name 'llms --version' "$LLMS --version" \
	--command-name 'hello-world' "$hello/hello" \
	--command-name 'llms+net/http --version' "$work/llms-net-http --version" \
	--command-name 'llms+crypto/tls --version' "$work/llms-crypto-tls --version"
llms_s=$(median_s "$json" 0)
result_ratio version-vs-hello "llms --version" "$llms_s" hello-world "$(median_s "$json" 1)" 1.5
labels=([2]=llms+net/http [3]=llms+crypto/tls)
for i in 2 3; do
	s=$(median_s "$json" $i)
	printf 'INFO   %-14s %s %s ms vs llms %s ms: +%s ms, ratio %s\n' version-http \
		"${labels[$i]}" "$(ms "$s")" "$(ms "$llms_s")" \
		"$(awk -v a="$s" -v b="$llms_s" 'BEGIN { printf "%.2f", (a - b) * 1000 }')" "$(ratio "$s" "$llms_s")"
done

# inits BIN OUTFILE: per package, the minimum over init_runs runs of
# GODEBUG=inittrace=1's "init PKG @T ms, D ms clock, …" lines, costliest
# first.
inits() {
	for _ in $(seq "$init_runs"); do
		GODEBUG=inittrace=1 "$1" --version 2>&1 >/dev/null | awk '$1 == "init" { print $2, $5 }'
	done | awk '{ if (!($1 in m) || $2 < m[$1]) m[$1] = $2 } END { for (k in m) print m[k], k }' | sort -rn >"$2"
}
inits "$LLMS" "$OUT/version-inits.txt"
inits "$work/llms-net-http" "$OUT/version-inits-http.txt"
sum() { awk '{ s += $1 } END { printf "%.2f", s }' "$1"; }
printf 'INFO   %-14s %s packages, initialisers %s ms (per-package minimum of %s runs); costliest: %s\n' \
	version-inits "$(wc -l <"$OUT/version-inits.txt")" "$(sum "$OUT/version-inits.txt")" "$init_runs" \
	"$(head -5 "$OUT/version-inits.txt" | awk '{ printf "%s%s %s ms", (NR > 1 ? ", " : ""), $2, $1 }')"
printf 'INFO   %-14s with net/http linked: %s packages, initialisers %s ms\n' \
	version-inits "$(wc -l <"$OUT/version-inits-http.txt")" "$(sum "$OUT/version-inits-http.txt")"
printf 'INFO   %-14s llms %s bytes, llms-mcp %s bytes\n' binary-size "$(stat -c %s "$LLMS")" "$(stat -c %s "$ROOT/bin/llms-mcp")"

exit $((failures > 0))
