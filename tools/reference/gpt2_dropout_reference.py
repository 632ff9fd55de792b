#!/usr/bin/python3
"""groundup's PyTorch reference for GPT-2 with dropout: the loss and gradients of a training
forward whose masks are the ones groundup drew.

GPT-2's three dropouts (its code's embd_pdrop, attn_pdrop, resid_pdrop), inverted (kept values
times 1/(1-p)): after wte[token] + wpe[position], on the attention probabilities, and on each
attention and MLP projection before its residual add. The masks come from groundup's
counter-based generator; this script does not draw its own. It writes, into --out:
  model.bin    llm.c checkpoint of a randomly initialised model (gpt2_reference.py's format)
  batch.bin    int32 B, T, then the inputs and the targets (B,T) int32
then runs groundup's exporter (`test_gpt2_dropout export-masks DIR`, built by cmake), which
writes
  masks.bin    64-byte header (int32 magic 20261130, B, T, L, NH, C; float32 p_embedding,
               p_attention, p_residual; int32 0; uint64 seed; int64 step, first_sample), then
               the keep bytes (1 kept, 0 dropped): the embedding's (B,T,C), and per layer the
               attention's (B,NH,T,T), the attention projection's and the MLP projection's (B,T,C)
and finally writes, from a forward and backward in PyTorch with those masks,
  state.bin    llm.c test_gpt2 debug state (inputs, targets, logits, loss, every gradient)
which tests/test_gpt2_dropout.c compares with groundup's own forward and backward.

Run from the repository root with Debian's python3-torch, after building:
  /usr/bin/python3 tools/reference/gpt2_dropout_reference.py --out tests/fixtures/gpt2_dropout
"""
import argparse
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_reference import GPT2, write_checkpoint, write_state  # noqa: E402

MASKS_MAGIC = 20261130


def read_masks(path):
    """The header's fields and the masks as float tensors of 0 and 1."""
    with open(path, "rb") as f:
        data = f.read()
    magic, B, T, L, NH, C = struct.unpack_from("<6i", data, 0)
    assert magic == MASKS_MAGIC, f"{path}: not a masks file"
    p_embedding, p_attention, p_residual = struct.unpack_from("<3f", data, 24)
    (seed,) = struct.unpack_from("<Q", data, 40)
    step, first_sample = struct.unpack_from("<2q", data, 48)
    offset = 64

    def take(*shape):
        nonlocal offset
        n = int(np.prod(shape))
        a = np.frombuffer(data, dtype=np.uint8, count=n, offset=offset).reshape(shape)
        offset += n
        assert set(np.unique(a)) <= {0, 1}, f"{path}: a keep flag that is not 0 or 1"
        return torch.from_numpy(a.astype(np.float32))

    masks = {"embedding": take(B, T, C), "attention": [], "attproj": [], "fcproj": []}
    for _ in range(L):
        masks["attention"].append(take(B, NH, T, T))
        masks["attproj"].append(take(B, T, C))
        masks["fcproj"].append(take(B, T, C))
    assert offset == len(data), f"{path}: {len(data) - offset} bytes past the masks"
    header = dict(B=B, T=T, L=L, NH=NH, C=C, p_embedding=p_embedding, p_attention=p_attention,
                  p_residual=p_residual, seed=seed, step=step, first_sample=first_sample)
    return header, masks


def dropped(x, keep, p):
    """Inverted dropout with a given mask, as torch.nn.functional.dropout computes it."""
    return x * keep * (1.0 / (1.0 - p))


def forward(model, x, y, masks, h):
    """GPT-2 (gpt2_reference.py's Block, written out) with the three dropouts at their places."""
    B, T = x.shape
    hidden = dropped(model.wte(x) + model.wpe(torch.arange(T)), masks["embedding"], h["p_embedding"])
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l, block in enumerate(model.blocks):
        C = hidden.shape[-1]
        q, k, v = block.qkv(block.ln1(hidden)).split(C, dim=2)
        heads = lambda t: t.view(B, T, block.n_heads, C // block.n_heads).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(C // block.n_heads)
        att = F.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        att = dropped(att, masks["attention"][l], h["p_attention"])
        out = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        hidden = hidden + dropped(block.attproj(out), masks["attproj"][l], h["p_residual"])
        mlp = block.fcproj(F.gelu(block.fc(block.ln2(hidden)), approximate="tanh"))
        hidden = hidden + dropped(mlp, masks["fcproj"][l], h["p_residual"])
    logits = model.lnf(hidden) @ model.wte.weight.T
    return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # width 48 over 2 heads and 48 positions: attention takes the matrix-product path (T HS > 1024)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--dim", type=int, default=48)
    p.add_argument("--context", type=int, default=48)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seq", type=int, default=48)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", default="tests/fixtures/gpt2_dropout")
    p.add_argument("--exporter", default="build/tests/test_gpt2_dropout",
                   help="groundup's mask exporter (built by cmake)")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model = GPT2(args.vocab, args.context, args.layers, args.heads, args.dim)
    with torch.no_grad():  # larger than the 0.02 initialisation, so every path carries a gradient
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    os.makedirs(args.out, exist_ok=True)
    write_checkpoint(os.path.join(args.out, "model.bin"), model, args)
    x = torch.randint(0, args.vocab, (args.batch, args.seq))
    y = torch.randint(0, args.vocab, (args.batch, args.seq))
    with open(os.path.join(args.out, "batch.bin"), "wb") as f:
        f.write(np.array([args.batch, args.seq], dtype="<i4").tobytes())
        f.write(x.numpy().astype("<i4").tobytes())
        f.write(y.numpy().astype("<i4").tobytes())

    subprocess.run([args.exporter, "export-masks", args.out], check=True)
    h, masks = read_masks(os.path.join(args.out, "masks.bin"))
    assert (h["B"], h["T"], h["L"], h["NH"], h["C"]) == (args.batch, args.seq, args.layers, args.heads, args.dim), h

    logits, loss = forward(model, x, y, masks, h)
    loss.backward()
    write_state(os.path.join(args.out, "state.bin"), x, y, logits, loss, model, args.vocab)

    kept = {name: float(np.mean([m.mean().item() for m in (v if isinstance(v, list) else [v])]))
            for name, v in masks.items()}
    with torch.no_grad():
        _, plain = model(x, y)
    print(f"wrote {args.out}/model.bin, batch.bin, masks.bin (groundup's), state.bin: loss {loss.item():.6f} with "
          f"the masks ({plain.item():.6f} without); p = {h['p_embedding']:g}/{h['p_attention']:g}/"
          f"{h['p_residual']:g}, kept " + ", ".join(f"{k} {v:.3f}" for k, v in kept.items()))


if __name__ == "__main__":
    sys.exit(main())
