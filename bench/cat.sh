#!/usr/bin/env bash
# Throughput of redacted output: a child that writes a big file through
# llms, whose redactor scans every byte, vs the same child alone.
#
#   cat-1GiB  llms exec -i X=k -- cat BIGFILE > /dev/null
#             vs cat BIGFILE > /dev/null
#             target: median ratio <= 1.3
#
# Two more commands are floors of any program that sits on the child's
# output, where the data crosses a pipe and is copied once more; they are
# reported on INFO lines, not judged:
#
#   sh -c 'cat BIGFILE | cat'      two cats and a pipe of the default 64 KiB
#   pipefloor cat BIGFILE          bench/pipefloor: llms's own data path, a
#                                  1 MiB pipe and 1 MiB copies, without the
#                                  redactor; the floor that matters for llms
#
# llms redacts even when its stdout is /dev/null: the child writes to a
# pipe, llms reads it, masks, and writes to its own stdout. BIGFILE is
# random base64 text in 76-column lines, read once before timing so that
# both sides read it from the page cache. Environment: SIZE (bytes, or
# with an IEC suffix such as 256M; default 1G = 1 GiB), RUNS (default 10),
# WARMUP (default 2).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=$(numfmt --from=iec "${SIZE:-1G}")
runs=${RUNS:-10}
warmup=${WARMUP:-2}
label=$(numfmt --to=iec-i "$size")B

describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
check_exec "$store"

# base64 turns 57 random bytes into a 77-byte line; make a little more than
# size, then cut to size exactly.
big=$work/big.txt
head -c $((size / 77 * 57 + 57)) /dev/urandom | base64 -w 76 >"$big"
truncate -s "$size" "$big"
cat "$big" >/dev/null

pipefloor=$work/pipefloor
(cd "$ROOT" && go build -trimpath -o "$pipefloor" bench/pipefloor/main.go)

json=$OUT/cat.json
hyperfine -N --style basic --output=null --warmup "$warmup" --runs "$runs" --export-json "$json" \
	--command-name "llms exec cat ($label)" "$LLMS exec -i X=k -- cat $big" \
	--command-name "cat ($label)" "cat $big" \
	--command-name "cat | cat ($label)" "sh -c 'cat $big | cat'" \
	--command-name "pipefloor cat ($label)" "$pipefloor cat $big"
llms=$(median_s "$json" 0)
result_ratio "cat-$label" llms "$llms" cat "$(median_s "$json" 1)" 1.3
floor=$(median_s "$json" 2)
printf 'INFO   %-14s cat|cat %s ms; llms / cat|cat = %s\n' "pipe-floor" "$(ms "$floor")" "$(ratio "$llms" "$floor")"
floor=$(median_s "$json" 3)
printf 'INFO   %-14s pipefloor (1 MiB pipe, no redaction) %s ms; llms / pipefloor = %s\n' "copy-floor" "$(ms "$floor")" "$(ratio "$llms" "$floor")"

exit $((failures > 0))
