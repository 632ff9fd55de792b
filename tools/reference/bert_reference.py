#!/usr/bin/python3
"""groundup's PyTorch reference for BERT's masked-LM pretraining (models/bert.h, bert_pretrain.h).

The model, with groundup's parameter names (state_dict):
  embeddings.{word,position,token_type}_embeddings, embeddings.layer_norm: LayerNorm of the sum
  encoder: nn.TransformerEncoder of nn.TransformerEncoderLayer (batch_first, post-LN, GELU in its
           tanh form, eps 1e-5), names encoder.layers.N.self_attn.in_proj_weight, linear1, norm1, ...
  mlm_head.dense, mlm_head.layer_norm, mlm_head.bias: at the masked positions only,
           logits = LayerNorm(gelu(dense(h))) @ word_embeddings.weight.T + bias  (tied decoder)
BERT's initialisation: matrices and embeddings N(0, 0.02), biases 0, norms 1 and 0.

Two modes.

fixture: a small model and batch, for tests/test_bert.c:
  /usr/bin/python3 tools/reference/bert_reference.py fixture --out tests/fixtures/bert
  writes PARAMS.safetensors (the state_dict; metadata arch bert and the sizes) and
  STATE.safetensors: ids, types (B,T) I32, padding (B,T) I32 (1: a [PAD] key), positions (M) I32
  (flat b*T+t), targets (M) I32, logits (M,V), loss (), grad.<name> for every parameter, and
  step_losses (S): the loss before each of S AdamW steps on that batch (lr 1e-3, betas
  0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter).

train: the same pretraining recipe as `groundup train --arch bert` on the data that run exported
  (--export FILE: the training token ids and the held-out masked set, so ids and held-out masks
  are identical), for the same budget, then the same held-out scores:
  /usr/bin/python3 tools/reference/bert_reference.py train --data out/bert_data.safetensors
      --time 300 [--batch 32 --context 64 --layers 2 --heads 4 --dim 64 --ff 256 --lr 2e-3
      --min-lr 2e-4 --warmup 50 --weight-decay 0.01 --clip 1 --threads 2 --seed 1]
  (the defaults are groundup's).
  Recipe: each step B windows at uniform random offsets, cut at a uniform split, packed as
  [CLS] a [SEP] b [SEP] (types 0 then 1); k = round(0.15 (T-3)) text positions per row chosen
  without replacement, 80% [MASK], 10% a random ordinary token, 10% kept; mean cross-entropy
  on those; AdamW with weight decay on matrices only, gradients clipped to a global norm,
  linear warmup then cosine to min_lr over the training time. The random numbers are numpy's,
  not groundup's: the recipe is the same, the draws are not.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import read_safetensors, write_fixture  # noqa: E402


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class Embeddings(nn.Module):
    def __init__(self, V, T, C):
        super().__init__()
        self.word_embeddings = nn.Embedding(V, C)
        self.position_embeddings = nn.Embedding(T, C)
        self.token_type_embeddings = nn.Embedding(2, C)
        self.layer_norm = nn.LayerNorm(C)


class MlmHead(nn.Module):
    def __init__(self, V, C):
        super().__init__()
        self.dense = nn.Linear(C, C)
        self.layer_norm = nn.LayerNorm(C)
        self.bias = nn.Parameter(torch.zeros(V))


class Bert(nn.Module):
    def __init__(self, V, T, L, H, C, F_, dropout=0.0):
        super().__init__()
        self.embeddings = Embeddings(V, T, C)
        layer = nn.TransformerEncoderLayer(C, H, F_, dropout, activation=gelu_tanh, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
        self.mlm_head = MlmHead(V, C)
        self.dropout = nn.Dropout(dropout)
        for name, p in self.named_parameters():
            if "norm" in name:
                continue
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
            else:
                nn.init.zeros_(p)

    def forward(self, ids, types, positions, padding=None):
        """ids, types (B,T) int64, positions (M) flat b*T+t -> logits (M,V)."""
        e = self.embeddings
        T = ids.shape[1]
        x = e.word_embeddings(ids) + e.position_embeddings.weight[:T] + e.token_type_embeddings(types)
        x = self.dropout(e.layer_norm(x))
        x = self.encoder(x, src_key_padding_mask=padding)
        h = x.reshape(-1, x.shape[-1])[positions]
        h = self.mlm_head.layer_norm(gelu_tanh(self.mlm_head.dense(h)))
        return F.linear(h, e.word_embeddings.weight, self.mlm_head.bias)


def sizes_metadata(V, T, L, H, C, F_):
    return {"arch": "bert", "vocab_size": str(V), "max_length": str(T), "layers": str(L), "heads": str(H),
            "dim": str(C), "ff": str(F_), "dropout": "0"}


# ---------------------------------------------------------------- fixture

def fixture(args):
    V, T, L, H, C, F_, B = 37, 12, 2, 2, 16, 40, 3
    torch.manual_seed(args.seed)
    model = Bert(V, T, L, H, C, F_)
    # Larger than BERT's 0.02, so that the layers' contributions are well above rounding.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)
            else:
                p.uniform_(-0.2, 0.2)
                if "norm" in name and name.endswith("weight"):
                    p.add_(1.0)
    g = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, V - 4, (B, T), generator=g)
    types = (torch.arange(T)[None, :] >= torch.tensor([[5], [7], [4]])).long()
    padding = torch.zeros(B, T, dtype=torch.bool)
    padding[2, T - 3:] = True  # the last row ends in three [PAD]s
    ids[2, T - 3:] = V - 1
    positions = torch.tensor([1, 3, 4, 10, T + 2, T + 6, T + 11, 2 * T + 0, 2 * T + 5, 2 * T + 8])
    targets = torch.randint(0, V - 4, (len(positions),), generator=g)
    ids.view(-1)[positions[::2]] = V - 2  # some become [MASK]
    logits = model(ids, types, positions, padding)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    state = [("ids", ids.int().numpy()), ("types", types.int().numpy()), ("padding", padding.int().numpy()),
             ("positions", positions.int().numpy()), ("targets", targets.int().numpy()),
             ("logits", logits.detach().numpy()), ("loss", loss.detach().numpy())]
    params = [(n, p.detach().numpy().copy()) for n, p in model.named_parameters()]
    state += [("grad." + n, p.grad.numpy().copy()) for n, p in model.named_parameters()]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    step_losses = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(ids, types, positions, padding), targets)
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    metadata = sizes_metadata(V, T, L, H, C, F_)
    write_fixture(args.out, params, metadata, state, {**metadata, "steps": str(args.steps), "lr": "1e-3",
                                                      "seed": str(args.seed), "command": " ".join(sys.argv)})
    print(f"loss {loss.item():.6f}, {len(params)} tensors, {args.steps} step losses -> {args.out}")


# ---------------------------------------------------------------- training

def sample_batch(tokens, B, T, special, rng):
    """B packed and masked rows: ids, types (B,T), positions (B*k) flat, targets (B*k)."""
    n_span, k = T - 3, max(1, round(0.15 * (T - 3)))
    ids = np.empty((B, T), dtype=np.int64)
    types = np.empty((B, T), dtype=np.int64)
    positions = np.empty(B * k, dtype=np.int64)
    targets = np.empty(B * k, dtype=np.int64)
    offsets = rng.integers(0, len(tokens) - n_span + 1, size=B)
    splits = rng.integers(1, n_span, size=B)
    for b in range(B):
        span, split = tokens[offsets[b]:offsets[b] + n_span], splits[b]
        ids[b] = np.concatenate(([special["cls"]], span[:split], [special["sep"]], span[split:], [special["sep"]]))
        types[b] = np.arange(T) > split + 1
        text = np.concatenate((np.arange(1, split + 1), np.arange(split + 2, T - 1)))
        chosen = np.sort(rng.choice(text, size=k, replace=False))
        targets[b * k:(b + 1) * k] = ids[b, chosen]
        u = rng.random(k)
        replaced = ids[b, chosen]
        replaced = np.where(u < 0.8, special["mask"], replaced)
        random_tokens = rng.integers(0, special["n_ordinary"], size=k)
        replaced = np.where((u >= 0.8) & (u < 0.9), random_tokens, replaced)
        ids[b, chosen] = replaced
        positions[b * k:(b + 1) * k] = b * T + chosen
    return ids, types, positions, targets


def learning_rate(args, step, seconds):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    r = min(max(seconds / args.time, 0.0), 1.0)
    return args.min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (args.lr - args.min_lr)


def evaluate(model, data, T, batch=32):
    ids, types = data["heldout_ids"].astype(np.int64), data["heldout_types"].astype(np.int64)
    positions, targets = data["heldout_positions"].astype(np.int64), data["heldout_targets"].astype(np.int64)
    N, k = ids.shape[0], len(positions) // ids.shape[0]
    loss_sum, correct = 0.0, 0
    model.eval()
    with torch.no_grad():
        for b0 in range(0, N, batch):
            b1 = min(N, b0 + batch)
            p = torch.from_numpy(positions[b0 * k:b1 * k] - b0 * T)
            y = torch.from_numpy(targets[b0 * k:b1 * k])
            logits = model(torch.from_numpy(ids[b0:b1]), torch.from_numpy(types[b0:b1]), p)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
    model.train()
    return loss_sum / len(targets), correct / len(targets), len(targets)


def train(args):
    torch.set_num_threads(args.threads)
    data, metadata = read_safetensors(args.data)
    special = {key: int(metadata[key]) for key in ("n_ordinary", "cls", "sep", "mask", "pad", "vocab_size")}
    tokens = data["train_tokens"].astype(np.int64)
    T = data["heldout_ids"].shape[1]
    if args.context != T:
        sys.exit(f"{args.data}: held-out rows of {T} tokens, not --context {args.context}")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Bert(special["vocab_size"], T, args.layers, args.heads, args.dim, args.ff, args.dropout)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads, {n_params} parameters", file=sys.stderr)
    step, recent, start = 0, [], time.perf_counter()
    while True:
        seconds = time.perf_counter() - start
        if seconds >= args.time:
            break
        lr = learning_rate(args, step, seconds)
        for group in optimizer.param_groups:
            group["lr"] = lr
        ids, types, positions, targets = sample_batch(tokens, args.batch, T, special, rng)
        logits = model(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(positions))
        loss = F.cross_entropy(logits, torch.from_numpy(targets))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        recent = (recent + [loss.item()])[-50:]
        step += 1
        if step % 100 == 0:
            print(f"step {step}  loss {loss.item():.4f}  lr {lr:.2e}  {seconds:.0f}/{args.time:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - start
    mean_loss, accuracy, count = evaluate(model, data, T)
    print(f"pytorch: {args.layers} layers, {args.heads} heads, dim {args.dim}, ff {args.ff}, context {T}, "
          f"vocabulary {special['vocab_size']}; {n_params} parameters")
    print(f"trained {step} steps of {args.batch} rows in {seconds:.1f} s ({step * args.batch * T / seconds:.0f} tokens/s); "
          f"loss of the last steps {sum(recent) / len(recent):.4f}")
    print(f"held-out: masked-token accuracy {100 * accuracy:.2f}%, loss {mean_loss:.4f} nats, "
          f"perplexity {math.exp(mean_loss):.2f} ({count} masked tokens)")
    from run_record import write_pytorch_record  # beside `groundup train --arch bert`'s record
    write_pytorch_record("bert", "held-out masked-token accuracy (%)", 100 * accuracy, True, model="BERT (PyTorch)",
                         paper="Devlin et al.", year=2018, train_seconds=seconds, parameters=n_params)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("--out", required=True)
    f.add_argument("--steps", type=int, default=5)
    f.add_argument("--seed", type=int, default=1337)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True, help="the file of groundup train --arch bert --export")
    t.add_argument("--time", type=float, default=300.0)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--context", type=int, default=64)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--dim", type=int, default=64)
    t.add_argument("--ff", type=int, default=256)
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--min-lr", type=float, default=2e-4)
    t.add_argument("--warmup", type=int, default=50)
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--clip", type=float, default=1.0)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    fixture(args) if args.mode == "fixture" else train(args)


if __name__ == "__main__":
    main()
