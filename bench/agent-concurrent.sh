#!/usr/bin/env bash
# Agent mode under load: N `llms exec` at once from inside `llms agent` (an
# agent running a parallel test suite), each a thin client of the
# launcher's broker, which serves 256 at once and keeps the rest waiting
# their turn.
#
#   agent-concurrent  N (default 1000) concurrent
#                     llms exec --inject X=k -- true
#                     in the Landlock sandbox; bench/fanout starts them and
#                     prints how many failed and how long each took from
#                     start to exit (p50, p99, max: the wait for a turn is
#                     most of it). Then `llms audit verify` on the store.
#                     target: 0 failed, the audit chain intact
#
# Environment: N (default 1000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=${N:-1000}

describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
"$LLMS" session-start --ttl 1h >/dev/null
fanout=$work/fanout
(cd "$ROOT" && go build -trimpath -o "$fanout" bench/fanout/main.go)
tree=$work/tree
mkdir "$tree"
cd "$tree"

"$LLMS" agent --secret k --ttl 30m --agent claude-code -- \
	"$fanout" "$n" "$LLMS" exec --inject X=k -- true | tee "$tree/fanout.out"

failed=$(awk '/^fanout:/ { print $4 }' "$tree/fanout.out")
verify=$("$LLMS" audit verify 2>&1) && intact=yes || intact=no
echo "bench: llms audit verify: $verify"
status=MISS
if [ "$failed" = 0 ] && [ "$intact" = yes ]; then
	status=PASS
else
	failures=$((failures + 1))
fi
printf 'RESULT %-14s %s concurrent execs: %s failed (target 0), audit chain intact: %s;%s %s\n' \
	agent-concurrent "$n" "$failed" "$intact" "$(grep '^fanout:' "$tree/fanout.out" | cut -d, -f3-)" "$status"

exit $((failures > 0))
