#!/usr/bin/env bash
# Installs what is missing, builds, and runs a node on the embedded default store
# (JSON files in ./data, port 8081 unless PAYMENTS_API_PORT says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
LPOPS_SKIP_NPM=1 bash scripts/setup.sh
bash scripts/build.sh release lpops
exec build/release/app/lpops serve "$@"
