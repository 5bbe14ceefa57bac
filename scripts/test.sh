#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the release build, then the
# same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd -P "$(dirname "$0")/.."  # the path as /proc gives it, for reap_nodes
start=$(date +%s)
bash scripts/setup.sh

# Nodes and anvil chains that a crashed test binary left running (its destructors never
# stopped them): only processes of this checkout's own build or test tools that carry this
# run's mark in their environment (the tests' children inherit it), never a node an operator
# started from the same checkout.
export LPOPS_TEST_RUN="$$.$start"
reap_nodes() {
  local exe pid
  for exe in /proc/[0-9]*/exe; do
    pid=${exe#/proc/}
    pid=${pid%/exe}
    case "$(readlink "$exe" 2>/dev/null || true)" in
      "$PWD"/build/*/app/lpops | "$PWD"/tests/node_modules/*/bin/anvil)
        if tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ" | grep -qx "LPOPS_TEST_RUN=$LPOPS_TEST_RUN" &&
          kill -9 "$pid" 2>/dev/null; then
          echo "test: stopped a process a test left running (pid $pid, $(readlink "$exe" 2>/dev/null || true))"
        fi ;;
    esac
  done
}
trap reap_nodes EXIT

run_suite() {
  local flavour="$1"
  echo "== build ($flavour)"
  bash scripts/build.sh "$flavour"
  echo "== test ($flavour)"
  local dir="build/$flavour"
  ( cd "$dir" && ctest --output-on-failure --timeout 900 -j "${LPOPS_TEST_JOBS:-2}" )
  reap_nodes
}

run_suite release
if [ "${LPOPS_SKIP_SANITIZERS:-0}" != "1" ]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions='$PWD/tests/ubsan.supp'"
  run_suite asan
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
