#!/usr/bin/env bash
# Durable credits/s: POST /api/workloads/time with unique ids, keep-alive, fsync on, measured
# with wrk beside nginx answering the same POSTs with a static 200 (same script, same run:
# nginx before, between and after the lpops rows, each row compared with the runs around it).
# Usage: bench/http_credits.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
connections="${2:-64}"
wrk_threads=2
command -v nginx >/dev/null 2>&1 || bash scripts/setup.sh nginx-light
bash scripts/build.sh release lpops >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

source bench/lib.sh
# PAYMENTS_JOURNAL_FSYNC=false in the environment, for scale only: the row says so.
case "${PAYMENTS_JOURNAL_FSYNC:-true}" in false|0|no|off|f|n|FALSE|False) fsync_label=OFF ;; *) fsync_label=on ;; esac
# user + system CPU time of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The machine's idle and total CPU ticks (/proc/stat's "cpu" line; idle counts iowait too).
machine_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print $5 + $6, t}' /proc/stat; }
# Percent of the two cores idle between two machine_ticks readings.
idle_percent() { python3 -c "i0, t0, i1, t1 = $1, $2, $3, $4; print(f'{100 * (i1 - i0) / max(t1 - t0, 1):.0f}')"; }
# wrk --latency output -> "req/s p50_ms p99_ms"
summarise() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=ms($2)}
    /^ +99%/ {p99=ms($2)}
    /Non-2xx/ {bad=$4}
    END {printf "%.0f %.2f %.2f %s\n", rps, p50, p99, (bad==""?0:bad)}' "$1"
}

# nginx baseline: the same wrk run against a static 200, before, between and after the lpops
# rows. The VM's speed drifts by tens of percent over minutes, so each lpops row is compared
# with the mean of the nginx runs just before and just after it.
nport=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nport;
    location / { return 200 '{"ok":true}'; }
  }
}
CONF
# wrk's own user + system CPU per request (bash's time builtin reports the child's), so the
# table shows what the load generator takes from the same two cores.
TIMEFORMAT='%U %S'
wrk_cpu_us() { python3 -c "u, s = map(float, open('$1').read().split()); print(f'{(u + s) * 1e6 / $2:.1f}')"; }
nginx_runs=0
# One nginx run: its req/s in nginx_rps, its table row in nginx_row.
run_nginx() {
  nginx_runs=$((nginx_runs + 1))
  local out="$work/nginx-$nginx_runs.out"
  nginx -c "$work/nginx.conf" -p "$work"
  sleep 0.5
  local idle_before idle_after
  idle_before=$(machine_ticks)
  { time LPOPS_BENCH_RUN=nginx wrk -t$wrk_threads -c"$connections" -d"${seconds}s" --latency -s bench/workload_time.lua \
    "http://127.0.0.1:$nport" > "$out" ; } 2> "$work/nginx.time"
  idle_after=$(machine_ticks)
  kill "$(cat "$work/nginx.pid")"
  for _ in $(seq 1 50); do [ -f "$work/nginx.pid" ] || break; sleep 0.1; done
  rm -f "$work/nginx.pid"
  local n_p50 n_p99 n_bad
  read -r nginx_rps n_p50 n_p99 n_bad < <(summarise "$out")
  nginx_row="| nginx (static 200), run $nginx_runs | - | $nginx_rps | $n_p50 | $n_p99 | $n_bad | - | - | $(wrk_cpu_us "$work/nginx.time" "$(awk '/requests in/ {print $1}' "$out")") | $(idle_percent $idle_before $idle_after) | 1.00 |"
}

echo "| server | orchestrators | req/s | p50 ms | p99 ms | non-2xx | peak RSS MB | server CPU µs/req | wrk CPU µs/req | cores idle % | vs nginx (mean of the runs before and after) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
run_nginx
echo "$nginx_row"
for orchestrators in 10 10000; do
  data="$work/data-$orchestrators"
  mkdir -p "$data"
  write_orchestrators "$orchestrators" "$data/orchestrators.json"
  port=$(free_port)
  PAYMENTS_DATA_DIR="$data" PAYMENTS_API_HOST=127.0.0.1 PAYMENTS_API_PORT=$port PAYMENTS_LOG_LEVEL=warn \
    PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH="$data/orchestrators.json" \
    PAYMENTS_SNAPSHOT_EVERY_RECORDS="${LPOPS_BENCH_SNAPSHOT_EVERY:-100000}" \
    build/release/app/lpops serve > "$work/lpops-$orchestrators.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  cpu_before=$(cpu_ticks $pid)
  idle_before=$(machine_ticks)
  { time LPOPS_BENCH_ORCHESTRATORS=$orchestrators LPOPS_BENCH_RUN="r$orchestrators" wrk -t$wrk_threads -c"$connections" \
    -d"${seconds}s" --latency -s bench/workload_time.lua "http://127.0.0.1:$port" > "$work/lpops-$orchestrators.out" ; } \
    2> "$work/lpops-$orchestrators.time"
  idle_after=$(machine_ticks)
  read -r rps p50 p99 bad < <(summarise "$work/lpops-$orchestrators.out")
  cpu_after=$(cpu_ticks $pid)
  requests=$(awk '/requests in/ {print $1}' "$work/lpops-$orchestrators.out")
  cpu_us=$(python3 -c "print(f'{($cpu_after-$cpu_before)*1e6/$(getconf CLK_TCK)/$requests:.0f}')")
  rss=$(hwm_mb $pid)
  batches=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^lpops_journal_batch_records_(sum|count)/ {v[$1]=$2} END {if (v["lpops_journal_batch_records_count"]>0) printf "%.1f", v["lpops_journal_batch_records_sum"]/v["lpops_journal_batch_records_count"]}')
  kill -TERM $pid; wait $pid
  # The next row starts on a quiet disk: this row's ~1 GB of journal, audit log and snapshots
  # would otherwise still be written back during it and slow its commits.
  rm -rf "$data"
  sync
  before=$nginx_rps
  row="| lpops (fsync $fsync_label, mean batch $batches) | $orchestrators | $rps | $p50 | $p99 | $bad | $rss | $cpu_us | $(wrk_cpu_us "$work/lpops-$orchestrators.time" "$requests") | $(idle_percent $idle_before $idle_after)"
  run_nginx
  ratio=$(python3 -c "print(f'{2 * $rps / ($before + $nginx_rps):.2f}')")
  echo "$row | $ratio |"
  echo "$nginx_row"
done
