#!/usr/bin/env bash
# The etcd side of the comparison: 3 etcd members on 127.0.0.1 (fsync on, fresh data dirs),
# driven by wrk over etcd's HTTP gateway against the leader with 100-byte values.
#   apt-get install -y etcd-server wrk        # Debian's etcd 3.4 and wrk
#   bash bench/etcd-compare.sh [duration-seconds] [connections...]
set -euo pipefail
duration=${1:-10}
shift || true
if [ $# -gt 0 ]; then connections=("$@"); else connections=(1 16 64 256); fi
command -v etcd >/dev/null && command -v wrk >/dev/null && command -v curl >/dev/null || { echo "needs etcd and wrk: apt-get install -y etcd-server wrk" >&2; exit 2; }
dir=$(mktemp -d)
scripts=$(cd "$(dirname "$0")" && pwd)/etcd
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
cluster="e1=http://127.0.0.1:12380,e2=http://127.0.0.1:22380,e3=http://127.0.0.1:32380"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$dir/e$i" \
    --listen-client-urls "http://127.0.0.1:${i}2379" --advertise-client-urls "http://127.0.0.1:${i}2379" \
    --listen-peer-urls "http://127.0.0.1:${i}2380" --initial-advertise-peer-urls "http://127.0.0.1:${i}2380" \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error >"$dir/e$i.log" 2>&1 &
done
leader=""
for _ in $(seq 1 100); do
  for i in 1 2 3; do
    if status=$(curl -sf -X POST "http://127.0.0.1:${i}2379/v3/maintenance/status" -d '{}'); then
      id=$(echo "$status" | sed -E 's/.*"member_id":"?([0-9]+).*/\1/')
      lead=$(echo "$status" | sed -E 's/.*"leader":"?([0-9]+).*/\1/')
      [ "$id" = "$lead" ] && leader="http://127.0.0.1:${i}2379"
    fi
  done
  [ -n "$leader" ] && break
  sleep 0.2
done
[ -n "$leader" ] || { echo "no etcd leader" >&2; exit 1; }
echo "etcd leader: $leader"
# Keys for the GET workload.
value=$(printf 'r%.0s' $(seq 1 100) | base64 -w0)
for k in $(seq 0 999); do
  curl -sf -X POST "$leader/v3/kv/put" -d "{\"key\":\"$(printf 'bench/read/%s' "$k" | base64 -w0)\",\"value\":\"$value\"}" >/dev/null
done
for workload in put get; do
  for c in "${connections[@]}"; do
    threads=$(( c < 2 ? 1 : 2 ))
    echo "== etcd $workload, $c connections"
    WORKLOAD="$workload" wrk -t "$threads" -c "$c" -d "${duration}s" --latency -s "$scripts/workload.lua" "$leader" | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx"
  done
done
