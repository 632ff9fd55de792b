#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs each for SECONDS on its seed
# corpus, one after the other; fails on any crash, leak, sanitizer report or timeout.
#   tests/fuzz/run.sh [SECONDS] [HARNESS ...]     (default 20 s each, every harness)
# New inputs the fuzzer finds go to build-fuzz/corpus/<harness>/ (the committed seeds in
# tests/fuzz/corpus/<harness>/ are only read); a failing input is saved as
# build-fuzz/artifacts/<harness>-crash-<sha1> (copy it into the corpus as crash_<what> once
# the bug is fixed). Each harness's log: build-fuzz/logs/<harness>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
[ $# -gt 0 ] && shift
compiler=${CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$compiler" ]; then
    echo "run.sh: clang not found (apt-get install -y clang-14 libclang-rt-14-dev libomp-14-dev)" >&2
    exit 1
fi
build=${FUZZ_BUILD:-build-fuzz}  # FUZZ_BUILD: another build folder (a long campaign beside short runs)
cmake -S . -B "$build" -DGROUNDUP_FUZZ=ON -DCMAKE_C_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 >/dev/null
mkdir -p "$build/logs" "$build/artifacts"

if [ $# -gt 0 ]; then harnesses=("$@"); else
    harnesses=()
    for source in tests/fuzz/fuzz_*.c; do harnesses+=("$(basename "$source" .c | sed 's/^fuzz_//')"); done
fi
export OMP_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The harnesses rewrite their input file every execution: in memory (tmpfs) that is some 50
# times faster than on a disk, where ext4 flushes a truncated-and-rewritten file on close.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
failed=()
printf '%-22s %10s %8s %8s %14s %6s\n' harness executions cov ft corpus seconds
for harness in "${harnesses[@]}"; do
    corpus="$build/corpus/$harness"
    mkdir -p "$corpus"
    log="$build/logs/$harness.log"
    status=0
    "$build/fuzz/fuzz_$harness" "$corpus" "tests/fuzz/corpus/$harness" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$harness-" >"$log" 2>&1 ||
        status=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
    corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$done_line")
    printf '%-22s %10s %8s %8s %14s %6s\n' "$harness" "$runs" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$seconds"
    if [ "$status" -ne 0 ]; then
        failed+=("$harness")
        grep -E 'ERROR|SUMMARY|runtime error|fuzz: |Test unit written' "$log" | head -8 >&2 || true
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: failed: ${failed[*]} (logs in $build/logs/)" >&2
    exit 1
fi
