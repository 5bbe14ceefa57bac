# Shared by the bench/ scripts (sourced): a free loopback port, the bootstrap file of N
# orchestrators bench/workload_time.lua spreads its credits over, and process figures.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# write_orchestrators N FILE: bench-0 .. bench-(N-1), addresses 0x…01 onwards.
write_orchestrators() {
  python3 - "$1" > "$2" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"orchestrator_id": f"bench-{i}", "address": "0x%040x" % (i + 1)} for i in range(n)]))
PY
}
# load_credits PORT ORCHESTRATORS RECORDS RUN OUT: wrk posts unique time credits until the node
# has journaled RECORDS records (polled from /metrics), then is interrupted (it prints its
# summary, into OUT, on SIGINT).
load_credits() {
  LPOPS_BENCH_ORCHESTRATORS=$2 LPOPS_BENCH_RUN=$4 \
    wrk -t2 -c64 -d3600s -s bench/workload_time.lua "http://127.0.0.1:$1" > "$5" &
  local wrk_pid=$! written
  for _ in $(seq 1 36000); do
    written=$(curl -s "http://127.0.0.1:$1/metrics" | awk '/^lpops_journal_records_total/ {printf "%d", $2}')
    [ "${written:-0}" -ge "$3" ] && break
    kill -0 $wrk_pid 2>/dev/null || break
    sleep 0.1
  done
  kill -INT $wrk_pid
  wait $wrk_pid || true
}
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# bench_start: builds the release binary (path in $lpops), makes a scratch directory ($work),
# and on exit stops the script's background jobs and removes it.
bench_start() {
  bash scripts/build.sh release lpops >/dev/null
  lpops="$PWD/build/release/app/lpops"
  work=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
}
