# Sourced by the benchmarks that compare groundup with PyTorch, after setting $threads: both on
# $threads threads (OpenMP waiting passively, so the one not running leaves its cores alone),
# OpenBLAS at its best kernel for this CPU (openblas_core.sh), python3-torch and python3-numpy
# installed when missing (comparison only, never a dependency), the load average before the runs
# in $load, and a temporary directory $tmp removed on exit.
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
source "$(dirname "${BASH_SOURCE[0]}")/openblas_core.sh"
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
