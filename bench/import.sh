#!/usr/bin/env bash
# `llms import` of a 10,000-entry .env into a fresh store, one crash-safe
# batch (all or nothing).
#
#   import-10k  llms import big.env    target: median <= 3 s
#
# OLD=path/to/llms times an older build side by side (built from another
# commit: `git worktree add /tmp/old COMMIT && (cd /tmp/old && make build)`).
# The Go benchmark BenchmarkImport10000 (internal/broker) is the same minus
# process start, parsing and printing.
#
# Environment: RUNS (default 5), WARMUP (default 1), ENTRIES (default 10000),
# OLD (default none).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-5}
warmup=${WARMUP:-1}
entries=${ENTRIES:-10000}

describe_build

# Values are 40 hex digits, as API keys are; each differs.
env_file=$work/big.env
od -An -vtx1 -w20 -N $((entries * 20)) /dev/urandom | tr -d ' ' |
	awk '{ printf "SECRET_%06d=%s\n", NR, $0 }' >"$env_file"
[ "$(wc -l <"$env_file")" -eq "$entries" ] || { echo "bench: made a .env of the wrong size" >&2; exit 2; }

# Each run: a fresh store made in --prepare, then the import timed.
store=$work/store
prepare="rm -rf $store && $LLMS --dir $store init"
commands=(--command-name "llms import ($entries)" "$LLMS --dir $store import $env_file")
if [ -n "${OLD:-}" ]; then
	commands+=(--command-name "old llms import ($entries)" "$OLD --dir $store import $env_file")
fi

# An import that stores the wrong thing would mean nothing.
eval "$prepare" >/dev/null
"$LLMS" --dir "$store" import "$env_file" >/dev/null
[ "$("$LLMS" --dir "$store" list | wc -l)" -eq "$entries" ] || { echo "bench: llms import did not store every entry" >&2; exit 2; }

json=$OUT/import-10k.json
hyperfine --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--prepare "$prepare" "${commands[@]}"
result_abs "import-$entries" "llms import ($entries)" "$(median_s "$json" 0)" 3000
if [ -n "${OLD:-}" ]; then
	printf 'INFO   import-%s old build %s ms, ratio new/old %s\n' "$entries" "$(ms "$(median_s "$json" 1)")" \
		"$(ratio "$(median_s "$json" 0)" "$(median_s "$json" 1)")"
fi

(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkImport10000$' -benchtime 3x -count 3 ./internal/broker) | tee "$OUT/import-bench.txt"
printf 'INFO   import-go BenchmarkImport10000 median %s\n' "$(duration "$(ns_to_s "$(median_of "$OUT/import-bench.txt" BenchmarkImport10000)")")"

exit $((failures > 0))
