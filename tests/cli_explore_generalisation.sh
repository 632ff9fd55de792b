#!/usr/bin/env bash
# groundup explore's generalisation topics on a tiny MNIST copy (1,200 training and 300 test
# images, a 784-32-10 network, a few epochs: seconds under the sanitizers): each prints its
# table with finite numbers and writes its figure; the topic list names them; bad input
# (negative coefficients, k = 0, a patience of 0, rates outside (0, 1), a missing data
# directory) is a one-line error with a non-zero exit and nothing on stdout. The claims
# themselves are asserted by tests/test_explore_generalisation.c and tests/test_augment.c.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"
source "$(dirname "$0")/cli_explore_common.bash"

mnist_small "$tmp/mnist" 1200 300
small=(--data "$tmp/mnist" --train 400 --test 300 --hidden1 32 --hidden2 0 --epochs 2)

"$groundup" explore --help > "$tmp/topics" || fail "explore --help"
for t in l1-l2 early-stopping dropout-ensemble lottery-ticket augmentation loss-landscape; do
    grep -q "^    $t " "$tmp/topics" || fail "topic $t not listed"
    "$groundup" explore "$t" --help | grep -q -- '--out' || fail "$t --help lacks --out"
done
grep -q '^  generalisation$' "$tmp/topics" || fail "no generalisation area"

explore_topic l1-l2 '| lambda | L1 test acc |' 3 "${small[@]}" --coefficients 1e-4,1e-3
[ "$(grep -c '^| [0-9.e-]* | ' "$tmp/l1-l2.out")" -eq 3 ] || fail "l1-l2: not 3 rows (0 and two coefficients)"
explore_topic early-stopping '| epoch | train loss |' 4 "${small[@]}" --epochs 6 --validation 200 --patience 2
grep -q '^| last epoch | 6 |' "$tmp/early-stopping.out" || fail "early-stopping: no last-epoch row"
expect_record early-stopping %.2f "$(awk -F' [|] ' '/^\| kept by validation loss/ {print $3}' "$tmp/early-stopping.out")" \
    "$(awk -F' [|] ' '/^\| last epoch/ {print $3}' "$tmp/early-stopping.out")"
explore_topic dropout-ensemble '| k masks averaged |' 3 "${small[@]}" --k 5
[ "$(grep -c '^| [1-5] | ' "$tmp/dropout-ensemble.out")" -eq 4 ] || fail "dropout-ensemble: not rows k = 1, 2, 3, 5"
expect_record dropout-ensemble %.2f "$(awk -F' [|] ' '$1 == "| 5" {print $2}' "$tmp/dropout-ensemble.out")" \
    "$(sed -n 's/.*weight scaling \([0-9.]*\), one mask.*/\1/p' "$tmp/dropout-ensemble.out")"
explore_topic lottery-ticket '| round | weights remaining' 2 "${small[@]}" --rounds 2 --rate 0.5
grep -q '^| 2 | ' "$tmp/lottery-ticket.out" || fail "lottery-ticket: no round 2"
# the record's headline: the ticket's accuracy at the sparsest level, against the random re-initialisation's
expect_record lottery-ticket %.2f "$(awk -F' [|] ' '$1 == "| 2" {print $3}' "$tmp/lottery-ticket.out")" \
    "$(awk -F' [|] ' '$1 == "| 2" {print $4}' "$tmp/lottery-ticket.out")"

"$groundup" explore augmentation "${small[@]}" --examples 3 --out "$tmp/a.png" > "$tmp/a.out" 2> "$tmp/a.err" ||
    fail "augmentation: $(cat "$tmp/a.err")"
head -c 8 "$tmp/a.png" | od -An -c | grep -q 'P   N   G' || fail "augmentation: not a PNG"
[ "$(grep -cE '^\| (none|shift|rotation|elastic|all three) \|' "$tmp/a.out")" -eq 5 ] || fail "augmentation: not 5 rows"
finite_outputs "$tmp/a.out"

"$groundup" explore loss-landscape "${small[@]}" --models mlp,resnet-no-skip --resnet-width 2 --resnet-blocks 1 \
    --resnet-epochs 1 --eval 100 --grid 3 --line-points 3 --surfaces "$tmp/ls" --out "$tmp/ll.svg" > "$tmp/ll.out" 2> "$tmp/ll.err" ||
    fail "loss-landscape: $(cat "$tmp/ll.err")"
for f in "$tmp/ll.svg" "$tmp/ls-mlp.svg" "$tmp/ls-resnet-no-skip.svg"; do grep -q '</svg>' "$f" 2>/dev/null || fail "no $f"; done
[ ! -e "$tmp/ls-resnet.svg" ] || fail "loss-landscape: a model not asked for was drawn"
grep -q '^| ResNet without skips | ' "$tmp/ll.out" || fail "loss-landscape: no ResNet row"
[ "$(grep -c '^| [-0-9.]* | [0-9.]* | [0-9.]* |$' "$tmp/ll.out")" -eq 3 ] || fail "loss-landscape: not 3 line points"
finite_outputs "$tmp/ll.out"
explore_bad "even grid" "odd" loss-landscape "${small[@]}" --models mlp --grid 4 --out "$tmp/bad.svg"
explore_bad "unknown model" "models" loss-landscape --models vgg --out "$tmp/bad.svg"
explore_bad "negative span" "span" loss-landscape "${small[@]}" --models mlp --span -1 --out "$tmp/bad.svg"

explore_bad "negative coefficient" "coefficient" l1-l2 "${small[@]}" --coefficients=-1e-4 --out "$tmp/bad.svg"
explore_bad "coefficients not numbers" "coefficients" l1-l2 "${small[@]}" --coefficients 1e-4,x --out "$tmp/bad.svg"
explore_bad "zero masks" "masks" dropout-ensemble "${small[@]}" --k 0 --out "$tmp/bad.svg"
explore_bad "dropout 1" "dropout probability" dropout-ensemble "${small[@]}" --p 1 --out "$tmp/bad.svg"
explore_bad "patience 0" "patience" early-stopping "${small[@]}" --patience 0 --out "$tmp/bad.svg"
explore_bad "label noise 2" "label noise" early-stopping "${small[@]}" --label-noise 2 --out "$tmp/bad.svg"
explore_bad "rate 0" "pruning rate" lottery-ticket "${small[@]}" --rate 0 --out "$tmp/bad.svg"
explore_bad "rounds 0" "rounds" lottery-ticket "${small[@]}" --rounds 0 --out "$tmp/bad.svg"
explore_bad "negative shift" "shift" augmentation "${small[@]}" --shift -1 --out "$tmp/bad.png"
explore_bad "sigma 0" "sigma" augmentation "${small[@]}" --sigma 0 --out "$tmp/bad.png"
explore_bad "negative lr" "learning rate" l1-l2 "${small[@]}" --lr -0.1 --out "$tmp/bad.svg"
explore_bad "no data" "/nonexistent" lottery-ticket --data /nonexistent --out "$tmp/bad.svg"
explore_bad "epochs not a number" "--epochs" early-stopping --epochs many
explore_bad "threads -1" "threads" l1-l2 --threads -1
[ ! -e "$tmp/bad.svg" ] && [ ! -e "$tmp/bad.png" ] || fail "a failed run left a figure"
# an unwritable figure: an error, and stdout stays empty
explore_bad "unwritable figure" "/nonexistent" dropout-ensemble "${small[@]}" --k 2 --out /nonexistent/d.svg

cli_finish
