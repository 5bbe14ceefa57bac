#!/usr/bin/env bash
# Coverage-guided fuzzing of the node's readers of untrusted bytes (tests/fuzz/targets.hpp)
# with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, in a clang build of its own
# (build/fuzz).
# Usage: scripts/fuzz.sh [target ... | all] [--seconds N] [--jobs N]
#   Each target runs for N seconds (default 60) from tests/fuzz/corpus/<target> (read only);
#   the inputs it finds are kept in build/fuzz/corpus/<target>, a broken property or a crash in
#   build/fuzz/crashes/<target>/, and the run ends with exit status 1 when any target failed.
#   An input worth keeping for the test suite's replay goes into tests/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
jobs="${LPOPS_BUILD_JOBS:-$(nproc)}"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz: --seconds takes a whole number of seconds" >&2; exit 2 ;; esac

if [ ${#targets[@]} -eq 0 ] || [ "${targets[0]}" = all ]; then
  mapfile -t targets < <(ls tests/fuzz/corpus)
fi
for t in "${targets[@]}"; do
  if [ ! -d "tests/fuzz/corpus/$t" ]; then
    echo "fuzz: no target $t (targets: $(ls tests/fuzz/corpus | tr '\n' ' '))" >&2
    exit 2
  fi
done

# What the build needs, and clang 16 with its libFuzzer runtime, from Debian's packages (clang
# 14, Debian's default, cannot build the coroutine code with the three instrumentations at once).
bash scripts/setup.sh clang-16 libclang-rt-16-dev

dir=build/fuzz
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/lpops-ccache}"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -gline-tables-only"
# A build directory configured otherwise (another compiler or other flags) is configured anew.
if [ ! -f "$dir/build.ninja" ] || ! grep -q "^CMAKE_CXX_COMPILER:.*clang++-16$" "$dir/CMakeCache.txt" \
     || ! grep -qF "CMAKE_CXX_FLAGS:STRING=$flags" "$dir/CMakeCache.txt"; then
  rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  CC=clang-16 CXX=clang++-16 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 \
    -DCMAKE_CXX_FLAGS="$flags" -DLPOPS_BUILD_TESTS=OFF -DLPOPS_FUZZ=ON >/dev/null
fi
echo "fuzz: building $dir/tests/fuzz/lpops_fuzz"
cmake --build "$dir" -j "$jobs" --target lpops_fuzz
binary="$dir/tests/fuzz/lpops_fuzz"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
  echo "fuzz: $t for ${seconds} s"
  log="$dir/$t.log"
  if LPOPS_FUZZ_TARGET="$t" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" \
       UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions='$PWD/tests/ubsan.supp'" "$binary" -max_total_time="$seconds" \
       -artifact_prefix="$dir/crashes/$t/" -print_final_stats=1 "$dir/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    echo "fuzz: $t: ${runs:-?} inputs, no failure (corpus $(ls "$dir/corpus/$t" | wc -l) inputs)"
  else
    failed+=("$t")
    echo "fuzz: $t FAILED; the input is in $dir/crashes/$t/; the end of its log:"
    grep -E "property broken|ERROR: |SUMMARY" "$log" | head -5 || tail -20 "$log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target ran ${seconds} s without a failure"
