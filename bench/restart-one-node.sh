#!/usr/bin/env bash
# One node's restart on a large data directory, as a whole process that can be timed from
# outside (e.g. `/usr/bin/time -v bench/restart-one-node.sh restart DIR`, several runs).
#
#   bench/restart-one-node.sh fill DIR [KEYS] [FLAGS...]   a one-member cluster on a fresh DIR,
#                                                          KEYS keys of 100 bytes (default 1000000)
#                                                          written by the Go load generator (64
#                                                          clients), then kill -9
#   bench/restart-one-node.sh restart DIR [KEYS] [FLAGS...]  start the node on DIR, wait until a
#                                                          linearizable GET of the last key answers
#                                                          200, print the seconds, kill -9
#
# FLAGS go to `serve` (e.g. --snapshot-every-slots 10000). Both use --fsync off: a kill -9 loses
# nothing a process wrote to the OS, and the fill takes minutes instead of an hour. A restart
# replays the same log each time (it takes no snapshot unless its replayed tail is due one), so
# runs on one DIR are comparable; copy DIR first to keep a pristine one. PORT (default 7651)
# and BUILD (default: this checkout's dist/) may be set in the environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: restart-one-node.sh fill|restart DIR [KEYS] [FLAGS...]}
dir=${2:?a data directory}
keys=${3:-1000000}
shift $(($# < 3 ? $# : 3))
port=${PORT:-7651}
build=${BUILD:-$here/../dist}
url=http://127.0.0.1:$port
last_key=bench/read/$((keys - 1))

node "$build/cli.js" serve --data "$dir" --port "$port" --id 1 --cluster "1=$url" --fsync off "$@" >>"$dir.log" 2>&1 &
pid=$!
# kill -9, then reap it: its CPU time and peak memory count as this process's children's.
trap 'kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
started=$(date +%s.%N)
alive() { kill -0 "$pid" 2>/dev/null || { echo "restart-one-node.sh: the node exited, see $dir.log" >&2; exit 1; }; }

case $mode in
fill)
  until curl -sf -o /dev/null "$url/v1/status"; do alive; sleep 0.05; done
  "$here/load-go/bin/load-go" -target paxos-http -endpoints "$url" -populate -read-keys "$keys" -clients 64 >/dev/null
  ;;
restart)
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/v1/kv/$last_key")" = 200 ]; do alive; sleep 0.02; done
  ;;
*)
  echo "restart-one-node.sh: fill or restart, not $mode" >&2
  exit 2
  ;;
esac
echo "$mode $dir: $(echo "$(date +%s.%N) - $started" | bc) s"
