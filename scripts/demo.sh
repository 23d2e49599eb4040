#!/usr/bin/env bash
# A two-minute tour on a throwaway store: init, set from stdin, exec a
# command that uses the secret, and watch its output get redacted.
set -euo pipefail
llms=$(realpath "${1:-bin/llms}")
export LLM_SECRETS_DIR
LLM_SECRETS_DIR=$(mktemp -d)/store
trap 'rm -rf "$(dirname "$LLM_SECRETS_DIR")"' EXIT

run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$llms" init
printf 'sk_live_demo_%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$LLM_SECRETS_DIR/../value"
printf '\n$ printf "sk_live_demo_…" | llms set --stdin STRIPE_KEY\n'
"$llms" set --stdin STRIPE_KEY <"$LLM_SECRETS_DIR/../value"
rm "$LLM_SECRETS_DIR/../value"
run "$llms" list
run "$llms" peek STRIPE_KEY
run "$llms" exec --inject STRIPE_KEY -- sh -c 'echo "the child sees: $STRIPE_KEY"; printf %s "$STRIPE_KEY" | base64'
run "$llms" exec --inject STRIPE_KEY -- sh -c 'test "${#STRIPE_KEY}" -gt 0 && echo "the child used a ${#STRIPE_KEY}-byte key without printing it"'
printf '\nThere is no "llms get": the value never reached this terminal.\n'
