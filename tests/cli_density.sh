#!/usr/bin/env bash
# The 2-D density models, the GCN and the neural ODE from the command line: tiny runs of flow
# train|sample, score-model train|sample, gcn and neural-ode (seconds even under the
# sanitizers) with their metrics and SVGs; the one-line errors: a checkpoint of another
# model, sampling steps of 0, counts <= 0, an unknown data set, and graph files with an edge
# to a missing node or a malformed line.
set -u
source "$(dirname "$0")/cli_common.bash"
cli_start "$@"

# --- RealNVP
"$groundup" flow train --data gaussians --points 500 --layers 4 --hidden 16 --steps 100 --batch 64 --n 300 \
    --out "$tmp/flow.safetensors" --density "$tmp/density.svg" --samples "$tmp/flow_samples.svg" > "$tmp/flow" 2> "$tmp/err" ||
    { fail "flow train failed"; cat "$tmp/err" >&2; }
grep -q '^negative log-likelihood: [0-9.-]* nats per point on the training points, [0-9.-]* held out' "$tmp/flow" ||
    fail "flow train: no NLL line"
cells=$(sed -n 's/.*data-cells="\([0-9]*\)".*/\1/p' "$tmp/density.svg" | awk '{ n += $1 } END { print n + 0 }')
[ "$cells" -gt 300 ] && [ "$cells" -le 14400 ] || fail "flow: $cells shaded cells of the 120x120 density"
[ "$(grep -c 'class="point"' "$tmp/flow_samples.svg")" -gt 250 ] || fail "flow: fewer than 250 samples drawn"
"$groundup" flow sample --model "$tmp/flow.safetensors" --n 50 --svg "$tmp/s.svg" > "$tmp/sample" || fail "flow sample failed"
grep -q '^samples: mean' "$tmp/sample" || fail "flow sample: no statistics"
finite_outputs "$tmp/flow" "$tmp/sample"

# --- the score model
"$groundup" score-model train --data moons --points 500 --hidden 16 --levels 4 --steps 100 --batch 64 --n 200 \
    --steps-per-level 10 --out "$tmp/score.safetensors" --field "$tmp/field.svg" --samples "$tmp/score_samples.svg" \
    > "$tmp/score" 2> "$tmp/err" || { fail "score-model train failed"; cat "$tmp/err" >&2; }
grep -q '^denoising score matching loss (last 100 steps): [0-9.]*$' "$tmp/score" || fail "score-model: no loss line"
[ "$(grep -c 'class="arrow"' "$tmp/field.svg")" -eq 441 ] || fail "score-model: not 21x21 arrows"
grep -q '^  at h:   samples [-0-9.]*, a second draw of the data [-0-9.]* (floor), the fitted Gaussian [-0-9.]* (baseline)$' \
    "$tmp/score" || fail "score-model: no sample quality (MMD) line"
expect_error "score-model: an unknown activation" "unknown activation 'tanh'" "$groundup" score-model train --activation tanh
"$groundup" score-model sample --model "$tmp/score.safetensors" --n 30 --steps-per-level 5 --svg "$tmp/s.svg" > "$tmp/sample" ||
    fail "score-model sample failed"
finite_outputs "$tmp/score" "$tmp/sample"

# --- the GCN on the karate club
"$groundup" gcn --svg "$tmp/gcn.svg" > "$tmp/gcn" || fail "gcn failed"
grep -q '^gcn on data/karate_club/edges.txt: 34 nodes, 78 edges, 2 classes, 2 labelled nodes' "$tmp/gcn" || fail "gcn: no graph line"
accuracy=$(sed -n 's/.*accuracy on the 32 unlabelled nodes: \([0-9.]*\).*/\1/p' "$tmp/gcn")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a >= 0.9) }' || fail "gcn: accuracy '$accuracy' below 0.9"
[ "$(grep -c 'class="point"' "$tmp/gcn.svg")" -eq 34 ] && [ "$(grep -c 'class="edge"' "$tmp/gcn.svg")" -eq 78 ] ||
    fail "gcn: the embedding SVG lacks its 34 nodes and 78 edges"

# --- the neural ODE, backprop and adjoint
for mode in "" "--adjoint"; do
    "$groundup" neural-ode --points 60 --iterations 60 $mode --svg "$tmp/ode.svg" > "$tmp/ode" || fail "neural-ode $mode failed"
    grep -q '^trajectory mean squared error over t in \[0, 2.95\]: [0-9.]* (untrained: [0-9.]*)' "$tmp/ode" ||
        fail "neural-ode $mode: no error line"
    [ "$(grep -c 'class="path"' "$tmp/ode.svg")" -eq 2 ] || fail "neural-ode $mode: not two trajectories"
done
finite_outputs "$tmp/ode"

# --- one-line errors
expect_error "flow given a score model" "a score_model checkpoint, not a realnvp one" \
    "$groundup" flow sample --model "$tmp/score.safetensors" --svg "$tmp/x.svg"
expect_error "score-model given a flow" "a realnvp checkpoint, not a score_model one" \
    "$groundup" score-model sample --model "$tmp/flow.safetensors" --svg "$tmp/x.svg"
expect_error "score-model zero steps" "--steps-per-level must be at least 1" \
    "$groundup" score-model sample --model "$tmp/score.safetensors" --steps-per-level 0
expect_error "flow zero samples" "--n must be at least 1" "$groundup" flow sample --model "$tmp/flow.safetensors" --n 0
expect_error "flow negative points" "must be at least 1" "$groundup" flow train --points -5
expect_error "unknown data set" "unknown data set 'rings'" "$groundup" flow train --data rings
expect_error "missing checkpoint" "$tmp/none.safetensors" "$groundup" flow sample --model "$tmp/none.safetensors"
expect_error "score-model divergence" "diverged" \
    "$groundup" score-model sample --model "$tmp/score.safetensors" --step-size 10 --n 5 --svg "$tmp/x.svg"
printf '0 1\n1 2\n2 5\n' > "$tmp/edges.txt"
printf '0 0\n1 0\n2 1\n' > "$tmp/labels.txt"
expect_error "edge to a missing node" "edges.txt line 3: edge 2 5 to a missing node" \
    "$groundup" gcn --edges "$tmp/edges.txt" --labels "$tmp/labels.txt" --labelled 0,2 --svg "$tmp/x.svg"
printf '0 1\n1 x\n' > "$tmp/edges.txt"
expect_error "malformed edge" "edges.txt line 2: \"1 x\" is not two integers" \
    "$groundup" gcn --edges "$tmp/edges.txt" --labels "$tmp/labels.txt" --labelled 0,2 --svg "$tmp/x.svg"
printf '0 1\n' > "$tmp/edges.txt"
expect_error "labelled node out of range" "labelled node 9 of a 3-node graph" \
    "$groundup" gcn --edges "$tmp/edges.txt" --labels "$tmp/labels.txt" --labelled 0,9 --svg "$tmp/x.svg"
expect_error "gcn zero steps" "must be positive" "$groundup" gcn --steps 0
expect_error "neural-ode adjoint with dopri5" "--adjoint needs --solver rk4" "$groundup" neural-ode --adjoint --solver dopri5
expect_error "neural-ode zero points" "--points must be at least 2" "$groundup" neural-ode --points 0
[ ! -e "$tmp/x.svg" ] || fail "a failed command left $tmp/x.svg"

cli_finish
