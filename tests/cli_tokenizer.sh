#!/usr/bin/env bash
# groundup tokenizer: train/encode/decode/stats round trips through the command line, GPT-2
# ids equal to tiktoken's fixture, and bad input rejected with one error line and a
# non-zero exit (never a crash). Run from the source root: bash tests/cli_tokenizer.sh groundup
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
cases=tests/fixtures/tokenizer/cases

# Encode with GPT-2: ids one per line, equal to tiktoken's; decode gives the text back.
"$groundup" tokenizer encode --tokenizer gpt2 --in $cases/case_38.txt >"$tmp/ids" 2>"$tmp/err" || fail "encode exit status"
cmp -s "$tmp/ids" $cases/case_38.gpt2 || fail "case_38 ids differ from tiktoken's"
"$groundup" tokenizer decode --tokenizer gpt2 --in "$tmp/ids" --out "$tmp/back" || fail "decode exit status"
cmp -s "$tmp/back" $cases/case_38.txt || fail "decode(encode(case_38)) differs"
# Standard input, binary ids, special tokens.
"$groundup" tokenizer encode --binary uint16 <$cases/case_29.txt >"$tmp/ids16" || fail "encode --binary uint16"
[ "$(stat -c %s "$tmp/ids16")" -eq $((2 * $(wc -l <$cases/case_29.gpt2))) ] || fail "uint16 output has the wrong size"
"$groundup" tokenizer decode --binary uint16 --in "$tmp/ids16" | cmp -s - $cases/case_29.txt || fail "uint16 round trip"
"$groundup" tokenizer encode --allow-special --in $cases/case_29.txt | cmp -s - $cases/case_29.gpt2.allow_special ||
    fail "--allow-special ids differ from tiktoken's"
# Random bytes (invalid UTF-8 included) survive encode | decode.
head -c 20000 /dev/urandom >"$tmp/random"
"$groundup" tokenizer encode --in "$tmp/random" --binary uint32 --out "$tmp/random.ids" || fail "encode random bytes"
"$groundup" tokenizer decode --in "$tmp/random.ids" --binary uint32 | cmp -s - "$tmp/random" || fail "random bytes round trip"
! compgen -G "$tmp/random.ids.tmp*" > /dev/null || fail "temporary file left behind"

# Train a small tokenizer, then round-trip a file through it.
head -c 100000 data/mobydick.txt >"$tmp/train.txt"
"$groundup" tokenizer train --data "$tmp/train.txt" --vocab-size 600 --out "$tmp/tok.bpe" --special '<|endoftext|>' \
    >"$tmp/train_out" 2>"$tmp/train_err" || fail "train exit status: $(cat "$tmp/train_err")"
grep -q 'trained 601 tokens (344 merges)' "$tmp/train_out" || fail "train summary: $(cat "$tmp/train_out")"
head -3 "$tmp/tok.bpe" | tr '\n' ' ' | grep -q '^groundup-bpe 1 pattern gpt2 tokens 600 $' || fail "tokenizer file header"
"$groundup" tokenizer encode --tokenizer "$tmp/tok.bpe" --in data/names.txt >"$tmp/names.ids" || fail "encode with trained"
"$groundup" tokenizer decode --tokenizer "$tmp/tok.bpe" --in "$tmp/names.ids" | cmp -s - data/names.txt || fail "trained round trip"
"$groundup" tokenizer stats --tokenizer "$tmp/tok.bpe" --in data/names.txt >"$tmp/stats" || fail "stats exit status"
grep -q "^tokens  *$(wc -l <"$tmp/names.ids")\$" "$tmp/stats" || fail "stats token count: $(cat "$tmp/stats")"
grep -q '^bytes per token' "$tmp/stats" || fail "stats lacks bytes per token"
"$groundup" tokenizer train --data "$tmp/train.txt" --vocab-size 300 --pattern none --out "$tmp/none.bpe" >/dev/null ||
    fail "train --pattern none"

# --help everywhere.
for sub in train encode decode stats; do
    "$groundup" tokenizer $sub --help >"$tmp/help" 2>&1 || fail "$sub --help exit status"
    grep -q -- '--' "$tmp/help" || fail "$sub --help lists no options"
done

# Bad input: non-zero exit below 128 (no crash), one 'groundup:' line, nothing on stdout.
check_bad() {
    local expect="$1"
    shift
    "$groundup" tokenizer "$@" >"$tmp/bad_out" 2>"$tmp/bad_err" </dev/null
    status=$?
    [ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "'$*': exit status $status"
    grep -q "^groundup: .*$expect" "$tmp/bad_err" || fail "'$*': expected an error mentioning '$expect', got: $(cat "$tmp/bad_err")"
    [ ! -s "$tmp/bad_out" ] || fail "'$*': output on stdout"
}
printf 'hello\n' >"$tmp/hello.txt"
printf 'groundup-bpe 1\npattern gpt2\ntokens 300\n00\n' >"$tmp/truncated.bpe"
printf '1 2 x3\n' >"$tmp/bad.ids"
printf '1 2 99999999\n' >"$tmp/big.ids"
printf '\x01\x02\x03' >"$tmp/odd.bin"
: >"$tmp/empty.txt"
check_bad "no/such/file" train --data no/such/file --vocab-size 300 --out "$tmp/x.bpe"
check_bad "256" train --data "$tmp/hello.txt" --vocab-size 100 --out "$tmp/x.bpe"
check_bad "more than this text allows" train --data "$tmp/hello.txt" --vocab-size 5000 --out "$tmp/x.bpe"
check_bad "empty training text" train --data "$tmp/empty.txt" --vocab-size 300 --out "$tmp/x.bpe"
check_bad "pattern" train --data "$tmp/hello.txt" --vocab-size 300 --out "$tmp/x.bpe" --pattern perl
check_bad "required" train --vocab-size 300
check_bad "cannot create" train --data "$tmp/hello.txt" --vocab-size 258 --out /nonexistent-groundup-dir/x.bpe
check_bad "truncated.bpe.*truncated" encode --tokenizer "$tmp/truncated.bpe" --in "$tmp/hello.txt"
check_bad "no/such.bpe" encode --tokenizer no/such.bpe --in "$tmp/hello.txt"
check_bad "no/such/gpt2/encoder.json" encode --tokenizer gpt2 --data-dir no/such --in "$tmp/hello.txt"
check_bad "no/such/input" encode --in no/such/input
check_bad "uint32 or uint16" encode --in "$tmp/hello.txt" --binary int8
check_bad "bad.ids line 1: 'x3'" decode --in "$tmp/bad.ids"
check_bad "99999999.*not a token" decode --in "$tmp/big.ids"
check_bad "whole number" decode --in "$tmp/odd.bin" --binary uint16
check_bad "unknown subcommand" frobnicate
check_bad "unknown option" encode --bogus

# The bundled data is found from any folder: GPT-2's tokenizer by name from /tmp gives the
# same ids as from the repository's root, and an llm.c-vocabulary name needs no path.
program=$(cd "$(dirname "$groundup")" && pwd)/$(basename "$groundup")
printf 'Hello, world' > "$tmp/from_anywhere.txt"
here=$("$groundup" tokenizer encode --tokenizer gpt2 --in "$tmp/from_anywhere.txt" | tr "\n" " ")
there=$(cd "$tmp" && env -u GROUNDUP_DATA "$program" tokenizer encode --tokenizer gpt2 --in from_anywhere.txt | tr "\n" " ")
[ "$here" = "15496 11 995 " ] || fail "GPT-2 ids of 'Hello, world': $here"
[ "$there" = "$here" ] || fail "from another folder: '$there', expected '$here'"

cli_finish
