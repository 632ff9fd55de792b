#!/usr/bin/env bash
# groundup optimizers: the table on stdout, the SVG written, bad options rejected cleanly.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# A short run (the full default is the README's demo); every optimizer on every problem.
if "$groundup" optimizers --out "$tmp/x.svg" --steps 300 --seed 3 >"$tmp/out" 2>"$tmp/err"; then :; else fail "exit status $?"; fi
grep -q '^| problem | optimizer | lr | steps to tol | final loss - min | LR finder |$' "$tmp/out" || fail "no table header"
rows=$(grep -cE '^\| (rosenbrock|quadratic|logistic) \| (sgd|momentum|nesterov|rmsprop|adam|adamw) \|' "$tmp/out")
[ "$rows" -eq 18 ] || fail "expected 18 table rows, got $rows"
grep -q '^| quadratic | nesterov | [0-9.e-]* | [0-9][0-9]* |' "$tmp/out" || fail "nesterov did not reach the tolerance on the quadratic"
# The second-order table: Newton, its difference version and L-BFGS on every problem, the natural
# gradient on logistic regression only; Newton solves the quadratic in one iteration.
grep -q '^| problem | method | iterations to tol | evaluations to tol | iterations run | final loss - min |$' "$tmp/out" ||
    fail "no second-order table"
rows=$(grep -cE '^\| (rosenbrock|quadratic|logistic) \| (newton|newton-differences|l-bfgs|natural-gradient) \|' "$tmp/out")
[ "$rows" -eq 10 ] || fail "expected 10 second-order rows, got $rows"
grep -q '^| quadratic | newton | 1 |' "$tmp/out" || fail "Newton did not solve the quadratic in one iteration"
grep -qE '^\| rosenbrock \| l-bfgs \| [0-9]+ \|' "$tmp/out" || fail "L-BFGS did not reach Rosenbrock's minimum"
[ -s "$tmp/x.svg" ] || fail "no SVG written"
grep -q '</svg>' "$tmp/x.svg" || fail "SVG not complete"
[ "$(grep -c 'class="series"' "$tmp/x.svg")" -ge 18 ] || fail "SVG lacks a curve per optimizer and problem"
! compgen -G "$tmp/x.svg.tmp*" > /dev/null || fail "temporary file left behind"
grep -q 'wrote' "$tmp/err" || fail "no 'wrote' line on stderr"

# --help works and exits 0.
"$groundup" optimizers --help >"$tmp/help" 2>&1 || fail "--help exit status"
grep -q -- '--steps' "$tmp/help" || fail "--help does not list --steps"

# Bad options: non-zero exit, one 'groundup:' error line, nothing on stdout, no crash.
check_bad() {
    "$groundup" optimizers "$@" >"$tmp/bad_out" 2>"$tmp/bad_err"
    status=$?
    [ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "'$*': exit status $status"
    grep -q '^groundup: ' "$tmp/bad_err" || fail "'$*': no error line"
    [ ! -s "$tmp/bad_out" ] || fail "'$*': output on stdout"
}
check_bad --bogus
check_bad --steps abc
check_bad --steps 0
check_bad --steps
check_bad --out /nonexistent-groundup-directory/x.svg --steps 10

cli_finish
