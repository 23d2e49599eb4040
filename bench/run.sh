#!/usr/bin/env bash
# Runs every benchmark of the performance targets and prints their RESULT
# lines together at the end. The crash-safety run is long and runs only
# when asked: `bench/run.sh --crash` (or CRASH=1). Exits 1 if a target was
# missed, 2 if a script failed.
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$dir/out"
log=$dir/out/run.log
: >"$log"

scripts=(version.sh exec.sh list.sh cat.sh audit.sh audit-cost.sh tokens.sh scan.sh agent-launch.sh agent-exec.sh agent-concurrent.sh mcp.sh)
if [ "${1:-}" = --crash ] || [ "${CRASH:-0}" = 1 ]; then
	scripts+=(crash.sh)
fi

status=0
for s in "${scripts[@]}"; do
	echo "=== $s" | tee -a "$log"
	rc=0
	"$dir/$s" 2>&1 | tee -a "$log" || rc=${PIPESTATUS[0]}
	case $rc in
	0) ;;
	1) status=$((status > 1 ? status : 1)) ;;
	*) echo "=== $s: ERROR (exit $rc)" | tee -a "$log"; status=2 ;;
	esac
done

echo
echo "=== summary ($(date -u +%Y-%m-%dT%H:%MZ), log in bench/out/run.log)"
grep -E '^(RESULT|INFO|=== .*ERROR|--- (PASS|FAIL): TestCrashSafety)' "$log" || true
exit "$status"
