# Sourced by the tests/cli_mpi*.sh scripts after cli_common.bash, with G (the program), D (a
# temporary directory) and RUN (tests/mpirun.bash -q) set (named .bash so the cli_*.sh glob
# does not run it).

# mpi_built_or_exit SCRIPT ARGS... (a training command writing "$D/x.out"): in a build without
# MPI, checks that --ranks and a launcher's environment are refused with one line and nothing
# written, then ends the script; in a build with MPI, checks that --ranks without mpirun says
# how to start the job, and that mpirun is there.
mpi_built_or_exit() {
    local script=$1 err
    shift
    err=$("$G" "$@" --ranks 2 --out "$D/x.out" 2>&1 >/dev/null)
    if printf '%s' "$err" | grep -q "built without MPI"; then
        expect_error "--ranks without MPI" "built without MPI" "$G" "$@" --ranks 2 --out "$D/x.out"
        expect_error "mpirun without MPI" "started by mpirun" env OMPI_COMM_WORLD_SIZE=2 "$G" "$@" --out "$D/x.out"
        [ ! -e "$D/x.out" ] || fail "nothing written"
        [ $failures -eq 0 ] && echo "$script: a build without MPI refuses ranks (no mpirun tests)"
        exit $((failures > 0))
    fi
    expect_error "--ranks without mpirun" "mpirun -np 2" "$G" "$@" --ranks 2 --out "$D/x.out"
    command -v "${MPIRUN:-mpirun}" >/dev/null || { fail "MPI built in but no mpirun (apt-get install -y openmpi-bin)"; exit 1; }
}

# every_rank_fails DESCRIPTION PATTERN N ARGS...: N ranks of groundup ARGS: one stderr line
# "groundup: ..." with PATTERN (mpirun -q adds nothing; a wrong option may add its usage
# line), and every rank's exit status non-zero.
every_rank_fails() {
    local description=$1 pattern=$2 n=$3
    shift 3
    rm -f "$D"/status.*
    err=$($RUN -np "$n" bash -c '"$@"; echo $? > "'"$D"'/status.$OMPI_COMM_WORLD_RANK"' _ "$G" "$@" 2>&1 >/dev/null)
    err=$(printf '%s\n' "$err" | grep -v '^usage:')
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$description: not one line: $err"
    printf '%s' "$err" | grep -q -- "^groundup: .*$pattern" || fail "$description: '$err' lacks '$pattern'"
    for ((r = 0; r < n; r++)); do
        [ -s "$D/status.$r" ] && [ "$(cat "$D/status.$r")" != 0 ] || fail "$description: rank $r exit $(cat "$D/status.$r" 2>/dev/null)"
    done
}
