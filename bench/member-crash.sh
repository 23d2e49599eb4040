#!/usr/bin/env bash
# The long crash-safety run of member changes: TestMemberChangeCrashSafety
# kills `llms member add` / `member remove` of a 1,000-secret shared store
# at random instants and checks that every secret file still opens with
# the identity the old and new member sets share, and that the next
# command finishes the change. MEMBER_CRASH_TRIALS (default 200) sets the
# number of kills; the normal `go test` run makes 2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MEMBER_CRASH_TRIALS=${MEMBER_CRASH_TRIALS:-200} exec go test -run TestMemberChangeCrashSafety -count=1 -timeout 60m -v ./cmd/llms
