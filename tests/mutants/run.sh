#!/usr/bin/env bash
# Mutation testing: does the suite notice a small bug?
#
#   tests/mutants/run.sh [NAME ...]
#
# For each mutant of tests/mutants/mutants.txt (or only the NAMEs given), replaces its text in a
# copy of the source tree, rebuilds that copy (Release, incrementally: only the mutated file
# and what links it), runs the ctest suite on it and says whether a test failed ("caught", and
# which tests) or none did ("SURVIVED"); then restores the file. At the end: the score, caught
# over caught + survived. Stale mutants (their text is no longer in the file) and ambiguous ones
# (it is there more than once) are listed and not run; a mutant that does not compile is
# "invalid". Not a ctest test and not in CI: it takes one build and one suite run per mutant.
#
# The copy and its build live in MUTANTS_WORK (default /dev/shm/groundup-mutants), kept
# between runs so that later runs build only what changed. Environment:
#   MUTANTS_LIST     the list (default tests/mutants/mutants.txt)
#   MUTANTS_TIMEOUT  seconds each test may take before it counts as failed (default 600)
#   MUTANTS_FULL=1   run the whole suite for every mutant; by default the tests that took over
#                    MUTANTS_SLOW seconds (default 20) in the baseline run only when the faster
#                    ones catch nothing, so a caught mutant lists the fast tests that caught it
#   JOBS             build and ctest parallelism (default 2)
#   MUTANTS_CHECK=1  only list the stale and ambiguous mutants (no build, no tests)
# Results also go to MUTANTS_WORK/results.tsv (name, outcome, tests, what).
set -uo pipefail
# All of it in one function, read whole before it runs: editing this file during a run is safe.
main() {
cd "$(dirname "$0")/../.."
root=$PWD
list=${MUTANTS_LIST:-$root/tests/mutants/mutants.txt}
work=${MUTANTS_WORK:-/dev/shm/groundup-mutants}
timeout=${MUTANTS_TIMEOUT:-600}
jobs=${JOBS:-2}
src=$work/src
build=$work/build
mkdir -p "$src" "$build"

# The copy: the tracked and new files of this tree, with their times, so that make rebuilds
# only what differs. Files a previous (interrupted) run mutated are touched: their objects may
# be the mutant's.
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$src"
if [ -f "$work/dirty" ]; then
    while read -r file; do [ -f "$src/$file" ] && touch "$src/$file"; done < "$work/dirty"
    rm -f "$work/dirty"
fi

# Parse the list into parallel arrays.
names=() files=() finds=() replaces=() whats=()
while IFS= read -r line; do
    case "$line" in
    "name: "*) names+=("${line#name: }") ;;
    "file: "*) files+=("${line#file: }") ;;
    "find: "*) finds+=("${line#find: }") ;;
    "replace: "*) replaces+=("${line#replace: }") ;;
    "what: "*) whats+=("${line#what: }") ;;
    esac
done < "$list"
n=${#names[@]}
if [ "${#files[@]}" != "$n" ] || [ "${#finds[@]}" != "$n" ] || [ "${#replaces[@]}" != "$n" ] || [ "${#whats[@]}" != "$n" ]; then
    echo "$list: every mutant needs name, file, find, replace and what" >&2
    exit 2
fi
for wanted in "$@"; do
    found=0
    for name in "${names[@]}"; do [ "$name" = "$wanted" ] && found=1; done
    [ $found = 1 ] || { echo "no mutant named $wanted in $list" >&2; exit 2; }
done

# How often the text occurs in the file, and the file with it replaced (exact text, no patterns).
occurrences() {
    FIND=$2 awk '{ line = $0; find = ENVIRON["FIND"]
                   while ((i = index(line, find)) > 0) { count++; line = substr(line, i + length(find)) } }
                 END { print count + 0 }' "$1"
}
mutate() {
    FIND=$2 REPLACE=$3 awk '{ find = ENVIRON["FIND"]; i = index($0, find)
                               if (i > 0) $0 = substr($0, 1, i - 1) ENVIRON["REPLACE"] substr($0, i + length(find)); print }' \
        "$1" > "$work/mutated" && cp "$work/mutated" "$1"
}

# --check: only say which mutants are stale or ambiguous (no build).
if [ "${MUTANTS_CHECK:-0}" = 1 ]; then
    bad=0
    for ((i = 0; i < n; i++)); do
        count=0
        [ -f "$src/${files[i]}" ] && count=$(occurrences "$src/${files[i]}" "${finds[i]}")
        [ "$count" = 1 ] && continue
        bad=1
        [ "$count" = 0 ] && echo "stale      ${names[i]} (${files[i]})" || echo "ambiguous  ${names[i]} (${files[i]}: $count times)"
    done
    echo "$n mutants checked"
    exit $bad
fi

echo "building the copy in $build" >&2
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGROUNDUP_SANITIZE=OFF -DGROUNDUP_COVERAGE=OFF \
    -DGROUNDUP_TEST_TIMEOUT="$timeout" > "$work/cmake.log" 2>&1 &&
    cmake --build "$build" -j"$jobs" > "$work/build.log" 2>&1 || { echo "the unmutated copy does not build: $work/build.log" >&2; exit 2; }

# The failing tests of a ctest log, comma-separated (empty when all passed).
failed_tests() {
    awk '/tests FAILED:/ { on = 1; next } on && / - / { sub(/^[^-]*- /, ""); sub(/ \(Failed\)$/, ""); print }' "$1" | paste -sd, -
}

# Baseline: the unmutated suite must pass; its times split the tests into fast and slow.
slow=""
if [ "${MUTANTS_SKIP_BASELINE:-0}" != 1 ] || [ ! -f "$build/Testing/Temporary/CTestCostData.txt" ]; then
    echo "baseline: the unmutated suite" >&2
    if ! ctest --test-dir "$build" -j"$jobs" --timeout "$timeout" > "$work/baseline.log" 2>&1; then
        echo "the unmutated suite fails ($(failed_tests "$work/baseline.log")): fix that first; $work/baseline.log" >&2
        exit 2
    fi
fi
if [ "${MUTANTS_FULL:-0}" != 1 ]; then
    slow=$(awk -v limit="${MUTANTS_SLOW:-20}" '$3 > limit { print $1 }' "$build/Testing/Temporary/CTestCostData.txt" | paste -sd'|' -)
fi

restore_file=""
restore() { [ -n "$restore_file" ] && cp "$work/original" "$src/$restore_file"; restore_file=""; }
trap 'restore; exit 130' INT TERM

printf 'name\toutcome\ttests\twhat\n' > "$work/results.tsv"
caught=0 survived=0 stale=0 invalid=0 ambiguous=0
for ((i = 0; i < n; i++)); do
    name=${names[i]} file=${files[i]} what=${whats[i]}
    if [ $# -gt 0 ]; then
        selected=0
        for wanted in "$@"; do [ "$wanted" = "$name" ] && selected=1; done
        [ $selected = 1 ] || continue
    fi
    tests="" outcome=""
    count=0
    [ -f "$src/$file" ] && count=$(occurrences "$src/$file" "${finds[i]}")
    if [ "$count" = 0 ]; then
        outcome=stale stale=$((stale + 1))
    elif [ "$count" != 1 ]; then
        outcome=ambiguous ambiguous=$((ambiguous + 1))
    else
        cp "$src/$file" "$work/original"
        restore_file=$file
        echo "$file" >> "$work/dirty"
        mutate "$src/$file" "${finds[i]}" "${replaces[i]}"
        start=$SECONDS
        if ! cmake --build "$build" -j"$jobs" > "$work/build-$name.log" 2>&1; then
            outcome=invalid invalid=$((invalid + 1))
        else
            rm -f "$work/build-$name.log"
            log=$work/ctest-$name.log
            if [ -n "$slow" ]; then
                ctest --test-dir "$build" -j"$jobs" --timeout "$timeout" -E "^($slow)\$" > "$log" 2>&1
                tests=$(failed_tests "$log")
                if [ -z "$tests" ]; then
                    ctest --test-dir "$build" -j"$jobs" --timeout "$timeout" -R "^($slow)\$" > "$log" 2>&1
                    tests=$(failed_tests "$log")
                fi
            else
                ctest --test-dir "$build" -j"$jobs" --timeout "$timeout" > "$log" 2>&1
                tests=$(failed_tests "$log")
            fi
            if [ -n "$tests" ]; then outcome=caught caught=$((caught + 1)); else outcome=SURVIVED survived=$((survived + 1)); fi
        fi
        restore
    fi
    printf '%-9s %-36s %s\n' "$outcome" "$name" "${tests:-$what}${start:+ ($((SECONDS - start)) s)}"
    printf '%s\t%s\t%s\t%s\n' "$name" "$outcome" "$tests" "$what" >> "$work/results.tsv"
    unset start
done

run=$((caught + survived))
echo
if [ $run -gt 0 ]; then
    echo "score: $caught of $run mutants caught ($(awk -v c=$caught -v r=$run 'BEGIN { printf "%.0f", 100 * c / r }')%);" \
        "$stale stale, $ambiguous ambiguous, $invalid invalid"
else
    echo "no mutant ran; $stale stale, $ambiguous ambiguous, $invalid invalid"
fi
[ $((stale + ambiguous)) = 0 ]
}
main "$@"; exit
