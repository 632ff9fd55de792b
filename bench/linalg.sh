#!/usr/bin/env bash
# The SVD of groundup next to LAPACK's on the same machine and shapes, one table.
#   bash bench/linalg.sh [path/to/groundup] [repeats]
# Builds bench/lapack_svd.c against Debian's LAPACKE (apt-get install liblapacke-dev
# libopenblas-dev) into a temporary directory; LAPACK is for this comparison only and never a
# dependency of groundup. Both run single-threaded (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1:
# groundup's SVD has no threads); LAPACK is also timed with 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
groundup="${1:-build/groundup}"
repeats="${2:-3}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -e /usr/include/lapacke.h ]; then
    echo "bench/linalg.sh: LAPACKE headers missing: apt-get install -y liblapacke-dev libopenblas-dev" >&2
    exit 1
fi
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I . bench/lapack_svd.c foundations/clock.c -o "$tmp/lapack_svd" -llapacke -lm

OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$groundup" bench linalg --repeats "$repeats" | grep '^| [0-9]' >"$tmp/groundup"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$tmp/lapack_svd" "$repeats" >"$tmp/lapack1"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 "$tmp/lapack_svd" "$repeats" | sed 's/(U, s, Vt)/(U, s, Vt), 2 threads/' >"$tmp/lapack2"

# Which BLAS/LAPACK the alternatives system points at (OpenBLAS or the reference one).
library=$(readlink -f "$(ldconfig -p | awk '/liblapack.so.3 / { print $NF; exit }')" 2>/dev/null || echo unknown)
echo "LAPACK: $library"
echo
echo "| shape | method | ms (median of $repeats) | × groundup Golub-Kahan (U, s, Vt) |"
echo "|---|---|---|---|"
cat "$tmp/groundup" "$tmp/lapack1" "$tmp/lapack2" | awk -F'|' '
    { shape = $2; gsub(/ /, "", shape); method = $3; sub(/^ /, "", method); sub(/ $/, "", method); ms = $4 + 0
      rows[++n] = shape "|" method "|" ms
      if (method == "groundup Golub-Kahan (U, s, Vt)") reference[shape] = ms }
    END { for (i = 1; i <= n; i++) { split(rows[i], f, "|")
              ratio = (f[3] > 0) ? reference[f[1]] / f[3] : 0
              printf("| %s | %s | %.1f | %.2f |\n", f[1], f[2], f[3], ratio) } }' | sort -t'|' -k2,2 -s
echo
echo "(last column: how many times faster than groundup's Golub-Kahan SVD with vectors; below 1 = slower)"
