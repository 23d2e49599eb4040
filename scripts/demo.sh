#!/usr/bin/env bash
# A two-minute tour on a throwaway store: init, set from stdin, exec a
# command that uses the secret and watch its output get redacted; then
# delegate one secret to an "agent" for five minutes and watch it refused
# everything else; then run an agent in agent mode: the store's identity is
# out of its reach, its llms exec still works.
set -euo pipefail
bin=${1:-bin/llms}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")   # absolute, named llms
# The agent below runs llms from its PATH.
export PATH=$(dirname "$bin"):$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LLM_SECRETS_DIR=$tmp/store
# The demo plays the human; an agent marker inherited from the caller's
# shell would make llms (rightly) refuse the human steps.
unset CLAUDECODE CLAUDE_CODE_ENTRYPOINT CODEX_SANDBOX GEMINI_CLI CURSOR_AGENT LLM_SECRETS_AGENT AI_AGENT

llms() { "$bin" "$@"; }
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { say "$*"; "$@" || printf '(exit %d)\n' "$?"; }

run llms init
say 'printf "sk_live_demo_…" | llms set --stdin STRIPE_KEY'
printf 'sk_live_demo_%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" | llms set --stdin STRIPE_KEY
say 'printf "…" | llms set --stdin DB_PASSWORD'
printf 'db-demo-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" | llms set --stdin DB_PASSWORD
run llms list
run llms peek STRIPE_KEY
run llms exec --inject STRIPE_KEY -- sh -c 'echo "the child sees: $STRIPE_KEY"; printf %s "$STRIPE_KEY" | base64'

printf '\n--- delegating one secret to an agent, for five minutes ---\n'
run llms session-start --ttl 1h
say 'export LLM_SECRETS_MACAROON=$(llms macaroon mint --secret STRIPE_KEY --ttl 5m)'
LLM_SECRETS_MACAROON=$(llms macaroon mint --secret STRIPE_KEY --ttl 5m)
export LLM_SECRETS_MACAROON
export CLAUDECODE=1
printf '(now acting as Claude Code: CLAUDECODE=1)\n'
run llms exec --inject STRIPE_KEY -- sh -c 'test -n "$STRIPE_KEY" && echo "agent used STRIPE_KEY"'
run llms exec --inject DB_PASSWORD -- sh -c 'echo "$DB_PASSWORD"'
run llms macaroon mint --secret DB_PASSWORD --ttl 1h
unset CLAUDECODE LLM_SECRETS_MACAROON
printf '(back to the human)\n'

printf '\n--- agent mode: the agent sandboxed, with a token of its own and the broker outside ---\n'
store=$LLM_SECRETS_DIR
agent=$(cat <<EOS
cat $store/identity.txt
llms exec -i STRIPE_KEY -- sh -c 'echo "in the agent, the child sees: \$STRIPE_KEY"'
EOS
)
say "llms agent --agent claude-code --secret STRIPE_KEY --ttl 5m -- sh -c '…', where the agent runs:"
printf '%s\n' "$agent" | sed 's/^/    /'
if ! llms agent --agent claude-code --secret STRIPE_KEY --ttl 5m -- sh -c "$agent" 2>&1; then
	printf '(agent mode needs Linux with Landlock: llms status says what this kernel offers)\n'
fi
run llms audit -n 6
printf '\nThere is no "llms get": no value ever reached this terminal.\n'
