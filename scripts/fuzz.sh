#!/usr/bin/env bash
# Coverage-guided fuzzing of the node's readers of untrusted bytes (tests/fuzz/targets.hpp)
# with libFuzzer and AddressSanitizer, in a clang build of its own (build/fuzz).
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
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# What the build needs, and clang with its libFuzzer runtime, from Debian's packages.
bash scripts/setup.sh clang libclang-rt-14-dev

dir=build/fuzz
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/lpops-ccache}"
if [ ! -f "$dir/build.ninja" ]; then
  # UndefinedBehaviorSanitizer is left to the test suite's ASan/UBSan build: clang 14 cannot
  # build the coroutine code with the three instrumentations together.
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -gline-tables-only" \
    -DLPOPS_BUILD_TESTS=OFF -DLPOPS_FUZZ=ON >/dev/null
fi
echo "fuzz: building $dir/tests/fuzz/lpops_fuzz"
cmake --build "$dir" -j "$jobs" --target lpops_fuzz
binary="$dir/tests/fuzz/lpops_fuzz"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
  echo "fuzz: $t for ${seconds} s"
  log="$dir/$t.log"
  if LPOPS_FUZZ_TARGET="$t" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" "$binary" -max_total_time="$seconds" \
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
