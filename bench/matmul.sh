#!/usr/bin/env bash
# groundup's matmul against OpenBLAS's cblas_sgemm, same shapes, same machine: one markdown
# table with both GFLOP/s and the ratio.
#
#   bench/matmul.sh [BUILD_DIR] [REPEATS] [ROUNDS]
#
# The two programs run in turn ROUNDS times (default 3), each timing every shape REPEATS times
# (default 7) at 1 and 2 threads; a row shows the median over the rounds of each side's median,
# so that load from elsewhere on the machine falls on both alike. OpenBLAS runs at its best
# kernel for this CPU (bench/openblas_core.sh sets OPENBLAS_CORETYPE and prints the core it
# chose); GROUNDUP_GEMM=avx2 (or portable) times another of groundup's kernels. groundup runs
# with OMP_WAIT_POLICY=PASSIVE (WAIT_POLICY=ACTIVE to spin instead): on a machine shared with
# other jobs, threads that spin while their partner is descheduled lose most of the time.
#
# Installs Debian's libopenblas-dev if missing (only to compare; groundup never links it).
set -euo pipefail
build=${1:-build}
repeats=${2:-7}
rounds=${3:-3}
export OMP_WAIT_POLICY=${WAIT_POLICY:-PASSIVE}
source "$(dirname "$0")/openblas_core.sh"
if ! ls /usr/lib/x86_64-linux-gnu/libopenblas.so > /dev/null 2>&1 && ! ldconfig -p | grep -q 'libopenblas\.so '; then
    apt-get update -qq && apt-get install -y -qq libopenblas-dev > /dev/null
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root="$(dirname "$0")/.."
gcc -O2 -D_POSIX_C_SOURCE=200809L -I "$root" -o "$scratch/openblas_sgemm" "$root/bench/openblas_sgemm.c" "$root/foundations/clock.c" -lopenblas
openblas_core_report "$scratch/openblas_sgemm" 1
"$build/groundup" bench matmul --repeats 1 --threads 1 2>&1 >/dev/null | head -1 >&2
for round in $(seq "$rounds"); do
    "$build/groundup" bench matmul --repeats "$repeats" 2>/dev/null | tail -n +3 | tr -d '|' |
        awk -v r="$round" '{print NR, r, $6}' >> "$scratch/ours"
    OPENBLAS_NUM_THREADS=2 "$scratch/openblas_sgemm" "$repeats" | awk -v r="$round" '{print NR, r, $6}' >> "$scratch/theirs"
    "$build/groundup" bench matmul --repeats 1 2>/dev/null | tail -n +3 | tr -d '|' | awk '{print NR, $1, $2, $3, $4}' > "$scratch/shapes"
done
median() {  # file -> "row median" lines
    sort -k1,1n -k3,3g "$1" | awk -v n="$rounds" '{v[$1] = v[$1] " " $3} END {
        for (row in v) { split(substr(v[row], 2), x, " "); print row, x[int((n + 1) / 2)] } }' | sort -k1,1n
}
echo "| M | K | N | threads | groundup GFLOP/s | OpenBLAS GFLOP/s | groundup / OpenBLAS |"
echo "|---|---|---|---|---|---|---|"
join "$scratch/shapes" <(median "$scratch/ours") | join - <(median "$scratch/theirs") |
    awk '{printf "| %s | %s | %s | %s | %.1f | %.1f | %.2fx |\n", $2, $3, $4, $5, $6, $7, $6 / $7}'
echo
echo "(median over $rounds alternating rounds of each side's median of $repeats)"
