#!/usr/bin/env bash
# Launch overhead of agent mode, side by side in one hyperfine run:
#
#   true                     the agent doing nothing, started directly
#   agent -- true            llms agent --agent codex -- true: open the store,
#                            build the Landlock rules (reads / and the home
#                            directory), serve the broker socket, audit the
#                            start and end, start `true` through the
#                            sandbox re-exec, end its tree
#   agent+token -- true      the same with --secret k --ttl 5m: also mints the
#                            agent's token and revokes it at exit
#
# The parts are Go benchmarks in internal/sandbox: BenchmarkBuild (the rule
# set, once per launch) and BenchmarkRestrict (confining one thread, what
# the broker pays for every child it starts). No target: the numbers go to docs/PERFORMANCE.md. Environment: RUNS
# (default 200), WARMUP (default 10).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-200}
warmup=${WARMUP:-10}

describe_build
store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
"$LLMS" session-start --ttl 1h >/dev/null
mkdir -p "$work/proj"
cd "$work/proj"
"$LLMS" agent --agent codex -- true || {
	echo "bench: llms agent failed (see above); nothing to measure" >&2
	exit 2
}
true_bin=$(command -v true)

json=$OUT/agent-launch.json
cmds=(--command-name 'true' "$true_bin"
	--command-name 'agent -- true' "$LLMS agent --agent codex -- $true_bin"
	--command-name 'agent+token -- true' "$LLMS agent --agent codex --secret k --ttl 5m -- $true_bin")
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" "${cmds[@]}"
t=$(median_s "$json" 0)
a=$(median_s "$json" 1)
k=$(median_s "$json" 2)
printf 'INFO   %-14s true %s ms; llms agent -- true %s ms (+%s ms, %sx); with a token %s ms (+%s ms, %sx)\n' \
	agent-launch "$(ms "$t")" "$(ms "$a")" "$(ms "$(awk -v a="$a" -v t="$t" 'BEGIN { print a - t }')")" "$(ratio "$a" "$t")" \
	"$(ms "$k")" "$(ms "$(awk -v a="$k" -v t="$t" 'BEGIN { print a - t }')")" "$(ratio "$k" "$t")"

bout=$OUT/agent-launch-go.txt
(cd "$ROOT" && go test -run '^$' -bench 'Build|Restrict' -count 5 ./internal/sandbox) >"$bout"
printf 'INFO   %-14s rule set built in %s µs; one thread confined in %s µs\n' sandbox-parts \
	"$(awk -v n="$(median_of "$bout" BenchmarkBuild)" 'BEGIN { printf "%.0f", n / 1000 }')" \
	"$(awk -v n="$(median_of "$bout" BenchmarkRestrict)" 'BEGIN { printf "%.0f", n / 1000 }')"
exit 0
