#!/usr/bin/env bash
# Agent mode: what using a secret costs an agent, and what launching one
# costs.
#
#   agent-exec   inside `llms agent` (Landlock sandbox, the launcher's warm
#                broker), side by side in one hyperfine run:
#                  llms exec --inject X=k -- true   (thin client -> broker,
#                  which starts `true` in a new sandbox domain)
#                  vs sh -c 'X=$(age -d -i identity.txt k.age) exec true'
#                target: median ratio <= 0.8
#   agent-exec-nosb  the same under `llms agent --no-sandbox`: the
#                protocol and the broker without Landlock (INFO)
#
# The launch itself is bench/agent-launch.sh's. The server's share is the
# Go benchmark BenchmarkExecTrue in internal/agentsock (no process start,
# no sandbox).
# The sandbox hides the store from the agent, so the age side reads a copy
# of identity.txt and k.age; both sides run in the same sandbox, and age
# reads its files through the same Landlock rules. Interleaved rounds of
# both commands (bench/rounds.sh, needs jq) follow each hyperfine run, as
# INFO. Environment: RUNS (default 300), WARMUP (default 20), ROUNDS
# (default 8, 0 skips them), ROUND_RUNS (default 40).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-300}
warmup=${WARMUP:-20}
rounds=${ROUNDS:-8}
round_runs=${ROUND_RUNS:-40}

describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
"$LLMS" session-start --ttl 1h >/dev/null
copy=$work/agecopy
mkdir -m 0700 "$copy"
cp "$store/identity.txt" "$store/secrets/k.age" "$copy/"
# The agent's working tree, where it may write (not beside the store).
tree=$work/tree
mkdir "$tree"
cd "$tree"

# inner.sh runs as the agent: it checks that exec works, then times.
cat >"$tree/inner.sh" <<INNER
set -e
"$LLMS" exec --inject X=k -- true
if cat "$store/identity.txt" >/dev/null 2>&1 && [ "\$1" = sandbox ]; then
	echo "bench: the agent could read the store's identity: not a sandbox" >&2
	exit 2
fi
hyperfine -N --style basic --output=null --warmup $warmup --runs $runs --export-json "$tree/\$1.json" \\
	--command-name 'agent-mode llms exec' "$LLMS exec --inject X=k -- true" \\
	--command-name 'sh+age' "sh -c 'X=\\\$(age -d -i $copy/identity.txt $copy/k.age) exec true'"
if [ "$rounds" -gt 0 ]; then
	TMPDIR="$tree" "$ROOT/bench/rounds.sh" $rounds $round_runs \\
		"$LLMS exec --inject X=k -- true" \\
		"sh -c 'X=\\\$(age -d -i $copy/identity.txt $copy/k.age) exec true'" >"$tree/\$1.rounds"
fi
INNER

agent=("$LLMS" agent --secret k --ttl 30m --agent claude-code)
"${agent[@]}" -- bash "$tree/inner.sh" sandbox
"${agent[@]}" --no-sandbox -- bash "$tree/inner.sh" nosandbox 2>/dev/null
cp "$tree/sandbox.json" "$OUT/agent-exec.json"
cp "$tree/nosandbox.json" "$OUT/agent-exec-nosandbox.json"

result_ratio agent-exec "llms exec" "$(median_s "$OUT/agent-exec.json" 0)" sh+age "$(median_s "$OUT/agent-exec.json" 1)" 0.8
if [ "$rounds" -gt 0 ]; then
	# Interleaved rounds (bench/rounds.sh): each command sees the same load.
	for v in sandbox nosandbox; do
		a=$(awk 'NR == 1 { print $1 / 1000 }' "$tree/$v.rounds")
		b=$(awk 'NR == 2 { print $1 / 1000 }' "$tree/$v.rounds")
		printf 'INFO   %-14s %s, %s rounds of %s: llms exec %s ms, sh+age %s ms, ratio %s\n' \
			agent-exec-rnd "$v" "$rounds" "$round_runs" "$(ms "$a")" "$(ms "$b")" "$(ratio "$a" "$b")"
	done
fi
a=$(median_s "$OUT/agent-exec-nosandbox.json" 0)
b=$(median_s "$OUT/agent-exec-nosandbox.json" 1)
printf 'INFO   %-14s without the sandbox: llms exec %s ms, sh+age %s ms, ratio %s\n' \
	agent-exec-nosb "$(ms "$a")" "$(ms "$b")" "$(ratio "$a" "$b")"

exit $((failures > 0))
