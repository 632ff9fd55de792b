# Sourced by the tests/cli_*.sh scripts: a failure counter and the check that a command
# fails the way groundup promises (named .bash so the cli_*.sh glob does not run it).
failures=0

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
