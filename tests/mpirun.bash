#!/usr/bin/env bash
# mpirun as the tests use it: more ranks than cores allowed (--oversubscribe; the machine may
# have 2 cores), as root where the tests run as root (containers, CI), over shared memory only,
# each rank with one OpenMP thread unless the caller says otherwise.
# Usage: tests/mpirun.bash -np N program args...
flags=(--oversubscribe --mca btl self,vader -x OMP_NUM_THREADS="${OMP_NUM_THREADS_PER_RANK:-1}" -x OMP_WAIT_POLICY)
[ "$(id -u)" = 0 ] && flags+=(--allow-run-as-root)
# Containers often forbid the cross-memory attach Open MPI tries first: plain copies instead.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Open MPI's plugins allocate at start and are unloaded before the sanitizer build's leak check
# runs, so their allocations show as leaks of an unknown module that no suppression can name:
# leaks are checked in the single-process runs of the same code, not under mpirun.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
exec "${MPIRUN:-mpirun}" "${flags[@]}" "$@"
