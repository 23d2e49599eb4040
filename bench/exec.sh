#!/usr/bin/env bash
# Start-up cost of `llms exec`, side by side with the shell one-liner a user
# would otherwise write with the reference age tool:
#
#   exec-vs-age  llms exec --inject X=k -- true
#                vs sh -c 'X=$(age -d -i identity.txt secrets/k.age) exec true'
#                target: median ratio <= 0.8
#   exec-token   env CLAUDECODE=1 LLM_SECRETS_MACAROON=TOKEN llms exec --inject X=k -- true
#                (an agent with a token for k), vs the same sh+age
#                target: median ratio <= 0.8
#   exec-10k     the same llms exec in a store of 10,000 secrets vs one of 10
#                target: median ratio <= 1.1
#
# Each group is measured in one hyperfine run (-N: no intermediate shell;
# the age side's own sh is part of what it costs). hyperfine cannot give
# one command its own environment, so the token command goes through
# env(1), which costs one more exec; `env llms exec` without a token is
# timed beside it so that INFO lines can give the token's own cost and the
# token ratio without env's. Environment: RUNS (default 300), WARMUP
# (default 20), SECRETS (default 10000).
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

# The issue's commands verbatim: relative paths from inside the store, and
# the store found through LLM_SECRETS_DIR.
cd "$small"
export LLM_SECRETS_DIR=$small

# The token an agent would be handed: one secret, half an hour. It must
# work before it is timed. It ends up in hyperfine's JSON, harmlessly: its
# store is deleted when the script exits.
"$LLMS" session-start --ttl 1h >/dev/null
token=$("$LLMS" macaroon mint --secret k --ttl 30m)
env CLAUDECODE=1 LLM_SECRETS_MACAROON="$token" "$LLMS" exec --inject X=k -- true || {
	echo "bench: llms exec with a token failed (see above); nothing to measure" >&2
	exit 2
}

json=$OUT/exec-vs-age.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name 'llms exec' "$LLMS exec --inject X=k -- true" \
	--command-name 'sh+age' "sh -c 'X=\$(age -d -i identity.txt secrets/k.age) exec true'" \
	--command-name 'llms exec, agent with token' "env CLAUDECODE=1 LLM_SECRETS_MACAROON=$token $LLMS exec --inject X=k -- true" \
	--command-name 'env llms exec' "env $LLMS exec --inject X=k -- true"
exec_s=$(median_s "$json" 0)
age_s=$(median_s "$json" 1)
token_s=$(median_s "$json" 2)
env_s=$(median_s "$json" 3)
result_ratio exec-vs-age llms "$exec_s" sh+age "$age_s" 0.8
result_ratio exec-token "llms+token" "$token_s" sh+age "$age_s" 0.8
# Without env's exec: the token command less what env adds to a plain exec.
net_s=$(awk -v t="$token_s" -v e="$env_s" -v x="$exec_s" 'BEGIN { print t - (e - x) }')
printf 'INFO   %-14s with token / without: %s (both through env: %s); without env, token %s ms, ratio to sh+age %s\n' \
	token-cost "$(ratio "$token_s" "$exec_s")" "$(ratio "$token_s" "$env_s")" "$(ms "$net_s")" "$(ratio "$net_s" "$age_s")"
unset LLM_SECRETS_DIR

json=$OUT/exec-10k.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "exec, $many secrets" "$LLMS --dir $large exec --inject X=k -- true" \
	--command-name 'exec, 10 secrets' "$LLMS --dir $small exec --inject X=k -- true"
result_ratio "exec-$many" "$many secrets" "$(median_s "$json" 0)" "10 secrets" "$(median_s "$json" 1)" 1.1

exit $((failures > 0))
