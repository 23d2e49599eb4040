#!/usr/bin/env bash
# Adding a member to a shared store: every secret gets the newcomer, side
# by side with `sops updatekeys -y` over the same secrets, one sops file
# per secret, in the same layout.
#
#   member-add  ours / sops updatekeys, 10,000 secrets x 50 recipients
#               target: ratio <= 0.2
#
# Ours is internal/agefile through bench/rewrapbench (one Rewrapper for the
# store, every CPU, each file through a temporary file and a rename) until
# `llms member add` exists; USE_LLMS=1 then times the command itself
# instead (see the SWITCH below). Both sides run on every CPU: sops gets
# the files split into one updatekeys process per CPU.
#
# Values are 1 KiB. Encrypting 10,000 files to 50 recipients, with age or
# with sops, costs as much as the run measured, so each side encrypts one
# file and copies it: neither re-wrap depends on the key or the value.
#
# Environment: SECRETS (default 10000), RECIPIENTS (default 50), MODE
# (append: one stanza added, the default; rewrap: every stanza new), RUNS
# (default 3), SOPS (a sops binary; default: bench/out/gobin/sops,
# installed from the Go module proxy if missing), USE_LLMS, GOBENCH (0:
# skip the Go benchmarks of internal/agefile that follow).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

secrets=${SECRETS:-10000}
recipients=${RECIPIENTS:-50}
mode=${MODE:-append}
runs=${RUNS:-3}
export SOPS_DISABLE_VERSION_CHECK=1

sops=${SOPS:-$OUT/gobin/sops}
if [ ! -x "$sops" ]; then
	echo "bench: installing sops into $OUT/gobin (Go module proxy)" >&2
	GOBIN=$OUT/gobin GOFLAGS=-mod=mod go install github.com/getsops/sops/v3/cmd/sops@latest
fi
describe_build
echo "bench: $("$sops" --version 2>/dev/null | head -1), $secrets secrets x $recipients recipients, mode $mode"

rewrapbench=$work/rewrapbench
(cd "$ROOT" && go build -o "$rewrapbench" bench/rewrapbench/main.go)

# The store: secrets/SECRET_NNNNNN.age, recipients.txt, member 0's
# identity, the newcomer's recipient.
store0=$work/store0
"$rewrapbench" gen -dir "$store0" -n "$secrets" -recipients "$recipients"
members=$(grep -v '^#' "$store0/recipients.txt" | paste -sd, -)
newcomer=$(cat "$store0/newcomer.pub")

# The same secrets for sops: secrets/SECRET_NNNNNN.yaml, each `value: ` a
# 1 KiB string, encrypted to the same recipients by .sops.yaml; then
# .sops.yaml names the newcomer too, as it would in the commit adding them.
sops0=$work/sops0
mkdir -p "$sops0/secrets"
rule() { printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: "%s"\n' "$1" >"$sops0/.sops.yaml"; }
rule "$members"
printf 'value: %s\n' "$(head -c 512 /dev/urandom | od -An -tx1 -v | tr -d ' \n')" >"$sops0/secrets/SECRET_000000.yaml"
(cd "$sops0" && "$sops" encrypt --in-place secrets/SECRET_000000.yaml)
seq -f "$sops0/secrets/SECRET_%06.0f.yaml" 1 $((secrets - 1)) |
	xargs -d '\n' -r -n 500 sh -c 'tee -- "$@" <"$0" >/dev/null' "$sops0/secrets/SECRET_000000.yaml"
rule "$members,$newcomer"

store=$work/store
sopsdir=$work/sops
cpus=$(nproc)
per=$(((secrets + cpus - 1) / cpus))
sops_cmd="cd $sopsdir && ls secrets/*.yaml | SOPS_AGE_KEY_FILE=$store0/identity.txt xargs -d '\n' -P $cpus -n $per $sops updatekeys -y 2>/dev/null"
ours_cmd="$rewrapbench add -dir $store -mode $mode"
ours_name="agefile $mode"
if [ "${USE_LLMS:-0}" = 1 ]; then
	# SWITCH: `llms member add` in place of bench/rewrapbench. Adjust the
	# flags to the command as it lands; the store above has its layout
	# (secrets/*.age, recipients.txt with "# name" lines).
	ours_cmd="LLM_SECRETS_IDENTITY_FILE=$store0/identity.txt $LLMS --store $store member add newcomer $newcomer"
	ours_name="llms member add"
fi

json=$OUT/teams-member-add.json
hyperfine --style basic --output=null --runs "$runs" --export-json "$json" \
	--prepare "rm -rf $store && cp -a $store0 $store" --command-name "$ours_name ($secrets)" "$ours_cmd" \
	--prepare "rm -rf $sopsdir && cp -a $sops0 $sopsdir" --command-name "sops updatekeys -y ($secrets)" "$sops_cmd"
# Each side must have done what it claims: the directories hold the last
# timed run's result (checking before timing would double a long run).
got=$(SOPS_AGE_KEY_FILE=$store0/newcomer.txt "$sops" decrypt "$sopsdir/secrets/SECRET_$(printf %06d $((secrets - 1))).yaml" | cut -c1-7)
[ "$got" = "value: " ] || { echo "bench: the newcomer cannot read a sops file after updatekeys" >&2; exit 2; }
age -d -i "$store0/newcomer.txt" "$store/secrets/SECRET_$(printf %06d $((secrets - 1))).age" >/dev/null ||
	{ echo "bench: the newcomer cannot read a store file (age CLI)" >&2; exit 2; }

ours=$(median_s "$json" 0)
theirs=$(median_s "$json" 1)
result_ratio member-add "$ours_name" "$ours" "sops updatekeys" "$theirs" 0.2
printf 'INFO   member-add per file: %s %s, sops %s (%s secrets x %s recipients, %s CPUs)\n' "$ours_name" \
	"$(duration "$(awk -v s="$ours" -v n="$secrets" 'BEGIN { print s / n }')")" \
	"$(duration "$(awk -v s="$theirs" -v n="$secrets" 'BEGIN { print s / n }')")" "$secrets" "$recipients" "$cpus"
if [ "$secrets" -ne 10000 ]; then
	printf 'INFO   member-add at 10,000 secrets, extrapolated linearly from %s: %s %s, sops %s\n' "$secrets" "$ours_name" \
		"$(duration "$(awk -v s="$ours" -v n="$secrets" 'BEGIN { print s / n * 10000 }')")" \
		"$(duration "$(awk -v s="$theirs" -v n="$secrets" 'BEGIN { print s / n * 10000 }')")"
fi

[ "${GOBENCH:-1}" = 1 ] || exit $((failures > 0))
(cd "$ROOT" && go test -run '^$' -bench '^Benchmark(Rewrap|Rewrapper|Reencrypt|AddRecipient)' -benchtime 100x -count 3 ./internal/agefile) | tee "$OUT/agefile-bench.txt"
bench_medians "$OUT/agefile-bench.txt" | while read -r name ns; do
	printf 'INFO   agefile %s median %s\n' "$name" "$(duration "$(ns_to_s "$ns")")"
done
printf 'INFO   agefile Rewrapper re-wrap / decrypt+encrypt, 1 KiB x 50: %s\n' \
	"$(ratio "$(median_of "$OUT/agefile-bench.txt" BenchmarkRewrapperRewrap1KiB50)" "$(median_of "$OUT/agefile-bench.txt" BenchmarkReencrypt1KiB50)")"

exit $((failures > 0))
