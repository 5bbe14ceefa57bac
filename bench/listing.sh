#!/usr/bin/env bash
# A listing of every workload (`GET /api/workloads` without a limit, as the reference allows)
# beside credits: a fresh node (fsync on) takes N time credits from wrk, then one client
# credits a workload every 50 ms while another lists them all. Reported: the listing's time
# and size, the node's memory before and at its peak, and the slowest credits during it
# (the ledger's share of a listing: picking the rows; the reader writes them out).
# Usage: bench/listing.sh [workloads (default 1000000)] [orchestrators (default 100)]
set -euo pipefail
cd "$(dirname "$0")/.."
workloads="${1:-1000000}"
orchestrators="${2:-100}"
source bench/lib.sh
bench_start

data="$work/data"
mkdir -p "$data"
write_orchestrators "$orchestrators" "$data/orchestrators.json"
port=$(free_port)
PAYMENTS_LOG_LEVEL=warn PAYMENTS_RANK_CHECK=false PAYMENTS_JOURNAL_FSYNC=true \
  "$lpops" serve --env-file /dev/null --data-dir "$data" --host 127.0.0.1 --port "$port" --port-file "$work/port" \
  >"$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 3000); do [ -s "$work/port" ] && break; kill -0 $node 2>/dev/null || { cat "$work/node.log"; exit 1; }; sleep 0.05; done

echo "loading $workloads time credits over $orchestrators orchestrators..." >&2
load_credits "$port" "$orchestrators" $((workloads + orchestrators)) list "$work/wrk.out"
sleep 1
rss_before=$(rss_mb $node)

credit() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST -H 'Content-Type: application/json' \
    -d "{\"workload_id\":\"probe-$1-$2\",\"orchestrator_id\":\"bench-0\",\"artifact_hash\":\"h\",\"duration_ms\":1000}" \
    "http://127.0.0.1:$port/api/workloads/time"
}
# Credits alone first, then the same with a listing in the middle.
for i in $(seq 1 40); do credit alone "$i"; sleep 0.05; done > "$work/alone.txt"
(for i in $(seq 1 60); do credit during "$i"; sleep 0.05; done) > "$work/during.txt" &
probe=$!
sleep 0.5
listing=$(curl -s -o "$work/list.json" -w '%{http_code} %{time_total} %{size_download}' "http://127.0.0.1:$port/api/workloads")
wait $probe
peak=$(hwm_mb $node)
rows=$(python3 -c "import json; print(len(json.load(open('$work/list.json'))['workloads']))")
kill -TERM $node
wait $node || true
grep -qv '^200 ' "$work/alone.txt" "$work/during.txt" && { echo "a credit was not answered 200" >&2; exit 1; }
slowest() { awk '{print $2 * 1000}' "$1" | sort -n | tail -1; }
p50() { awk '{print $2 * 1000}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
read -r status seconds bytes <<< "$listing"
[ "$status" = 200 ] || { echo "listing answered $status" >&2; exit 1; }
printf '| workloads listed | listing s | listing MB | RSS before / peak MB | credit p50 / slowest ms, alone | credit p50 / slowest ms, during the listing |\n'
printf '|---|---|---|---|---|---|\n'
printf '| %s | %.2f | %.0f | %s / %s | %.1f / %.1f | %.1f / %.1f |\n' "$rows" "$seconds" "$(python3 -c "print($bytes/1e6)")" \
  "$rss_before" "$peak" "$(p50 "$work/alone.txt")" "$(slowest "$work/alone.txt")" "$(p50 "$work/during.txt")" "$(slowest "$work/during.txt")"
