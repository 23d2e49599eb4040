#!/usr/bin/env bash
# make e2e: llms with the agents' real CLIs, at the versions
# e2e/clients/package-lock.json pins, on throwaway HOMEs, against scripted
# models (e2e/providermock). Without npm or its registry it skips, saying
# so; under CI=true it fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=e2e/clients

skip() {
	if [ "${CI:-}" = true ]; then
		echo "e2e: $1 (CI=true: failing)" >&2
		exit 1
	fi
	echo "e2e: SKIP: $1" >&2
	exit 0
}

command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed to install the agents' CLIs"
# npm ci starts from scratch each time: install only when the lockfile
# changed since the last install.
want=$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)
stamp=$clients/node_modules/.llms-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	timeout 30 npm ping --loglevel=error >/dev/null 2>&1 || skip "the npm registry is unreachable"
	start=$(date +%s)
	npm ci --prefix "$clients" --no-audit --no-fund --loglevel=error
	echo "$want" >"$stamp"
	echo "e2e: installed the clients in $(($(date +%s) - start)) s"
fi

make build
LLMS_E2E=1 LLMS_E2E_BIN="$PWD/bin/llms" LLMS_E2E_CLIENTS="$PWD/$clients/node_modules/.bin" \
	go test -count=1 -v -timeout 10m ./e2e/...
