#!/usr/bin/env bash
# What a node's history costs: a fresh node (fsync on, the default snapshot cadence) takes
# N time credits from wrk (unique workload ids, 64 connections), then is stopped and started
# again. Reported: memory (live, and at rest after the restart), the data directory's files
# per record, the clean stop, the start-up to ready (snapshot + tail), and `lpops replay`
# (the whole journal from empty) and `lpops verify --log` (the whole audit log) offline.
# Usage: bench/capacity.sh [workloads (default 1000000)] [orchestrators (default 1000)]
set -euo pipefail
cd "$(dirname "$0")/.."
workloads="${1:-1000000}"
orchestrators="${2:-1000}"
source bench/lib.sh
bench_start

now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.1f}')"; }

data="$work/data"
mkdir -p "$data"
write_orchestrators "$orchestrators" "$data/orchestrators.json"
port=$(free_port)
start_node() {
  rm -f "$work/port"
  PAYMENTS_LOG_LEVEL=warn PAYMENTS_RANK_CHECK=false PAYMENTS_JOURNAL_FSYNC=true \
    "$lpops" serve --env-file /dev/null --data-dir "$data" --host 127.0.0.1 --port "$port" --port-file "$work/port" \
    >>"$work/node.log" 2>&1 &
  node=$!
  for _ in $(seq 1 3000); do [ -s "$work/port" ] && return 0; kill -0 $node 2>/dev/null || break; sleep 0.05; done
  cat "$work/node.log"
  exit 1
}
stop_node() { kill -TERM $node; wait $node; }

start_node
echo "loading $workloads time credits over $orchestrators orchestrators..." >&2
t=$(now)
# Until the node has journaled the bootstrap's records and N credits.
load_credits "$port" "$orchestrators" $((workloads + orchestrators)) cap "$work/wrk.out"
load_s=$(since "$t")
done_requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
non_2xx=$(awk '/Non-2xx/ {print $4}' "$work/wrk.out")
[ -z "$non_2xx" ] || { echo "non-2xx answers: $non_2xx" >&2; cat "$work/wrk.out" >&2; exit 1; }
live_rss=$(rss_mb $node)
live_hwm=$(hwm_mb $node)
t=$(now); stop_node; stop_s=$(since "$t")
records=$(python3 -c "
import json
last = None
with open('$data/journal.jsonl', 'rb') as f:
    for line in f:
        if line.strip(b'\\0 \\n'): last = line
print(json.loads(last)['seq'])")
size() { stat -c %s "$data/$1" 2>/dev/null || echo 0; }
journal=$(size journal.jsonl); audit=$(size audit.jsonl); index=$(size audit.index); snap=$(size snapshot.json)
checkpoints=$(size checkpoints.jsonl)

t=$(now); start_node; ready_s=$(since "$t")
sleep 2
rest_rss=$(rss_mb $node)
start_hwm=$(hwm_mb $node)
stop_node

t=$(now); /usr/bin/time -f "%M" -o "$work/replay.time" "$lpops" replay --data-dir "$data" --json > "$work/replay.out" 2>"$work/replay.err"
replay_s=$(since "$t"); replay_mb=$(( $(cat "$work/replay.time") / 1024 ))
t=$(now); "$lpops" verify --log "$data/audit.jsonl" --json > "$work/verify.out" 2>"$work/verify.err" ||
  { cat "$work/verify.out" "$work/verify.err"; exit 1; }
verify_s=$(since "$t")

per() { python3 -c "print(f'{$1 / $2:.0f}')"; }
mb() { python3 -c "print(f'{$1 / 1048576:.0f}')"; }
echo "| requests answered | journal records | load s | RSS live / peak MB | clean stop s | start-up to ready s | RSS at rest after restart MB (peak) | bytes per record in memory at rest |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $done_requests | $records | $load_s | $live_rss / $live_hwm | $stop_s | $ready_s | $rest_rss ($start_hwm) | $(per "$rest_rss * 1048576" "$records") |"
echo
echo "| file | MB | bytes per journal record |"
echo "|---|---|---|"
for f in journal.jsonl audit.jsonl audit.index snapshot.json checkpoints.jsonl; do
  echo "| $f | $(mb "$(size $f)") | $(per "$(size $f)" "$records") |"
done
echo
echo "| offline | s | peak RSS MB |"
echo "|---|---|---|"
echo "| lpops replay (journal from empty) | $replay_s | $replay_mb |"
echo "| lpops verify --log (whole audit log) | $verify_s | - |"
