#!/usr/bin/env bash
# Installs every system package the build and the tests need, and the pinned npm packages.
# Idempotent: a second run installs nothing.
# Usage: scripts/setup.sh [package ...]: Debian packages some tool needs besides (scripts/fuzz.sh,
# and the benchmarks' nginx, which starts a system service when installed).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl libsecp256k1-dev
  libpqxx-dev
  prometheus-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libjemalloc-dev
  libgtest-dev libgmock-dev librapidcheck-dev
  wrk curl procps
  "$@"
)
# Node.js (with npm) runs the test tools only; use the one on the machine when there is one.
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx starts a system service on install; the benchmark runs its own.
  if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
  fi
fi

# Test tools (ethers, anvil, solc), pinned in tests/package-lock.json.
if [ -f tests/package-lock.json ] && [ "${LPOPS_SKIP_NPM:-0}" != "1" ]; then
  if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
    echo "setup: installing pinned npm packages into tests/node_modules"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "setup: ok"
