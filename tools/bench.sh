#!/usr/bin/env bash
# Quantized against full precision, on one GPT-2 checkpoint:
#
#   tools/bench.sh MODEL [TOKENS] [THREADS]
#
# Quantizes MODEL to q8_0 and q4_0 (into a scratch folder), times `groundup generate` of
# TOKENS tokens (default 256, greedy) with each version under hyperfine, evaluates each on
# the held-out text, and prints one markdown table: format, file size, decoding tokens/s,
# speedup over fp32, perplexity and its change against fp32.
#
# hyperfine comes from Debian (apt-get install hyperfine); this script installs it if missing.
set -euo pipefail
model=${1:?usage: tools/bench.sh MODEL [TOKENS] [THREADS]}
tokens=${2:-256}
threads=${3:-2}
groundup=${GROUNDUP:-build/groundup}
if ! command -v hyperfine > /dev/null; then
    apt-get update -qq && apt-get install -y -qq hyperfine > /dev/null
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# the fp32 weights alone (a training checkpoint also holds the optimizer state)
"$groundup" convert --in "$model" --to groundup --out "$scratch/fp32.ckpt" 2> /dev/null
"$groundup" quantize --model "$model" --type q8_0 --out "$scratch/q8_0.ckpt" > /dev/null
"$groundup" quantize --model "$model" --type q4_0 --out "$scratch/q4_0.ckpt" > /dev/null

declare -A seconds perplexity size
for format in fp32 q8_0 q4_0; do
    file="$scratch/$format.ckpt"
    size[$format]=$(stat -c %s "$file")
    hyperfine --warmup 1 --runs 5 --export-json "$scratch/$format.json" \
        "$groundup generate --model $file -n $tokens --temperature 0 --threads $threads" > /dev/null 2>&1
    seconds[$format]=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" \
        "$scratch/$format.json")
    perplexity[$format]=$("$groundup" eval --model "$file" --threads "$threads" | sed -n 's/^perplexity *//p')
done

echo "| format | file size (MB) | decoding tokens/s | speedup over fp32 | perplexity | change against fp32 |"
echo "|---|---|---|---|---|---|"
for format in fp32 q8_0 q4_0; do
    awk -v f="$format" -v bytes="${size[$format]}" -v s="${seconds[$format]}" -v s32="${seconds[fp32]}" \
        -v p="${perplexity[$format]}" -v p32="${perplexity[fp32]}" -v n="$tokens" 'BEGIN {
        printf "| %s | %.2f | %.1f | %.2fx | %.3f | %+.2f%% |\n", f, bytes / 1e6, n / s, s32 / s, p, 100 * (p - p32) / p32 }'
done
echo
echo "($tokens tokens per run, greedy, $threads threads, median of 5 hyperfine runs each; the time includes loading)"
