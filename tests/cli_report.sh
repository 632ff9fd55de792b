#!/usr/bin/env bash
# groundup report and the run records behind it: a tiny run of every training command leaves
# out/runs/<name>.json (here $GROUNDUP_RUNS, a temporary directory) holding the value the
# command printed; the report has a row for each with its model, paper and value, PyTorch's
# value beside ours from a <name>.pytorch.json, the figures as image links; a malformed and a
# foreign JSON file are skipped with one warning line each; no records, a missing directory and
# an unwritable --out are one-line errors that leave an existing report as it was.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

small=$tmp/small
mnist_small "$small" 100 40

# run NAME COMMAND...: the command succeeds and says where its record went.
run() {
    local name=$1
    shift
    "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || { fail "$name: $* failed"; cat "$tmp/$name.err" >&2; }
    grep -q "^run record $GROUNDUP_RUNS/$name.json$" "$tmp/$name.err" || fail "$name: no 'run record' line: $(tail -2 "$tmp/$name.err")"
    [ -s "$GROUNDUP_RUNS/$name.json" ] || fail "$name: no $GROUNDUP_RUNS/$name.json"
}
run gcn "$groundup" gcn --steps 100 --svg "$tmp/gcn.svg"
run neural-ode-rk4 "$groundup" neural-ode --points 40 --iterations 20 --svg "$tmp/ode.svg"
run flow-moons "$groundup" flow train --points 300 --layers 2 --hidden 8 --steps 30 --n 50 --out "$tmp/flow.safetensors" \
    --density "$tmp/density.svg" --samples "$tmp/flow_samples.svg"
run score-model-moons "$groundup" score-model train --points 300 --hidden 8 --levels 3 --steps 30 --n 50 \
    --steps-per-level 3 --out "$tmp/score.safetensors" --field "$tmp/field.svg" --samples "$tmp/score_samples.svg"
run vae-latent2 "$groundup" vae train --data "$small" --epochs 1 --hidden 16 --latent 2 --batch 20 --out "$tmp/vae.safetensors"
run lenet5-small "$groundup" train --arch lenet5 --data "$small" --epochs 1 --batch 20 --out "$tmp/lenet5.safetensors"
run gan-mlp "$groundup" gan train --data "$small" --epochs 1 --width 8 --latent 4 --batch 20 --out "$tmp/gan.safetensors" \
    --classifier "$tmp/lenet5.safetensors" --score-samples 200
run unet-small "$groundup" train --arch unet --data "$small" --train-images 20 --test-images 8 --epochs 1 --width 4 \
    --batch 10 --out "$tmp/unet.safetensors"
run seq2seq-reverse-gru "$groundup" seq2seq train --task reverse --arch gru --embedding 8 --hidden 8 --steps 5 --batch 8 \
    --train 200 --test 10 --examples 0 --out "$tmp/s2s.safetensors"
head -c 20000 data/mobydick.txt > "$tmp/text.txt"
run bert "$groundup" train --arch bert --data "$tmp/text.txt" --tokenizer bpe:300 --context 32 --layers 1 --heads 2 \
    --dim 16 --ff 32 --batch 4 --steps 5 --eval-passes 1 --out "$tmp/bert.safetensors"
run lm-bigram-names "$groundup" train --arch bigram --counting --data data/names.txt --context 16 --samples 0 \
    --out "$tmp/bigram.ckpt"
# LoRA and DPO fine-tune a tiny GPT-2 (its own record kept out of this report); DPO's pairs by hand.
head -n 1000 data/names.txt > "$tmp/names.txt"
GROUNDUP_RUNS=$tmp/elsewhere "$groundup" train --arch gpt2 --data "$tmp/names.txt" --tokenizer char --layers 1 --heads 2 \
    --dim 16 --context 16 --batch 4 --steps 2 --eval-every 0 --samples 0 --out "$tmp/base.ckpt" > /dev/null 2>&1 ||
    fail "a GPT-2 base for lora and dpo"
run lora-r2-names "$groundup" lora train --base "$tmp/base.ckpt" --data "$tmp/names.txt" --rank 2 --steps 2 --batch 2 \
    --eval-every 0 --out "$tmp/names.lora"
printf '{"prompt":"an","chosen":"na","rejected":"qx"}\n{"prompt":"m","chosen":"ary","rejected":"zzk"}\n' > "$tmp/pairs.jsonl"
run dpo-full-pairs "$groundup" dpo --base "$tmp/base.ckpt" --pairs "$tmp/pairs.jsonl" --steps 2 --batch 2 --lr 1e-3 \
    --out "$tmp/dpo.ckpt"

# Each record holds what its command printed.
value() { sed -n 's/^[[:space:]]*"value":[[:space:]]*\([-0-9.e+]*\),*$/\1/p' "$GROUNDUP_RUNS/$1.json"; }
same() {  # same NAME PRINTED: the record's value equals the printed number (to its printed digits)
    awk -v a="$(value "$1")" -v b="$2" 'BEGIN { exit !(b != "" && (a - b)^2 < 1e-4) }' || fail "$1: record $(value "$1"), printed '$2'"
}
same gcn "$(sed -n 's/.*accuracy on the 32 unlabelled nodes: \([0-9.]*\).*/\1/p' "$tmp/gcn.out" | awk '{ print 100 * $1 }')"
same neural-ode-rk4 "$(sed -n 's/^trajectory mean squared error over t in \[[^]]*\]: \([0-9.]*\).*/\1/p' "$tmp/neural-ode-rk4.out")"
same flow-moons "$(sed -n 's/.*on the training points, \([-0-9.]*\) held out.*/\1/p' "$tmp/flow-moons.out")"
same score-model-moons "$(sed -n 's/^  at h: *samples \([-0-9.]*\), .*/\1/p' "$tmp/score-model-moons.out")"
same vae-latent2 "$(sed -n 's/^test ELBO \([-0-9.]*\) nats.*/\1/p' "$tmp/vae-latent2.out")"
same lenet5-small "$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/lenet5-small.out")"
same gan-mlp "$(sed -n 's/^sample score of 200 samples: mean confidence \([0-9.]*\),.*/\1/p' "$tmp/gan-mlp.out")"
same unet-small "$(sed -n 's/^test IoU \([0-9.]*\),.*/\1/p' "$tmp/unet-small.out")"
same seq2seq-reverse-gru "$(sed -n 's/^held-out exact match: \([0-9.]*\)%.*/\1/p' "$tmp/seq2seq-reverse-gru.out")"
same bert "$(sed -n 's/^held-out: masked-token accuracy \([0-9.]*\)%.*/\1/p' "$tmp/bert.out")"
same lm-bigram-names "$(sed -n 's/^held-out text: .*, \([0-9.]*\) bits per byte.*/\1/p' "$tmp/lm-bigram-names.out")"
same lora-r2-names "$(sed -n 's/^held-out .* -> \([0-9.]*\) bits per byte$/\1/p' "$tmp/lora-r2-names.out")"
same dpo-full-pairs "$(sed -n 's/.*, reward accuracy [0-9.]* -> \([0-9.]*\), .*/\1/p' "$tmp/dpo-full-pairs.out")"
for name in lora-r2-names dpo-full-pairs; do  # the trained parameters: the adapters', every one for full DPO
    trained=$(sed -n 's/.*[^0-9]\([0-9][0-9]*\) trained parameters.*/\1/p; s/^dpo: .*full fine-tuning: \([0-9]*\) parameters trained.*/\1/p' \
        "$tmp/$name.out" "$tmp/$name.err" | head -1)
    grep -q "\"parameters\":[[:space:]]*$trained,\$" "$GROUNDUP_RUNS/$name.json" || fail "$name: parameters not '$trained'"
done
grep -q '"command":[[:space:]]*"groundup vae train --data ' "$GROUNDUP_RUNS/vae-latent2.json" || fail "vae: the record's command"
grep -q '"metric":[[:space:]]*"sample score: mean classifier confidence"' "$GROUNDUP_RUNS/gan-mlp.json" || fail "gan: metric"

# --- the report
printf '{"name": "vae-latent2", "metric": "test ELBO (nats)", "value": -199.5}\n' > "$GROUNDUP_RUNS/vae-latent2.pytorch.json"
printf '{"name": "broken", "metric": ' > "$GROUNDUP_RUNS/broken.json"
printf '{"name": "package", "version": "1.0.0"}\n' > "$GROUNDUP_RUNS/package.json"
"$groundup" report > "$tmp/report.md" 2> "$tmp/report.err" || fail "report failed: $(cat "$tmp/report.err")"
[ "$(wc -l < "$tmp/report.err")" -eq 2 ] || fail "report: not two warnings: $(cat "$tmp/report.err")"
grep -q "^groundup: report: skipped $GROUNDUP_RUNS/broken.json: not JSON" "$tmp/report.err" || fail "no warning for broken.json"
grep -q "^groundup: report: skipped $GROUNDUP_RUNS/package.json: not a run record" "$tmp/report.err" || fail "no warning for package.json"
head -1 "$tmp/report.md" | grep -q '^| Run | Model | Paper | Parameters | Training | Metric | groundup | PyTorch |$' ||
    fail "report: header $(head -1 "$tmp/report.md")"
[ "$(grep -c '^| [a-z0-9-]* | ' "$tmp/report.md")" -eq 13 ] || fail "report: not 13 rows: $(grep -c '^| [a-z]' "$tmp/report.md")"
grep -q '^| gcn | GCN | Kipf & Welling 2017 | [0-9,]* | [0-9.]* s | accuracy on the unlabelled nodes (%) ↑ | [0-9.]* | — |$' \
    "$tmp/report.md" || fail "report: gcn row: $(grep '^| gcn ' "$tmp/report.md")"
grep -q '^| vae-latent2 | VAE | Kingma & Welling 2013 | .* | test ELBO (nats) ↑ | -[0-9.]* | -199.5 |$' "$tmp/report.md" ||
    fail "report: vae row with PyTorch's value: $(grep '^| vae-latent2 ' "$tmp/report.md")"
grep -q '^| lenet5-small | LeNet-5 | LeCun et al. 1998 | 61,706 | ' "$tmp/report.md" || fail "report: lenet5 row"
grep -q '^| gan-mlp | GAN | Goodfellow et al. 2014 | ' "$tmp/report.md" || fail "report: gan row"
grep -q "^| lm-bigram-names | bigram language model | Shannon 1948 | " "$tmp/report.md" || fail "report: bigram row"
grep -q "^| lora-r2-names | LoRA on GPT-2 | Hu et al. 2021 | .* | held-out bits per byte after fine-tuning ↓ | " \
    "$tmp/report.md" || fail "report: lora row: $(grep '^| lora' "$tmp/report.md")"
grep -q "^| dpo-full-pairs | DPO on GPT-2 | Rafailov et al. 2023 | " "$tmp/report.md" || fail "report: dpo row"
grep -q "^!\[density.svg\]($tmp/density.svg)$" "$tmp/report.md" || fail "report: no link to the flow's density"
grep -q "^- seq2seq-reverse-gru: \`groundup seq2seq train --task reverse --arch gru " "$tmp/report.md" || fail "report: commands"
finite_outputs "$tmp/report.md"

mkdir -p "$tmp/docs"
"$groundup" report --out "$tmp/docs/report.md" 2> /dev/null || fail "report --out failed"
cmp -s "$tmp/report.md" "$tmp/docs/report.md" || fail "report --out differs from stdout"
rm "$GROUNDUP_RUNS/broken.json" "$GROUNDUP_RUNS/package.json"  # one line each for the errors below
mkdir -p "$tmp/empty"
expect_error "no runs" "no run records in $tmp/empty" "$groundup" report --runs "$tmp/empty" --out "$tmp/docs/report.md"
expect_error "a missing directory" "$tmp/missing does not exist" "$groundup" report --runs "$tmp/missing"
expect_error "an unwritable --out" "no/such/dir" "$groundup" report --out "$tmp/no/such/dir/report.md"
cmp -s "$tmp/report.md" "$tmp/docs/report.md" || fail "a failed report changed the previous one"
"$groundup" report --out "$tmp/docs/report.md" 2> "$tmp/report.err" || fail "report --out without the bad files"
grep -q "^report: 13 runs, 1 PyTorch references -> $tmp/docs/report.md$" "$tmp/report.err" || fail "report --out: $(cat "$tmp/report.err")"
GROUNDUP_RUNS=$tmp/elsewhere "$groundup" report --runs "$GROUNDUP_RUNS" > /dev/null 2>&1 || fail "--runs over \$GROUNDUP_RUNS"
"$groundup" report --help | grep -q -- '--runs' || fail "report --help"
# A record that cannot be written is a warning: the model is trained and saved all the same.
touch "$tmp/a-file"
GROUNDUP_RUNS=$tmp/a-file/runs "$groundup" gcn --steps 20 --svg "$tmp/gcn2.svg" > /dev/null 2> "$tmp/err" ||
    fail "gcn failed when its record could not be written"
grep -q "^groundup: gcn: warning: no run record: .*a-file/runs" "$tmp/err" || fail "no warning: $(cat "$tmp/err")"
[ -s "$tmp/gcn2.svg" ] || fail "gcn wrote no embedding when its record could not be written"

[ -z "${SHOW_REPORT:-}" ] || cat "$tmp/report.md" >&2
cli_finish
