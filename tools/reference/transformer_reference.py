#!/usr/bin/python3
"""groundup's PyTorch reference for the encoder-decoder Transformer, for
`groundup verify --arch transformer --heads H` (models/transformer.h).

The model (Vaswani et al. 2017): src_embed and tgt_embed (nn.Embedding, scaled by sqrt(d_model),
plus the sinusoidal encoding PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(...), computed
in double and rounded to float32), then torch's own nn.Transformer under the name `transformer`
(batch_first=True, dropout 0, post-LayerNorm unless --norm-first, its final encoder and decoder
norms), then `generator` (nn.Linear to the target vocabulary). The target gets the causal mask
(nn.Transformer.generate_square_subsequent_mask); there is no padding. The loss is the mean
cross-entropy of logits against tgt_out. nn.Transformer's own initialisation (xavier_uniform on
its matrices) after torch.manual_seed(--seed); the embeddings N(0, 1/d_model).

--activation relu (the default) or gelu-tanh (F.gelu(approximate='tanh'), the framework's gelu;
torch's activation="gelu" is the erf form, which groundup does not have).

Writes, all little-endian, row-major (the writer is mlp_reference.py's):
  <out>/PARAMS.safetensors  the state_dict: src_embed.weight (Vs,C), tgt_embed.weight (Vt,C),
                            transformer.encoder.layers.0.self_attn.in_proj_weight (3C,C), ...,
                            transformer.encoder.norm.weight, transformer.decoder.norm.weight, ...,
                            generator.weight (Vt,C), generator.bias (Vt). Metadata: format "pt",
                            arch "transformer", norm_first "0"|"1", activation "relu"|"gelu".
  <out>/STATE.safetensors   src (B,S) I32, tgt_in (B,T) I32, tgt_out (B,T) I32, logits (B,T,Vt),
                            loss () F32, grad.<name> for every parameter, step_losses (steps): the
                            loss before each of `steps` AdamW updates on that batch (lr --lr, betas
                            0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter), from PARAMS.
The number of heads is not in the files: verify is given it (--heads).

Run with Debian's python3-torch:
  /usr/bin/python3 tools/reference/transformer_reference.py --out DIR [--d-model 16] [--heads 2]
      [--encoder-layers 2] [--decoder-layers 2] [--feedforward 32] [--src-vocab 11] [--tgt-vocab 13]
      [--src-length 7] [--tgt-length 5] [--batch 3] [--steps 10] [--lr 1e-3] [--seed 1337]
      [--norm-first] [--activation relu|gelu-tanh]
  /usr/bin/python3 tools/reference/transformer_reference.py --bench-train [sizes] [--threads 2] [--steps 20]
      (the median ms of a training step; bench/transformer.sh runs it beside groundup bench transformer)
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
from fixture import command_line, print_step_losses, write_fixture  # noqa: E402


def sinusoidal_positions(length, d_model):
    pe = np.zeros((length, d_model), dtype=np.float64)
    for p in range(length):
        for i in range(0, d_model, 2):
            angle = p / math.pow(10000.0, i / d_model)
            pe[p, i] = math.sin(angle)
            if i + 1 < d_model:
                pe[p, i + 1] = math.cos(angle)
    return torch.from_numpy(pe.astype(np.float32))


class TransformerModel(nn.Module):
    def __init__(self, args):
        super().__init__()
        activation = "relu" if args.activation == "relu" else (lambda x: F.gelu(x, approximate="tanh"))
        self.d_model = args.d_model
        self.src_embed = nn.Embedding(args.src_vocab, args.d_model)
        self.tgt_embed = nn.Embedding(args.tgt_vocab, args.d_model)
        self.transformer = nn.Transformer(d_model=args.d_model, nhead=args.heads, num_encoder_layers=args.encoder_layers,
                                          num_decoder_layers=args.decoder_layers, dim_feedforward=args.feedforward,
                                          dropout=0.0, activation=activation, batch_first=True,
                                          norm_first=args.norm_first)
        self.generator = nn.Linear(args.d_model, args.tgt_vocab)
        nn.init.normal_(self.src_embed.weight, 0.0, 1.0 / math.sqrt(args.d_model))
        nn.init.normal_(self.tgt_embed.weight, 0.0, 1.0 / math.sqrt(args.d_model))
        self.register_buffer("pe", sinusoidal_positions(max(args.src_length, args.tgt_length), args.d_model),
                             persistent=False)

    def forward(self, src, tgt_in):
        scale = math.sqrt(self.d_model)
        x = self.src_embed(src) * scale + self.pe[: src.shape[1]]
        y = self.tgt_embed(tgt_in) * scale + self.pe[: tgt_in.shape[1]]
        mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
        return self.generator(self.transformer(x, y, tgt_mask=mask))


def bench_train(args):
    """The median ms of --steps training steps after two warm-up steps, as groundup bench transformer."""
    torch.set_num_threads(args.threads)
    model = TransformerModel(args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    src = torch.randint(0, args.src_vocab, (args.batch, args.src_length))
    tgt_in = torch.randint(0, args.tgt_vocab, (args.batch, args.tgt_length))
    tgt_out = torch.randint(0, args.tgt_vocab, (args.batch, args.tgt_length))
    times = []
    for step in range(args.steps + 2):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(src, tgt_in).reshape(-1, args.tgt_vocab), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        if step >= 2:
            times.append(1e3 * (time.perf_counter() - start))
    times.sort()
    print(f"pytorch transformer {args.encoder_layers}+{args.decoder_layers} layers, C {args.d_model}, {args.heads} heads, "
          f"FF {args.feedforward}, B {args.batch}, S {args.src_length}, T {args.tgt_length}, {torch.get_num_threads()} "
          f"threads: {times[(len(times) - 1) // 2]:.2f} ms/step (median of {len(times)})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--d-model", type=int, default=16)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--encoder-layers", type=int, default=2)
    p.add_argument("--decoder-layers", type=int, default=2)
    p.add_argument("--feedforward", type=int, default=32)
    p.add_argument("--src-vocab", type=int, default=11)
    p.add_argument("--tgt-vocab", type=int, default=13)
    p.add_argument("--src-length", type=int, default=7)
    p.add_argument("--tgt-length", type=int, default=5)
    p.add_argument("--norm-first", action="store_true")
    p.add_argument("--activation", choices=["relu", "gelu-tanh"], default="relu")
    p.add_argument("--batch", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out")
    p.add_argument("--bench-train", action="store_true",
                   help="time training steps (forward, backward, AdamW) on a random batch instead of writing files")
    p.add_argument("--threads", type=int, default=2, help="--bench-train: torch.set_num_threads")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    if args.bench_train:
        bench_train(args)
        return
    if not args.out:
        sys.exit("--out is required (or --bench-train)")
    model = TransformerModel(args)
    initial = {name: value.detach().clone() for name, value in model.state_dict().items()}
    src = torch.randint(0, args.src_vocab, (args.batch, args.src_length))
    tgt = torch.randint(0, args.tgt_vocab, (args.batch, args.tgt_length + 1))
    tgt_in, tgt_out = tgt[:, :-1].contiguous(), tgt[:, 1:].contiguous()

    logits = model(src, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, args.tgt_vocab), tgt_out.reshape(-1))
    loss.backward()
    grads = [("grad." + name, param.grad.detach().clone()) for name, param in model.named_parameters()]

    model.zero_grad()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    step_losses = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(src, tgt_in).reshape(-1, args.tgt_vocab), tgt_out.reshape(-1))
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()

    metadata = {"format": "pt", "arch": "transformer", "norm_first": "1" if args.norm_first else "0",
                "activation": "relu" if args.activation == "relu" else "gelu"}
    command = command_line("transformer_reference.py")
    state_metadata = dict(metadata, heads=str(args.heads), batch=str(args.batch), steps=str(args.steps),
                          lr=repr(args.lr), seed=str(args.seed), command=command, torch=torch.__version__)
    state = [("src", src.to(torch.int32).numpy()), ("tgt_in", tgt_in.to(torch.int32).numpy()),
             ("tgt_out", tgt_out.to(torch.int32).numpy()), ("logits", logits.detach().numpy()),
             ("loss", loss.detach().numpy().reshape(()))]
    state += [(name, value.numpy()) for name, value in grads]
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    write_fixture(args.out, [(name, value.numpy()) for name, value in initial.items()], metadata, state, state_metadata)
    print_step_losses(step_losses)
    print(f"wrote {args.out}/PARAMS.safetensors and {args.out}/STATE.safetensors: {len(initial)} tensors, "
          f"loss {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
