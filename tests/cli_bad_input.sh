#!/usr/bin/env bash
# Issue 17's bad input, all of it in one place: every model's checkpoint given to every other
# model's command (vae, gan, flow, score-model, seq2seq, a classifier, a language model), a
# latent size that does not match the checkpoint, sample and step counts of 0, and graph files
# with an edge to a missing node (and the reader's other promises). Each is one line
# "groundup: <command>: ..." naming what is wrong, a non-zero exit, and no output file left.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

small=$tmp/small
mnist_small "$small" 60 20

quiet() { "$@" > /dev/null 2> "$tmp/err" || { fail "setup: $* failed"; cat "$tmp/err" >&2; }; }
# 20 test images: fewer than 32 and not rows of 8 (the reconstruction grid once wrote past its buffer)
quiet "$groundup" vae train --data "$small" --epochs 1 --hidden 8 --latent 3 --batch 20 --out "$tmp/vae.safetensors"
quiet "$groundup" gan train --data "$small" --epochs 1 --width 8 --latent 5 --batch 20 --out "$tmp/gan.safetensors"
quiet "$groundup" flow train --points 200 --layers 2 --hidden 8 --steps 10 --n 20 --out "$tmp/flow.safetensors" \
    --density "$tmp/d.svg" --samples "$tmp/s.svg"
quiet "$groundup" score-model train --points 200 --hidden 8 --levels 3 --steps 10 --n 20 --steps-per-level 2 \
    --out "$tmp/score.safetensors" --field "$tmp/f.svg" --samples "$tmp/ss.svg"
quiet "$groundup" seq2seq train --task reverse --arch gru --embedding 8 --hidden 8 --steps 2 --batch 8 --train 50 \
    --test 5 --examples 0 --out "$tmp/seq2seq.safetensors"
quiet "$groundup" train --arch lenet5 --data "$small" --epochs 1 --batch 20 --out "$tmp/lenet5.safetensors"
quiet "$groundup" train --arch bigram --counting --data data/names.txt --context 8 --samples 0 --out "$tmp/bigram.ckpt"

# --- each checkpoint given to the commands of the other models: "<file>: a <its arch> checkpoint, not <wanted>"
declare -A arch=([vae]=vae [gan]=gan [flow]=realnvp [score]=score_model [seq2seq]=gru [lenet5]=lenet5)
for model in vae gan flow score seq2seq lenet5; do
    file=$tmp/$model.safetensors
    [ "$model" = vae ] || expect_error "$model for vae sample" "$file: an\? ${arch[$model]} checkpoint, not vae" \
        "$groundup" vae sample --model "$file" --out "$tmp/x.png"
    [ "$model" = vae ] || expect_error "$model for vae eval" "$file: an\? ${arch[$model]} checkpoint, not vae" \
        "$groundup" vae eval --model "$file" --data "$small"
    [ "$model" = gan ] || expect_error "$model for gan sample" "$file: an\? ${arch[$model]} checkpoint, not gan" \
        "$groundup" gan sample --model "$file" --out "$tmp/x.png"
    [ "$model" = flow ] || expect_error "$model for flow sample" "$file: an\? ${arch[$model]} checkpoint, not a realnvp one" \
        "$groundup" flow sample --model "$file" --svg "$tmp/x.svg"
    [ "$model" = score ] || expect_error "$model for score-model sample" \
        "$file: an\? ${arch[$model]} checkpoint, not a score_model one" \
        "$groundup" score-model sample --model "$file" --svg "$tmp/x.svg"
    [ "$model" = lenet5 ] || expect_error "$model as a classifier" "$file: unknown architecture \"${arch[$model]}\"" \
        "$groundup" sample-score --classifier "$file" --data "$small"
    [ "$model" = seq2seq ] || expect_error "$model for seq2seq eval" "$file: .*not a seq2seq model" \
        "$groundup" seq2seq eval --model "$file"
    expect_error "$model for generate" "$file: not a groundup checkpoint" "$groundup" generate --model "$file" -n 3
done
expect_error "a vae to resume a lenet5" "vae.safetensors: unknown architecture \"vae\"" \
    "$groundup" train --arch lenet5 --data "$small" --resume "$tmp/vae.safetensors" --out "$tmp/x.safetensors"
expect_error "a gan to resume a unet" "gan.safetensors: a gan checkpoint, not unet" \
    "$groundup" train --arch unet --data "$small" --resume "$tmp/gan.safetensors" --out "$tmp/x.safetensors"
expect_error "a gan to sample-score's --model" "" "$groundup" sample-score --classifier "$tmp/lenet5.safetensors" \
    --model "$tmp/flow.safetensors" --count 5
for command in "vae sample" "gan sample" "flow sample" "score-model sample" "seq2seq eval"; do  # groundup's own format
    expect_error "a language model for $command" "bigram.ckpt: not a safetensors file" \
        "$groundup" $command --model "$tmp/bigram.ckpt"
done

# --- a latent size that does not match the checkpoint
expect_error "vae sample --latent" "a vae with latent size 3, not 20" "$groundup" vae sample --model "$tmp/vae.safetensors" --latent 20
expect_error "vae eval --latent" "a vae with latent size 3, not 2" \
    "$groundup" vae eval --model "$tmp/vae.safetensors" --data "$small" --latent 2
expect_error "gan sample --latent" "a gan with latent size 5, not 64" "$groundup" gan sample --model "$tmp/gan.safetensors" --latent 64
expect_error "vae sample --latent -1" "--latent must be >= 0" "$groundup" vae sample --model "$tmp/vae.safetensors" --latent -1

# --- counts and steps of 0
expect_error "vae sample --count 0" "--count 0: a count from 1" "$groundup" vae sample --model "$tmp/vae.safetensors" --count 0
expect_error "gan sample --count 0" "--count 0: a count from 1" "$groundup" gan sample --model "$tmp/gan.safetensors" --count 0
expect_error "gan train --score-samples 0" "--score-samples 0" "$groundup" gan train --data "$small" --score-samples 0
expect_error "score-model sample --steps-per-level 0" "--steps-per-level must be at least 1" \
    "$groundup" score-model sample --model "$tmp/score.safetensors" --steps-per-level 0
expect_error "score-model train --steps-per-level 0" "--steps-per-level must be at least 1" \
    "$groundup" score-model train --steps-per-level 0
expect_error "score-model train --steps 0" "must be at least 1" "$groundup" score-model train --steps 0
expect_error "score-model sample --n 0" "--n must be at least 1" "$groundup" score-model sample --model "$tmp/score.safetensors" --n 0
expect_error "score-model sample --step-size 0" "--step-size must be positive" \
    "$groundup" score-model sample --model "$tmp/score.safetensors" --step-size 0
expect_error "flow sample --n 0" "--n must be at least 1" "$groundup" flow sample --model "$tmp/flow.safetensors" --n 0
expect_error "flow train --steps 0" "must be at least 1" "$groundup" flow train --steps 0
expect_error "vae eval --importance-samples -1" "--importance-samples 0..100000" \
    "$groundup" vae eval --model "$tmp/vae.safetensors" --data "$small" --importance-samples -1
expect_error "neural-ode --iterations 0" "" "$groundup" neural-ode --iterations 0

# --- graph files: an edge to a missing node, and the reader's other promises
printf '0 0\n1 0\n2 1\n3 1\n' > "$tmp/labels.txt"
graph_error() {  # graph_error DESCRIPTION PATTERN EDGES-TEXT [LABELS-TEXT]
    printf -- "$3" > "$tmp/edges.txt"
    [ $# -lt 4 ] || printf -- "$4" > "$tmp/labels.txt"
    expect_error "$1" "$2" "$groundup" gcn --edges "$tmp/edges.txt" --labels "$tmp/labels.txt" --labelled 0,3 --svg "$tmp/x.svg"
}
graph_error "an edge to a missing node" "edges.txt line 2: edge 1 4 to a missing node (the graph has nodes 0..3)" '0 1\n1 4\n'
graph_error "an edge from a missing node" "edges.txt line 1: edge 9 0 to a missing node" '9 0\n'
graph_error "a negative node" "edges.txt line 1: edge -1 2 to a missing node" '-1 2\n'
graph_error "a self-loop" "edges.txt line 3: edge from node 2 to itself" '0 1\n# comment\n2 2\n'
graph_error "an edge twice" "edges.txt line 2: edge 1 0 listed twice" '0 1\n1 0\n'
graph_error "a third number" "edges.txt line 1: \"0 1 2\" is not two integers" '0 1 2\n'
graph_error "a node without a class" "labels.txt: node 1 has no class" '0 1\n' '0 0\n2 1\n'
graph_error "a node listed twice" "labels.txt line 2: node 0 listed twice" '0 1\n' '0 0\n0 1\n'
graph_error "no nodes" "labels.txt: no nodes" '0 1\n' '# nothing\n'
printf '0 0\n1 0\n2 1\n3 1\n' > "$tmp/labels.txt"
expect_error "a missing edges file" "$tmp/none.txt" "$groundup" gcn --edges "$tmp/none.txt" --labels "$tmp/labels.txt" --svg "$tmp/x.svg"

[ ! -e "$tmp/x.png" ] && [ ! -e "$tmp/x.svg" ] && [ ! -e "$tmp/x.safetensors" ] || fail "a failed command left an output file"
cli_finish
