#!/usr/bin/env bash
# `llms list` of a store holding 10,000 secrets.
#
#   list-10k  llms list    target: median <= 50 ms
#
# Environment: RUNS (default 100), WARMUP (default 10), SECRETS (default
# 10000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-100}
warmup=${WARMUP:-10}
many=${SECRETS:-10000}

describe_build

store=$work/store
new_store "$store"
fill_store "$store" "$many"
export LLM_SECRETS_DIR=$store

# A benchmark of a listing that is wrong would mean nothing.
listed=$("$LLMS" list | wc -l)
[ "$listed" -eq "$many" ] || { echo "bench: llms list printed $listed names, want $many" >&2; exit 2; }

json=$OUT/list-10k.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms list ($many)" "$LLMS list"
result_abs "list-$many" "llms list ($many)" "$(median_s "$json" 0)" 50

exit $((failures > 0))
