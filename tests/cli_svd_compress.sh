#!/usr/bin/env bash
# groundup svd-compress: compresses the bundled photograph (output written, storage and PSNR
# printed), --sweep's table (PSNR growing with the rank), SVG and montage, the default output
# name, a 16-bit colour image; bad files and options give a non-zero exit and one
# 'groundup:' error line.
# Run from the source root: bash tests/cli_svd_compress.sh path/to/groundup
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
root=$(pwd)
image="$root/data/black-canyon.pgm"

# Rank 5 with --out: the file is a 512 x 375 PGM; storage and PSNR printed.
"$groundup" svd-compress --in "$image" --rank 5 --out "$tmp/rank5.pgm" >"$tmp/out" 2>"$tmp/err" || fail "rank 5: exit status"
[ "$(head -n 3 "$tmp/rank5.pgm" | tr '\n' ' ')" = "P5 512 375 255 " ] || fail "rank 5: not a 512x375 P5 file"
grep -q "^rank 5: storage [0-9.]* .*PSNR [0-9.]* dB" "$tmp/out" || fail "rank 5: no storage/PSNR line"
# Storage (m+n+1)k/(mn) at k = 5 for 375 x 512: 4440 / 192000 = 0.0231.
grep -q "storage 0.0231 " "$tmp/out" || fail "rank 5: storage ratio is not 0.0231"
! compgen -G "$tmp/rank5.pgm.tmp*" > /dev/null || fail "temporary file left behind"

# --sweep: a table over ranks, an SVG, a montage of ranks 1, 5, 20, 50 and the original
# (5 panels of 512 with 4-pixel gaps: 2576 wide). PSNR grows with the rank and the table's
# rank-5 row agrees with the single run above.
"$groundup" svd-compress --in "$image" --rank 5 --out "$tmp/s.pgm" --sweep --sweep-out "$tmp/sweep" >"$tmp/sweep_out" 2>&1 ||
    fail "sweep: exit status"
grep -q '^| rank | storage | PSNR (dB) |$' "$tmp/sweep_out" || fail "sweep: no table"
[ "$(grep -cE '^\| [0-9]+ \| [0-9.]+ \| ([0-9.]+|inf) \|$' "$tmp/sweep_out")" -ge 10 ] || fail "sweep: too few table rows"
awk -F'|' '/^\| [0-9]+ \|/ && $4 !~ /inf/ { if ($4 + 0 <= previous) bad = 1; previous = $4 + 0 } END { exit bad }' \
    "$tmp/sweep_out" || fail "sweep: PSNR does not grow with the rank"
single=$(sed -n 's/^rank 5: .*PSNR \([0-9.]*\) dB.*/\1/p' "$tmp/out")
grep -q "^| 5 | 0.0231 | $single |\$" "$tmp/sweep_out" || fail "sweep: rank-5 row differs from the single run ($single dB)"
grep -q '</svg>' "$tmp/sweep.svg" 2>/dev/null || fail "sweep: SVG missing or incomplete"
[ "$(head -n 3 "$tmp/sweep.montage.pgm" 2>/dev/null | tr '\n' ' ')" = "P5 2576 375 255 " ] || fail "sweep: montage header"

# The rest on a small 24 x 16 gradient (fast under the sanitizer): the default output name,
# <input stem>.rank<K>.<ext> in the current directory; a colour image.
small="$tmp/small.pgm"
awk 'BEGIN { printf("P2\n24 16\n255\n"); for (y = 0; y < 16; y++) for (x = 0; x < 24; x++) printf("%d\n", (x * 7 + y * y) % 256) }' >"$small"
(cd "$tmp" && "$groundup" svd-compress --in "$small" --rank 2 >/dev/null 2>&1) || fail "default output: exit status"
[ -s "$tmp/small.rank2.pgm" ] || fail "default output name small.rank2.pgm not written"
awk 'BEGIN { printf("P3\n5 4\n1000\n"); for (i = 0; i < 60; i++) printf("%d\n", (i * 37) % 1001) }' >"$tmp/colour.ppm"
"$groundup" svd-compress --in "$tmp/colour.ppm" --rank 4 --out "$tmp/colour4.ppm" >"$tmp/colour_out" 2>&1 || fail "colour: exit status"
[ "$(head -n 3 "$tmp/colour4.ppm" 2>/dev/null | tr '\n' ' ')" = "P6 5 4 1000 " ] || fail "colour: output header"
grep -q "PSNR inf dB" "$tmp/colour_out" || fail "colour: full rank (4) should be exact"

# Bad files: non-zero exit, exactly one line on stderr, starting 'groundup: svd-compress:'.
check_bad_file() {  # name, contents (printf format)
    printf "$2" >"$tmp/$1"
    "$groundup" svd-compress --in "$tmp/$1" --rank 2 --out "$tmp/never.pgm" >"$tmp/bad_out" 2>"$tmp/bad_err"
    status=$?
    [ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "$1: exit status $status"
    [ "$(wc -l <"$tmp/bad_err")" -eq 1 ] && grep -q '^groundup: svd-compress: ' "$tmp/bad_err" ||
        fail "$1: expected one error line, got: $(cat "$tmp/bad_err")"
    [ ! -e "$tmp/never.pgm" ] || fail "$1: output written anyway"
}
check_bad_file garbage.pgm 'hello world\n'
check_bad_file truncated.pgm 'P5\n4 4\n255\nabc'
check_bad_file maxval.pgm 'P5\n2 2\n70000\nabcdefgh'
check_bad_file zero_size.pgm 'P5\n0 4\n255\n'
check_bad_file empty.pgm ''
"$groundup" svd-compress --in "$tmp/does-not-exist.pgm" --rank 2 2>"$tmp/bad_err" && fail "missing file: exit 0"
grep -q '^groundup: svd-compress: .*cannot open' "$tmp/bad_err" || fail "missing file: no error line"

# Bad options: non-zero exit, a 'groundup:' line, nothing on stdout.
check_bad() {
    "$groundup" svd-compress "$@" >"$tmp/bad_out" 2>"$tmp/bad_err"
    status=$?
    [ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "'$*': exit status $status"
    grep -q '^groundup: ' "$tmp/bad_err" || fail "'$*': no error line"
    [ ! -s "$tmp/bad_out" ] || fail "'$*': output on stdout"
}
check_bad --rank 3
check_bad --in "$small" --rank 0
check_bad --in "$small" --rank 17
check_bad --in "$small" --rank abc
check_bad --in "$small" --bogus
check_bad --in "$small" --rank 2 --out /nonexistent-groundup-directory/x.pgm
"$groundup" svd-compress --help >"$tmp/help" 2>&1 || fail "--help exit status"
grep -q -- '--sweep' "$tmp/help" || fail "--help does not list --sweep"

cli_finish
