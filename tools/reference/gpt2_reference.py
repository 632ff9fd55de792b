#!/usr/bin/python3
"""groundup's PyTorch reference GPT-2: our own small implementation, used to check the C model.

Writes, for a randomly initialised model of the given shape:
  <out>/model.bin    llm.c checkpoint  (256 int32 header, magic 20240326, version 3; fp32 params,
                     wte padded to a multiple of 128 rows)
  <out>/state.bin    llm.c test_gpt2 debug state (256 int32 header, magic 20240327, version 2, B, T;
                     x, y int32; logits (B,T,V) fp32; loss fp32; grads of every parameter in order)
  <out>/losses.txt   "step N loss X" for N = 0..steps-1: AdamW on the state's batch, the loss
                     before each update (lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
                     every parameter, as llm.c)

Run with Debian's python3-torch: /usr/bin/python3 tools/reference/gpt2_reference.py --out DIR
Also: `--bench-train` times forward+backward+AdamW steps (ms/step), and `--train-text` trains on
a uint16 llm.c token file for a wall-clock budget and prints validation loss, for comparisons.
"""
import argparse
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d_model, eps=1e-5)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.attproj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model, eps=1e-5)
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.fcproj = nn.Linear(4 * d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.n_heads)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        scores = scores.masked_fill(~mask, float("-inf"))
        y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attproj(y)
        x = x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
        return x


class GPT2(nn.Module):
    def __init__(self, vocab, context, layers, heads, dim):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.lnf = nn.LayerNorm(dim, eps=1e-5)
        # nanoGPT's initialisation: N(0, 0.02), residual projections 0.02/sqrt(2L), biases 0
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" in name:
                nn.init.ones_(p)
            elif name.endswith("attproj.weight") or name.endswith("fcproj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.blocks:
            x = block(x)
        logits = self.lnf(x) @ self.wte.weight.T  # tied output matrix
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def llmc_tensors(self):
        """The parameters in llm.c's order: stacked over layers where llm.c stacks them."""
        b = self.blocks
        stack = lambda get: torch.stack([get(blk) for blk in b])
        return [
            self.wte.weight, self.wpe.weight,
            stack(lambda k: k.ln1.weight), stack(lambda k: k.ln1.bias),
            stack(lambda k: k.qkv.weight), stack(lambda k: k.qkv.bias),
            stack(lambda k: k.attproj.weight), stack(lambda k: k.attproj.bias),
            stack(lambda k: k.ln2.weight), stack(lambda k: k.ln2.bias),
            stack(lambda k: k.fc.weight), stack(lambda k: k.fc.bias),
            stack(lambda k: k.fcproj.weight), stack(lambda k: k.fcproj.bias),
            self.lnf.weight, self.lnf.bias,
        ]

    def llmc_grads(self):
        b = self.blocks
        stack = lambda get: torch.stack([get(blk).grad for blk in b])
        return [
            self.wte.weight.grad, self.wpe.weight.grad,
            stack(lambda k: k.ln1.weight), stack(lambda k: k.ln1.bias),
            stack(lambda k: k.qkv.weight), stack(lambda k: k.qkv.bias),
            stack(lambda k: k.attproj.weight), stack(lambda k: k.attproj.bias),
            stack(lambda k: k.ln2.weight), stack(lambda k: k.ln2.bias),
            stack(lambda k: k.fc.weight), stack(lambda k: k.fc.bias),
            stack(lambda k: k.fcproj.weight), stack(lambda k: k.fcproj.bias),
            self.lnf.weight.grad, self.lnf.bias.grad,
        ]


def padded(V):
    return (V + 127) // 128 * 128


def write_tensors(f, tensors, V):
    """fp32 tensors in order; the first (wte or its gradient) padded with zero rows to Vp."""
    for i, t in enumerate(tensors):
        a = t.detach().numpy().astype("<f4")
        if i == 0:
            a = np.concatenate([a, np.zeros((padded(V) - V, a.shape[1]), dtype="<f4")])
        f.write(a.tobytes())


def write_state(path, x, y, logits, loss, model, V):
    """llm.c's debug state: header (magic 20240327, version 2, B, T), inputs and targets (B,T)
    int32, logits (B,T,Vp), the loss, then the gradients in checkpoint order."""
    B, T = x.shape
    header = np.zeros(256, dtype="<i4")
    header[:4] = [20240327, 2, B, T]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(x.numpy().astype("<i4").tobytes())
        f.write(y.numpy().astype("<i4").tobytes())
        f.write(logits.detach().numpy().astype("<f4").tobytes())
        f.write(np.array([loss.item()], dtype="<f4").tobytes())
        write_tensors(f, model.llmc_grads(), V)


def write_checkpoint(path, model, args):
    header = np.zeros(256, dtype="<i4")
    header[:8] = [20240326, 3, args.context, args.vocab, args.layers, args.heads, args.dim, padded(args.vocab)]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        write_tensors(f, model.llmc_tensors(), args.vocab)


def make_fixture(args):
    torch.manual_seed(args.seed)
    model = GPT2(args.vocab, args.context, args.layers, args.heads, args.dim)
    os.makedirs(args.out, exist_ok=True)
    write_checkpoint(os.path.join(args.out, "model.bin"), model, args)
    x = torch.randint(0, args.vocab, (args.batch, args.seq))
    y = torch.randint(0, args.vocab, (args.batch, args.seq))
    logits, loss = model(x, y)
    loss.backward()
    write_state(os.path.join(args.out, "state.bin"), x, y, logits, loss, model, args.vocab)
    # AdamW on the same batch, weight decay on every parameter (llm.c's choice)
    model.zero_grad()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    with open(os.path.join(args.out, "losses.txt"), "w") as f:
        for step in range(args.steps):
            optimizer.zero_grad()
            _, loss = model(x, y)
            loss.backward()
            optimizer.step()
            f.write(f"step {step} loss {loss.item():.7f}\n")
    print(f"wrote {args.out}/model.bin, state.bin, losses.txt (loss {loss.item():.6f})")


def bench_train(args):
    torch.manual_seed(args.seed)
    model = GPT2(args.vocab, args.context, args.layers, args.heads, args.dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    x = torch.randint(0, args.vocab, (args.batch, args.seq))
    y = torch.randint(0, args.vocab, (args.batch, args.seq))
    times = []
    for step in range(args.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:]) if len(times) > 1 else times
    median = times[len(times) // 2]
    tokens = args.batch * args.seq
    print(f"pytorch train: {median * 1e3:.1f} ms/step (median of {len(times)}), {tokens / median:.0f} tokens/s, "
          f"threads {torch.get_num_threads()}")


def read_tokens(path):
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(1024), dtype="<i4")
        assert header[0] == 20240520, f"{path}: not an llm.c token file"
        return np.frombuffer(f.read(), dtype="<u2").astype(np.int64)[: header[2]]


def train_text(args):
    """Trains for --seconds on a token file with groundup train's recipe (AdamW betas 0.9/0.999,
    50 warmup steps, then a cosine over the time budget down to lr/10, gradient clipping at 1,
    no weight decay), then scores the validation token file as groundup eval does: windows of
    the context length with stride half of it, each token scored once, with all the context
    its window gives it. Prints nats per token and, with --val-bytes, bits per byte."""
    torch.manual_seed(args.seed)
    train, val = read_tokens(args.train_text), read_tokens(args.val_text)
    model = GPT2(args.vocab, args.context, args.layers, args.heads, args.dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    rng = np.random.default_rng(args.seed)
    start, step, warmup, min_lr = time.perf_counter(), 0, 50, args.lr / 10
    while time.perf_counter() - start < args.seconds:
        if step < warmup:
            lr = args.lr * (step + 1) / warmup
        else:
            progress = min(1.0, (time.perf_counter() - start) / args.seconds)
            lr = min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (args.lr - min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        offsets = rng.integers(0, len(train) - args.seq - 1, args.batch)
        x = torch.from_numpy(np.stack([train[o:o + args.seq] for o in offsets]))
        y = torch.from_numpy(np.stack([train[o + 1:o + 1 + args.seq] for o in offsets]))
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
    model.eval()
    total, scored = 0.0, 1  # token 0 is the start token: it is context, never a target
    T, stride = args.context, max(1, args.context // 2)
    with torch.no_grad():
        window_start = 0
        while scored < len(val):
            begin = max(0, min(window_start, len(val) - 1 - T))
            end = min(begin + T, len(val) - 1)
            x = torch.from_numpy(val[begin:end][None])
            logits, _ = model(x)
            log_probs = F.log_softmax(logits[0], dim=-1)
            # position i predicts val[begin + i + 1]; score the targets not scored yet
            for i in range(end - begin):
                target = begin + i + 1
                if target >= scored:
                    total -= log_probs[i, val[target]].item()
            scored = end + 1
            window_start += stride
    n = len(val) - 1
    line = f"pytorch: {step} steps in {args.seconds:.0f} s, held-out {total / n:.4f} nats/token over {n} tokens"
    if args.val_bytes:
        line += f", {total / math.log(2) / args.val_bytes:.4f} bits per byte"
    print(line)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--context", type=int, default=32)
    p.add_argument("--vocab", type=int, default=100)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--out", default="tests/fixtures/gpt2")
    p.add_argument("--bench-train", action="store_true", help="time training steps instead of writing a fixture")
    p.add_argument("--train-text", help="uint16 llm.c token file to train on for --seconds")
    p.add_argument("--val-text", help="uint16 llm.c token file for the validation loss")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--val-bytes", type=int, default=0, help="bytes of the validation text, for bits per byte")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.bench_train:
        bench_train(args)
    elif args.train_text:
        train_text(args)
    else:
        make_fixture(args)


if __name__ == "__main__":
    sys.exit(main())
