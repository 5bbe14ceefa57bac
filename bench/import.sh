#!/usr/bin/env bash
# `lpops import` of a generated livepeer-ops data directory into a fresh node (fsync on):
# wall time and the command's peak RSS for the first import and for a second run (everything
# already there), and the data directory's size after.
# Usage: bench/import.sh [orchestrators] [workloads]
set -euo pipefail
cd "$(dirname "$0")/.."
orchestrators="${1:-10000}"
workloads="${2:-100000}"
source bench/lib.sh
bench_start

python3 - "$work/reference" "$orchestrators" "$workloads" <<'PY'
import json, os, sys
out, n_orch, n_work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
registry, balances, workloads = {}, {}, {}
for i in range(n_orch):
    oid = f"orch-{i}"
    registry[oid] = {"orchestrator_id": oid, "address": "0x%040x" % (i + 1), "capability": "transcoding",
                     "first_seen": "2025-01-02T03:04:05.123456+00:00", "last_seen": "2025-02-02T03:04:05+00:00",
                     "registration_count": 3, "is_top_100": True, "eligible_for_payments": True, "denylisted": False}
    balances[oid] = "%d.%06d" % (i % 7 + 1, i)
for j in range(n_work):
    workloads[f"w{j}"] = {"orchestrator_id": f"orch-{j % n_orch}", "plan_id": None, "run_id": None,
                          "artifact_hash": f"h{j}", "artifact_uri": None, "payout_amount_eth": "0.000%d" % (j % 997 + 1),
                          "status": "paid", "submitted_at": "2025-03-%02dT%02d:%02d:%02d.%06d" % (1 + j % 28, (j // 3600) % 24, (j // 60) % 60, j % 60, j % 1000000),
                          "notes": None, "tx_hash": None, "credited": True, "credited_at": "2025-03-05T00:00:00"}
for name, data in (("registry.json", registry), ("workloads.json", workloads), ("balances.json", balances)):
    with open(os.path.join(out, name), "w") as f:
        json.dump(data, f, indent=2)
PY

port=$(free_port)
PAYMENTS_API_ADMIN_TOKEN=bench PAYMENTS_RANK_CHECK=false PAYMENTS_JOURNAL_FSYNC=true \
  "$lpops" serve --env-file /dev/null --data-dir "$work/data" --host 127.0.0.1 --port "$port" --port-file "$work/port" \
  >"$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/node.log"; exit 1; }

echo "| run | orchestrators | workloads | balances | wall s | CLI peak RSS MB |"
echo "|---|---|---|---|---|---|"
for run in first again; do
  /usr/bin/time -f "%e %M" -o "$work/time" env PAYMENTS_API_ADMIN_TOKEN=bench \
    "$lpops" import --env-file /dev/null --from "$work/reference" --url "http://127.0.0.1:$port" >"$work/out" 2>"$work/err" ||
    { cat "$work/out" "$work/err"; exit 1; }
  read -r wall rss <"$work/time"
  echo "| $run | $orchestrators | $workloads | $orchestrators | $wall | $((rss / 1024)) |"
done
grep -E "imported|already" "$work/out" | sed 's/^/    /'
kill -TERM "$node"; wait "$node" || true
echo "data directory after: $(du -sh "$work/data" | cut -f1); reference files: $(du -sh "$work/reference" | cut -f1)"
