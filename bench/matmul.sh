#!/usr/bin/env bash
# groundup's matmul against OpenBLAS's cblas_sgemm, same shapes, same machine, one after the
# other: one markdown table with both GFLOP/s and the ratio.
#
#   bench/matmul.sh [BUILD_DIR] [REPEATS]
#
# Installs Debian's libopenblas-dev if missing (only to compare; groundup never links it).
set -euo pipefail
build=${1:-build}
repeats=${2:-7}
if [ ! -e /usr/include/x86_64-linux-gnu/cblas.h ] && [ ! -e /usr/include/cblas.h ]; then
    apt-get update -qq && apt-get install -y -qq libopenblas-dev > /dev/null
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root="$(dirname "$0")/.."
gcc -O2 -D_POSIX_C_SOURCE=200809L -I "$root" -o "$scratch/openblas_sgemm" "$root/bench/openblas_sgemm.c" "$root/foundations/clock.c" -lopenblas
"$build/groundup" bench matmul --repeats "$repeats" | tail -n +3 | tr -d '|' | awk '{print $1, $2, $3, $4, $6}' > "$scratch/ours"
OPENBLAS_NUM_THREADS=2 "$scratch/openblas_sgemm" "$repeats" | awk '{print $1, $2, $3, $4, $6}' > "$scratch/theirs"
echo "| M | K | N | threads | groundup GFLOP/s | OpenBLAS GFLOP/s | groundup / OpenBLAS |"
echo "|---|---|---|---|---|---|---|"
paste -d' ' "$scratch/ours" "$scratch/theirs" | awk '{printf "| %s | %s | %s | %s | %.1f | %.1f | %.0f%% |\n", $1, $2, $3, $4, $5, $10, 100 * $5 / $10}'
