#!/usr/bin/env bash
# Tokenizer speed next to the references a user would otherwise pick, in one run:
#   - tiktoken-rs (OpenAI's tiktoken algorithm in Rust, npm tiktoken-rs-node-linux-x64-gnu):
#     encode data/mobydick.txt with the gpt2 encoding;
#   - Hugging Face tokenizers (Rust, npm tokenizers): encode with GPT-2's files, and train a
#     byte-level BPE on the same file with its default trainer (it stops when no pair is left);
#   - groundup bench tokenizer.
# The npm packages go into a scratch folder outside the repository (never a dependency of
# groundup): $TOKBENCH_DIR, default /tmp/tokbench.
# usage: bash tools/bench_tokenizer.sh [path/to/groundup]   (from the repository root)
set -euo pipefail
groundup="${1:-build/groundup}"
scratch="${TOKBENCH_DIR:-/tmp/tokbench}"
text="$(pwd)/data/mobydick.txt"
gpt2="$(pwd)/data/gpt2"
mkdir -p "$scratch"
if [ ! -d "$scratch/node_modules/tokenizers" ] || [ ! -d "$scratch/node_modules/tiktoken-rs-node-linux-x64-gnu" ]; then
    (cd "$scratch" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund tiktoken-rs-node-linux-x64-gnu tokenizers >&2)
fi
cat >"$scratch/bench.js" <<'JS'
// Median of 5 timed runs after one warm-up; encode is one call on the whole book.
const fs = require('fs');
const [textPath, gpt2Dir] = process.argv.slice(2);
const text = fs.readFileSync(textPath, 'utf8');
const megabytes = Buffer.byteLength(text, 'utf8') / 1e6;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeIt(f, repeats = 5) {
  await f();
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    await f();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(times);
}
(async () => {
  const tiktoken = require('tiktoken-rs-node-linux-x64-gnu');
  const encoding = tiktoken.getEncoding('gpt2');
  let count = 0;
  const tiktokenSeconds = await timeIt(() => { count = encoding.encode(text).length; });
  console.log(`| tiktoken-rs: encode, GPT-2, one thread | ${(megabytes / tiktokenSeconds).toFixed(1)} MB/s (${tiktokenSeconds.toFixed(3)} s, ${count} tokens) |`);

  const hf = require('tokenizers');
  const model = await hf.BPE.fromFile(`${gpt2Dir}/encoder.json`, `${gpt2Dir}/vocab.bpe`);
  const gpt2 = new hf.Tokenizer(model);
  gpt2.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
  const hfSeconds = await timeIt(async () => { count = (await gpt2.encode(text)).getIds().length; });
  console.log(`| HF tokenizers: encode, GPT-2 | ${(megabytes / hfSeconds).toFixed(1)} MB/s (${hfSeconds.toFixed(3)} s, ${count} tokens) |`);

  // Training: a byte-level BPE with the default trainer (vocabulary 30000 or until no pair is left).
  let size = 0;
  const trainSeconds = await timeIt(() => {
    const tokenizer = new hf.Tokenizer(hf.BPE.empty());
    tokenizer.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    tokenizer.train([textPath]);
    size = tokenizer.getVocabSize();
  }, 3);
  console.log(`| HF tokenizers: train byte-level BPE (default trainer, ${process.env.RAYON_NUM_THREADS || 'all'} threads) to ${size} tokens | ${trainSeconds.toFixed(3)} s |`);
})();
JS
echo "# tokenizer benchmark: $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# references (node $(node --version)):"
references=$(cd "$scratch" && node bench.js "$text" "$gpt2" 2>/dev/null | grep '^|')
references+=$'\n'$(cd "$scratch" && RAYON_NUM_THREADS=1 node bench.js "$text" "$gpt2" 2>/dev/null | grep '^| HF.*train')
echo "$references"
echo "# groundup:"
ours=$("$groundup" bench tokenizer)
echo "$ours"
# Ratios: the first number after the second '|' of each row.
value() { grep -m1 "$2" <<<"$1" | awk -F'|' '{ split($3, words, " "); print words[1] }'; }
awk -v ours="$(value "$ours" 'encode, GPT-2')" -v theirs="$(value "$references" 'tiktoken-rs: encode')" \
    'BEGIN { printf "# encode speed, groundup / tiktoken-rs: %.1fx\n", ours / theirs }'
awk -v ours="$(value "$ours" 'train to every merge')" -v theirs="$(value "$references" 'HF tokenizers: train.*all threads')" \
    'BEGIN { printf "# training to the largest vocabulary, HF time / groundup time: %.1fx\n", theirs / ours }'
