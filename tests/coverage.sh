#!/usr/bin/env bash
# Line and branch coverage of the libraries under the whole test suite:
#
#   tests/coverage.sh [BUILD_FOLDER]      (default build-coverage)
#
# Builds the tree with gcc --coverage (Debug, no sanitizers) in its own folder, runs ctest,
# collects the counts with Debian's lcov and prints one markdown table: folder, lines covered,
# branches covered; then the files with the most lines never run. The HTML report is written
# to BUILD_FOLDER/coverage-html. Not a test (it takes a Debug build and a full suite run).
#
# lcov comes from Debian (apt-get install lcov); this script installs it if missing.
# The exit status is ctest's: coverage is still reported when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build-coverage}
jobs=${JOBS:-2}
if ! command -v lcov > /dev/null; then
    apt-get update -qq && apt-get install -y -qq lcov > /dev/null
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGROUNDUP_COVERAGE=ON -DGROUNDUP_SANITIZE=OFF \
    -DGROUNDUP_TEST_TIMEOUT=1500 > /dev/null
cmake --build "$build" -j"$jobs" > "$build/coverage-build.log" 2>&1 || { tail -n 30 "$build/coverage-build.log"; exit 1; }
lcov --quiet --zerocounters --directory "$build"
status=0
ctest --test-dir "$build" -j"$jobs" --output-on-failure > "$build/coverage-ctest.log" 2>&1 || status=$?
tail -n 3 "$build/coverage-ctest.log" >&2

info="$build/coverage.info"
# (lcov's warnings, of which Debian's 1.16 prints many about itself, go to a log)
lcov --quiet --rc lcov_branch_coverage=1 --capture --directory "$build" --output-file "$info.all" 2> "$build/lcov.log"
lcov --quiet --rc lcov_branch_coverage=1 --extract "$info.all" "$root/*" --output-file "$info" 2>> "$build/lcov.log"
genhtml --quiet --branch-coverage --output-directory "$build/coverage-html" "$info" > /dev/null 2>> "$build/lcov.log" || true

# The library folders, then the program for reference.
folders=""
for folder in foundations tokenizer quant gpt nn models tools; do
    [ -d "$folder" ] && folders="$folders $folder"
done

# Sum lcov's per-file totals (LF/LH lines found/hit, BRF/BRH branches) by top-level folder.
awk -v root="$root/" -v folders="$folders" '
    BEGIN { n = split(folders, order, " ") }
    /^SF:/ { file = substr($0, 4); sub("^" root, "", file); top = file; sub("/.*", "", top) }
    /^LF:/ { lf[top] += substr($0, 4); flf[file] = substr($0, 4) }
    /^LH:/ { lh[top] += substr($0, 4); flh[file] = substr($0, 4) }
    /^BRF:/ { bf[top] += substr($0, 5) }
    /^BRH:/ { bh[top] += substr($0, 5) }
    function pct(hit, found) { return found ? sprintf("%.1f%%", 100 * hit / found) : "-" }
    END {
        print "| folder | lines | branches |"
        print "|---|---|---|"
        for (i = 1; i <= n; i++) {
            f = order[i]
            printf "| `%s/` | %s (%d of %d) | %s (%d of %d) |\n", f, pct(lh[f], lf[f]), lh[f], lf[f],
                   pct(bh[f], bf[f]), bh[f], bf[f]
            if (f != "tools") { tlf += lf[f]; tlh += lh[f]; tbf += bf[f]; tbh += bh[f] }
        }
        printf "| libraries | %s (%d of %d) | %s (%d of %d) |\n", pct(tlh, tlf), tlh, tlf, pct(tbh, tbf), tbh, tbf
        print ""
        print "Library files with the most lines never run:"
        for (file in flf) {
            top = file; sub("/.*", "", top)
            if (top != "tools" && top != "tests" && flf[file] - flh[file] > 0)
                printf "%6d of %5d  %s\n", flf[file] - flh[file], flf[file], file | "sort -rn | head -n 15"
        }
    }' "$info"
exit "$status"
