# Sourced by the benchmark scripts: OpenBLAS (and PyTorch, which calls it) at its best kernel.
# Debian's OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to its SSE3
# "Prescott" kernels, 2-5x slower; so the core type is set from the CPU's flags unless the
# caller set OPENBLAS_CORETYPE already: SKYLAKEX with AVX-512, ZEN on AMD with AVX2, HASWELL on
# Intel with AVX2. openblas_core_report prints the core OpenBLAS says it chose.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
    if [[ " $cpu_flags " == *" avx512f "* ]]; then
        export OPENBLAS_CORETYPE=SKYLAKEX
    elif [[ " $cpu_flags " == *" avx2 "* ]]; then
        if grep -qm1 AuthenticAMD /proc/cpuinfo; then export OPENBLAS_CORETYPE=ZEN; else export OPENBLAS_CORETYPE=HASWELL; fi
    fi
fi

# openblas_core_report PROGRAM [ARGS]: runs PROGRAM (linked against OpenBLAS) with
# OPENBLAS_VERBOSE=2 and prints "OpenBLAS core: NAME (OPENBLAS_CORETYPE=...)" on stderr.
openblas_core_report() {
    local core
    core=$(OPENBLAS_VERBOSE=2 "$@" 2>&1 >/dev/null | sed -n 's/^Core: //p' | head -1)
    echo "OpenBLAS core: ${core:-unknown} (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'))" >&2
    if [ "$core" = Prescott ]; then echo "warning: OpenBLAS runs its SSE3 fallback: the comparison is unfair" >&2; fi
}
