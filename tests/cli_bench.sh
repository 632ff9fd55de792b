#!/usr/bin/env bash
# Every `groundup bench` subcommand runs on a small shape and prints its figures (finite
# numbers in the rows it promises); a bad option is a one-line error.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
G=$groundup D=$tmp  # this script's short names

# bench NAME PATTERN ARGS...: runs, exits 0, and its stdout has a line matching PATTERN.
bench() {
    local name=$1 pattern=$2
    shift 2
    "$G" bench "$name" "$@" >"$D/$name.out" 2>"$D/$name.err" || fail "bench $name: $(tail -n 2 "$D/$name.err")"
    grep -E -q "$pattern" "$D/$name.out" || fail "bench $name prints no '$pattern': $(head -c 400 "$D/$name.out")"
}
head -c 100000 data/mobydick.txt > "$D/text.txt"
bench matmul '^\| 4 \| 768 \| 2304 \| 1 \| [0-9.]+ \|' --repeats 1 --rows 4 --threads 1
bench train 'ms/step' --layers 1 --heads 2 --dim 32 --context 16 --vocab 50 --batch 2 --steps 2
bench nn-gpt2 'ms' --layers 1 --heads 2 --dim 32 --context 16 --vocab 50 --batch 2 --steps 2
bench generate '^decode: [0-9.]+ tok/s' --layers 1 --heads 2 --dim 64 --context 64 --vocab 100 --tokens 8 --threads 1
grep -q "^bound: [0-9.]* tok/s" "$D/generate.out" || fail "bench generate prints its bandwidth bound"
bench quant '^\| q4_0 \| 1 \|' --repeats 1 --threads 1 --layers 1 --rows 0
bench linalg 'Golub-Kahan' --repeats 1 --no-jacobi
bench tokenizer '^\| encode, GPT-2, 1 thread \| [0-9.]+ MB/s' --data "$D/text.txt" --repeats 1 --train-vocab 300 --skip-max --threads 1
bench conv '^\| lenet5.conv2 \| \(2,6,14,14\) \| \(16,6,5,5\), 1, 0 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|' --repeats 1 --batch 2 --threads 1 --layer lenet5
"$G" bench conv --shapes --batch 3 | grep -q '^resnet.layer3 3 128 7 7 128 3 1 1$' || fail "bench conv --shapes lists the layers"
expect_error "a batch of 0" "batch" "$G" bench conv --batch 0
finite_outputs "$D"/*.out
expect_error "an unknown benchmark" "unknown" "$G" bench frobnicate
expect_error "a bad option" "unknown option" "$G" bench matmul --rowz 4

cli_finish
