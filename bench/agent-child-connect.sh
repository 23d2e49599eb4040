#!/usr/bin/env bash
# Agent mode: what the launcher's decision adds to a TCP connect made by a
# program the broker runs for the agent (llms exec inside `llms agent`),
# side by side with the same loop run outside agent mode:
#
#   child-connect-own      connect to a server the program itself started
#                          (127.0.0.1: sock_diag of the port's listeners,
#                          a walk of the program's tree)
#   child-connect-allowed  connect to an allowed IP literal
#                          (--allow-host 127.0.0.2:PORT)
#
# Each side times N connects (and closes) in one Python process and prints
# the median per connect; the ratio is mediated / direct (INFO: no target;
# the agent's own connects cost the same, BenchmarkConnect in
# internal/sandbox). Environment: N (default 500).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=${N:-500}
describe_build

store=$work/store
new_store "$store"
export LLM_SECRETS_DIR=$store
"$LLMS" session-start --ttl 1h >/dev/null
tree=$work/tree
mkdir "$tree"
cd "$tree"

cat >"$tree/loop.py" <<'PY'
import socket, statistics, sys, threading, time
n, allowed = int(sys.argv[1]), sys.argv[2]
def serve(l):
    while True:
        c, _ = l.accept(); c.close()
own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen(128)
threading.Thread(target=serve, args=(own,), daemon=True).start()
host, port = allowed.rsplit(":", 1)
for name, addr in (("own", own.getsockname()), ("allowed", (host, int(port)))):
    times = []
    for _ in range(n):
        s = socket.socket()
        t = time.perf_counter(); s.connect(addr); times.append(time.perf_counter() - t)
        s.close()
    print(name, statistics.median(times))
PY
# The allowed server, outside agent mode.
python3 -c '
import socket, sys
l = socket.socket(); l.bind(("127.0.0.2", 0)); l.listen(128)
print(l.getsockname()[1], flush=True)
while True:
    c, _ = l.accept(); c.close()' >"$tree/port" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$tree/port" ] && break; sleep 0.1; done
allowed=127.0.0.2:$(cat "$tree/port")

python3 "$tree/loop.py" "$n" "$allowed" >"$tree/direct"
"$LLMS" agent --secret k --ttl 30m --agent claude-code --allow-host "$allowed" -- \
	"$LLMS" exec --inject X=k -- python3 "$tree/loop.py" "$n" "$allowed" >"$tree/child" 2>/dev/null

for what in own allowed; do
	a=$(awk -v w="$what" '$1 == w { print $2 }' "$tree/child")
	b=$(awk -v w="$what" '$1 == w { print $2 }' "$tree/direct")
	[ -n "$a" ] && [ -n "$b" ] || { echo "bench: no $what timing (child: $(cat "$tree/child"))" >&2; exit 1; }
	printf 'INFO   %-22s %s connects: broker child in agent mode %s µs, direct %s µs, ratio %s, added %s µs\n' \
		"child-connect-$what" "$n" "$(awk -v s="$a" 'BEGIN { printf "%.1f", s * 1e6 }')" \
		"$(awk -v s="$b" 'BEGIN { printf "%.1f", s * 1e6 }')" "$(ratio "$a" "$b")" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (a - b) * 1e6 }')"
done
