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
