#!/usr/bin/env bash
# `llms member add` on a shared store of SECRETS secrets (default 10,000)
# already encrypted to MEMBERS-1 members (default 49): the command
# re-encrypts every secret to the MEMBERS recipients, crash-safely, in one
# process. Reported: the median, and the cost per file. Each run removes
# the member in --prepare, so every timed run adds it anew.
#
# A side-by-side run against `sops updatekeys -y` over the same secrets
# is not made here (no sops on the test machines).
#
# Environment: RUNS (default 3), SECRETS (default 10000), MEMBERS
# (default 50).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-3}
secrets=${SECRETS:-10000}
members=${MEMBERS:-50}
command -v age-keygen >/dev/null || { echo "bench: age-keygen is required" >&2; exit 2; }

describe_build

repo=$work/repo
data=$work/data
git init -q "$repo"
store=$repo/team
"$LLMS" --dir "$data" init >/dev/null
"$LLMS" --dir "$data" init --shared "$store" --name m00 >/dev/null
for i in $(seq 1 $((members - 2))); do
	"$LLMS" --dir "$data" --store "$store" member add "$(printf 'm%02d' "$i")" "$(age-keygen 2>/dev/null | age-keygen -y)" >/dev/null
done
od -An -vtx1 -w20 -N $((secrets * 20)) /dev/urandom | tr -d ' ' |
	awk '{ printf "SECRET_%06d=%s\n", NR, $0 }' >"$work/all.env"
"$LLMS" --dir "$data" --store "$store" import "$work/all.env" >/dev/null
last=$(age-keygen 2>/dev/null | age-keygen -y)
[ "$("$LLMS" --dir "$data" --store "$store" member list | grep -c '^  ')" -eq $((members - 1)) ] ||
	{ echo "bench: the store does not have $((members - 1)) members" >&2; exit 2; }

json=$OUT/member-add.json
hyperfine --style basic --output=null --runs "$runs" --export-json "$json" \
	--prepare "$LLMS --dir $data --store $store member remove last >/dev/null 2>&1 || true" \
	--command-name "llms member add ($secrets secrets, $members members)" \
	"$LLMS --dir $data --store $store member add last $last"
# What was timed must have worked: the new member opens a secret.
"$LLMS" --dir "$data" --store "$store" member list | grep -q '^  last ' || { echo "bench: member add did not add" >&2; exit 2; }
median=$(median_s "$json" 0)
printf 'RESULT member-add-%s-%s median %s, %s ms per secret\n' "$secrets" "$members" "$(duration "$median")" \
	"$(awk -v s="$median" -v n="$secrets" 'BEGIN { printf "%.3f", s * 1000 / n }')"
exit 0
