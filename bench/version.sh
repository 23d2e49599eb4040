#!/usr/bin/env bash
# What every llms command pays before it does anything: start-up.
#
#   version-vs-hello  llms --version vs a static Go hello-world (the same
#                     toolchain, CGO_ENABLED=0): Go's runtime start, the
#                     package initialisers of everything linked, cobra
#                     target: median ratio <= 1.5
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

json=$OUT/version-vs-hello.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name 'llms --version' "$LLMS --version" \
	--command-name 'hello-world' "$hello/hello"
result_ratio version-vs-hello "llms --version" "$(median_s "$json" 0)" hello-world "$(median_s "$json" 1)" 1.5

# inittrace: "init PKG @T ms, D ms clock, …" per package, on stderr.
for _ in $(seq "$init_runs"); do
	GODEBUG=inittrace=1 "$LLMS" --version 2>&1 >/dev/null | awk '$1 == "init" { print $2, $5 }'
done | awk '{ if (!($1 in m) || $2 < m[$1]) m[$1] = $2 } END { for (k in m) print m[k], k }' | sort -rn >"$OUT/version-inits.txt"
printf 'INFO   %-14s %s packages, initialisers %.2f ms (per-package minimum of %s runs); costliest: %s\n' \
	version-inits "$(wc -l <"$OUT/version-inits.txt")" "$(awk '{ s += $1 } END { print s }' "$OUT/version-inits.txt")" "$init_runs" \
	"$(head -5 "$OUT/version-inits.txt" | awk '{ printf "%s%s %s ms", (NR > 1 ? ", " : ""), $2, $1 }')"
printf 'INFO   %-14s llms %s bytes, llms-mcp %s bytes\n' binary-size "$(stat -c %s "$LLMS")" "$(stat -c %s "$ROOT/bin/llms-mcp")"

exit $((failures > 0))
