#!/usr/bin/env bash
# Start-up cost of `llms exec`, side by side with the shell one-liner a user
# would otherwise write with the reference age tool:
#
#   exec-vs-age  llms exec --inject X=k -- true
#                vs sh -c 'X=$(age -d -i identity.txt secrets/k.age) exec true'
#                target: median ratio <= 0.8
#   exec-10k     the same llms exec in a store of 10,000 secrets vs one of 10
#                target: median ratio <= 1.1
#
# Each pair is measured in one hyperfine run (-N: no intermediate shell;
# the age side's own sh is part of what it costs). Environment: RUNS
# (default 300), WARMUP (default 20), SECRETS (default 10000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-300}
warmup=${WARMUP:-20}
many=${SECRETS:-10000}

describe_build

small=$work/store10
large=$work/store$many
new_store "$small"
new_store "$large"
fill_store "$small" 10
fill_store "$large" "$many"
check_exec "$small"

# The same code built with CGO_ENABLED=0, timed beside the shipped build:
# the difference is what dynamic linking costs every run (see
# docs/PERFORMANCE.md).
static=$work/llms-static
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$static" ./cmd/llms)

# The issue's commands verbatim: relative paths from inside the store, and
# the store found through LLM_SECRETS_DIR.
cd "$small"
export LLM_SECRETS_DIR=$small
json=$OUT/exec-vs-age.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name 'llms exec' "$LLMS exec --inject X=k -- true" \
	--command-name 'sh+age' "sh -c 'X=\$(age -d -i identity.txt secrets/k.age) exec true'" \
	--command-name 'llms exec (CGO_ENABLED=0)' "$static exec --inject X=k -- true"
age_s=$(median_s "$json" 1)
result_ratio exec-vs-age llms "$(median_s "$json" 0)" sh+age "$age_s" 0.8
static_s=$(median_s "$json" 2)
printf 'INFO   %-14s llms built with CGO_ENABLED=0 %s ms, ratio to sh+age %s\n' exec-static "$(ms "$static_s")" "$(ratio "$static_s" "$age_s")"
unset LLM_SECRETS_DIR

json=$OUT/exec-10k.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "exec, $many secrets" "$LLMS --dir $large exec --inject X=k -- true" \
	--command-name 'exec, 10 secrets' "$LLMS --dir $small exec --inject X=k -- true"
result_ratio "exec-$many" "$many secrets" "$(median_s "$json" 0)" "10 secrets" "$(median_s "$json" 1)" 1.1

exit $((failures > 0))
