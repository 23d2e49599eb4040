#!/usr/bin/env bash
# The long crash-safety run: TestCrashSafety kills writers at random
# instants and checks that every secret afterwards holds its old or its new
# value. CRASH_TRIALS (default 2000) sets the number of kills; the normal
# `go test` run uses far fewer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CRASH_TRIALS=${CRASH_TRIALS:-2000} exec go test -run TestCrashSafety -count=1 -v ./cmd/llms
