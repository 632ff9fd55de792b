# Sourced by the tests/cli_*.sh scripts: the start every script shares, a failure counter, the
# check that a command fails the way groundup promises and the closing summary (named .bash so
# the cli_*.sh glob does not run it). A script begins
#     set -u
#     source "$(dirname "$0")/cli_common.bash"
#     cli_start "$@"
# and ends with cli_finish.
failures=0

# cli_start [PROGRAM]: $groundup, the program's path (default ./build/groundup), and $tmp, a
# temporary directory removed when the script exits; the run records the training commands
# leave (tools/run_record.h) go to $tmp/runs ($GROUNDUP_RUNS), not to out/runs.
cli_start() {
    groundup=${1:-./build/groundup}
    tmp=$(mktemp -d /tmp/groundup_cli_XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    export GROUNDUP_RUNS=$tmp/runs
}

# cli_finish: one line saying whether every check passed, and the exit: 0 when none failed.
cli_finish() {
    local name
    name=$(basename "$0" .sh)
    if [ "$failures" -ne 0 ]; then
        echo "$name: $failures failure(s)" >&2
        exit 1
    fi
    echo "$name: all checks passed" >&2
    exit 0
}

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_error DESCRIPTION PATTERN COMMAND...: a non-zero exit, and on stderr exactly one line
# "groundup: ..." containing PATTERN (a wrong option may add its usage line after it).
expect_error() {
    local description=$1 pattern=$2
    shift 2
    local err status
    err=$("$@" 2>&1 >/dev/null)
    status=$?
    err=$(printf '%s\n' "$err" | grep -v '^usage:')
    [ $status -ne 0 ] || fail "$description: exit status 0"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$description: not one line: $err"
    printf '%s' "$err" | grep -q "^groundup: " || fail "$description: not 'groundup: ...': $err"
    printf '%s' "$err" | grep -q -- "$pattern" || fail "$description: '$err' lacks '$pattern'"
}

# finite_outputs FILE...: none of the files holds a NaN or an infinity where a number would be
# (a loss, a perplexity, a rate): a run that "succeeds" with a non-finite figure is a failure.
finite_outputs() {
    local file
    for file in "$@"; do
        [ -f "$file" ] || continue
        if grep -a -i -E -q '(^|[^a-z_])[-+]?(nan|inf(inity)?)([^a-z_]|$)' "$file"; then
            fail "$file holds a non-finite number: $(grep -a -i -E -m 1 '(^|[^a-z_])[-+]?(nan|inf(inity)?)([^a-z_]|$)' "$file")"
        fi
    done
}

# mnist_small DIR TRAIN TEST: DIR made, holding the first TRAIN training and TEST test images of
# data/mnist (mnist_subset).
mnist_small() {
    mkdir -p "$1"
    mnist_subset "$1" train "$2"
    mnist_subset "$1" t10k "$3"
}

# blank_mnist DIR SIDE: DIR made, holding MNIST-format files of two blank SIDE x SIDE images
# (SIDE < 256) labelled 1 and 2 in each split: the wrong image size for a model's errors.
blank_mnist() {
    local directory=$1 side=$2 split
    mkdir -p "$directory"
    for split in train t10k; do
        { printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00'; printf "\\x$(printf %02x "$side")"
          printf '\x00\x00\x00'; printf "\\x$(printf %02x "$side")"
          head -c $((2 * side * side)) /dev/zero; } > "$directory/$split-images-idx3-ubyte"
        printf '\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02' > "$directory/$split-labels-idx1-ubyte"
    done
}

# mnist_subset DIR SPLIT COUNT: the first COUNT (< 65536) images and labels of data/mnist's
# SPLIT (train or t10k) as plain IDX files in DIR, for runs that take seconds.
mnist_subset() {
    local directory=$1 split=$2 n=$3
    { printf '\x00\x00\x08\x03\x00\x00'; printf "\\x$(printf %02x $((n >> 8 & 255)))"; printf "\\x$(printf %02x $((n & 255)))";
      printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
      gzip -dc "data/mnist/$split-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } > "$directory/$split-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01\x00\x00'; printf "\\x$(printf %02x $((n >> 8 & 255)))"; printf "\\x$(printf %02x $((n & 255)))"
      gzip -dc "data/mnist/$split-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"; } > "$directory/$split-labels-idx1-ubyte"
}
