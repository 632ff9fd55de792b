#!/usr/bin/python3
"""groundup's PyTorch reference for the Vision Transformer (models/vit.h), for `groundup verify --arch vit`
and for the accuracy of `groundup train --arch vit` in PyTorch.

The model (Dosovitskiy et al. 2020): patch_embed.proj, a Conv2d(C, D, P, stride P) (the linear
map of each flattened P×P patch), the patches row by row after cls_token (1,1,D), plus pos_embed
(1,N+1,D); then torch's own nn.TransformerEncoder under the name `encoder` (layers of
nn.TransformerEncoderLayer(D, heads, mlp_dim, dropout, activation=tanh-GELU, batch_first=True,
norm_first=True), and its final LayerNorm `encoder.norm`); `head`, a Linear(D, classes) on the
class token. GELU is F.gelu(approximate='tanh'), the framework's nn_gelu (the paper's is the erf
form). Init: PyTorch's defaults, nn.TransformerEncoderLayer's own (xavier_uniform in_proj), the
class token zeros and pos_embed N(0, 0.02²), after torch.manual_seed(--seed); the fixture then
draws the class token from N(0, 0.5²), so that a class token left out shows in the logits.

Fixture mode (--out DIR) writes, through mlp_reference.py's writer (little-endian, row-major):
  <out>/PARAMS.safetensors  the state_dict: cls_token, pos_embed, patch_embed.proj.weight (D,C,P,P)
                            and .bias, encoder.layers.<l>.self_attn.in_proj_weight (3D,D), ...,
                            encoder.norm.weight/bias, head.weight/bias. Metadata: format "pt",
                            arch "vit", heads, dropout "0.0" (the number of heads is not in the
                            shapes: groundup reads it from here).
  <out>/STATE.safetensors   inputs (B,1,28,28) F32, targets (B) I32, logits (B,K) and loss () of the
                            forward, grad.<name> for every parameter, step_losses (steps): the loss
                            before each of `steps` AdamW updates on that batch (lr --lr, betas
                            0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter), and
                            eval_logits (B,K) after them (no dropout: the same as training mode).
  Inputs: the first B training images of --mnist DIR, pixels / 255, with their labels; otherwise
  uniform [0,1) inputs and random targets.

Training mode (--train --data DIR) runs `groundup train --arch vit`'s default recipe: AdamW (lr
--lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.05 on tensors of 2 or more dimensions, none
on biases and norms), batch 64 shuffled each epoch, per-step learning rate a linear warmup over the
first tenth of the steps ((s+1)/warmup · lr) then cosine down to 0, --epochs 5; then the test
accuracy. Prints "epoch E: train loss L, S s" and "test accuracy A%" as groundup does; with
--record FILE writes a run record ({"name", "model", "metric", "value", ...}) for `groundup report`.

  /usr/bin/python3 tools/reference/vit_reference.py --out DIR [--dim 16] [--depth 2] [--heads 2]
      [--mlp-ratio 2] [--patch 7] [--batch 4] [--steps 10] [--lr 1e-3] [--seed 1337] [--mnist data/mnist]
  /usr/bin/python3 tools/reference/vit_reference.py --train --data data/mnist [--dim 48] [--depth 3]
      [--heads 4] [--mlp-ratio 2] [--epochs 5] [--lr 1e-3] [--seed 1] [--threads 2] [--record FILE]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "bench"))
from fixture import command_line, print_step_losses, write_fixture  # noqa: E402
from mlp_reference import adamw_step_losses, mnist_batch  # noqa: E402


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # (B,N,D), patches row by row


class VisionTransformer(nn.Module):
    def __init__(self, image=28, channels=1, patch=7, dim=48, depth=3, heads=4, mlp_dim=96, classes=10, dropout=0.0):
        super().__init__()
        patches = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, dim))
        self.patch_embed = PatchEmbed(channels, dim, patch)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout, activation=gelu_tanh, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)
        nn.init.normal_(self.pos_embed, 0.0, 0.02)

    def forward(self, x):
        tokens = self.patch_embed(x)
        z = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), tokens], dim=1) + self.pos_embed
        return self.head(self.encoder(z)[:, 0])


def model_of(args):
    if args.dim % args.heads or 28 % args.patch:
        sys.exit(f"--heads {args.heads} must divide --dim {args.dim}, --patch {args.patch} must divide 28")
    return VisionTransformer(patch=args.patch, dim=args.dim, depth=args.depth, heads=args.heads,
                             mlp_dim=max(1, round(args.dim * args.mlp_ratio)), dropout=args.dropout)


def fixture(args):
    torch.manual_seed(args.seed)
    model = model_of(args)
    with torch.no_grad():  # off its zeros, so that a class token left out shows in the logits
        model.cls_token.normal_(0.0, 0.5)
    model.train()
    initial = {name: value.detach().clone().numpy() for name, value in model.state_dict().items()}
    if args.mnist:
        inputs, targets = mnist_batch(args.mnist, args.batch)
        source = f"the first {args.batch} training images of {args.mnist}"
    else:
        inputs, targets = torch.rand(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
        source = "uniform random inputs and targets"
    logits = model(inputs)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    grads = [("grad." + name, param.grad.detach().clone().numpy()) for name, param in model.named_parameters()]
    step_losses = adamw_step_losses(model, inputs, targets, args.steps, args.lr)
    model.eval()
    with torch.no_grad():
        eval_logits = model(inputs)

    metadata = {"format": "pt", "arch": "vit", "heads": str(args.heads), "dropout": repr(args.dropout)}
    command = command_line("vit_reference.py")
    state_metadata = dict(metadata, batch=str(args.batch), steps=str(args.steps), lr=repr(args.lr),
                          seed=str(args.seed), inputs=source, command=command, torch=torch.__version__)
    state = [("inputs", inputs.numpy()), ("targets", targets.to(torch.int32).numpy()),
             ("logits", logits.detach().numpy()), ("loss", loss.detach().numpy().reshape(()))]
    state += grads
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    state.append(("eval_logits", eval_logits.numpy()))
    write_fixture(args.out, list(initial.items()), metadata, state, state_metadata)
    print_step_losses(step_losses)
    n_params = sum(v.numel() for v in model.parameters())
    print(f"wrote {args.out}/PARAMS.safetensors and {args.out}/STATE.safetensors: vit, {n_params} parameters, "
          f"batch {args.batch}, loss {loss.item():.6f}", file=sys.stderr)


def warmup_cosine(step, warmup, total):
    """groundup's SCHEDULE_WARMUP_COSINE factor (foundations/optimizer.c), min_lr 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(max((step - warmup) / (total - warmup), 0.0), 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def train(args):
    from mnist_mlp_reference import load  # noqa: E402 (bench/)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    model = model_of(args)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    n, batch = train_x.shape[0], 64
    per_epoch = (n + batch - 1) // batch
    total = args.epochs * per_epoch
    warmup = total // 10
    step, train_seconds = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, loss_sum = time.perf_counter(), 0.0
        order = torch.randperm(n)
        for b in range(per_epoch):
            index = order[b * batch:(b + 1) * batch]
            for group in optimizer.param_groups:
                group["lr"] = args.lr * warmup_cosine(step, warmup, total)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            step += 1
        seconds = time.perf_counter() - start
        train_seconds += seconds
        print(f"epoch {epoch}: train loss {loss_sum / per_epoch:.4f}, {seconds:.3f} s", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum())
                      for i in range(0, test_x.shape[0], 500))
    accuracy = 100.0 * correct / test_x.shape[0]
    print(f"test accuracy {accuracy:.2f}%")
    if args.record:
        record = {"name": os.path.basename(args.record).split(".")[0], "model": "ViT (PyTorch)",
                  "paper": "Dosovitskiy et al.", "year": 2020,
                  "command": "/usr/bin/python3 tools/reference/vit_reference.py " + " ".join(sys.argv[1:]),
                  "dataset": f"MNIST {n} / {test_x.shape[0]}", "parameters": sum(p.numel() for p in model.parameters()),
                  "train_seconds": round(train_seconds, 2), "metric": "test accuracy (%)", "value": accuracy,
                  "higher_is_better": True}
        os.makedirs(os.path.dirname(os.path.abspath(args.record)), exist_ok=True)
        with open(args.record + ".tmp", "w") as f:
            json.dump(record, f, indent=1)
        os.replace(args.record + ".tmp", args.record)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patch", type=int, default=7)
    p.add_argument("--dim", type=int)
    p.add_argument("--depth", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--mlp-ratio", type=float, default=2.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=4, help="fixture: images in the batch")
    p.add_argument("--steps", type=int, default=10, help="fixture: AdamW steps")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int)
    p.add_argument("--mnist", help="fixture: the first --batch training images of this MNIST directory")
    p.add_argument("--out", help="fixture: the directory of PARAMS.safetensors and STATE.safetensors")
    p.add_argument("--train", action="store_true", help="train on --data instead of writing a fixture")
    p.add_argument("--data", help="--train: MNIST directory")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--record", help="--train: write the run record here (JSON)")
    args = p.parse_args()
    if args.train:
        if not args.data:
            sys.exit("--train needs --data DIR")
        args.dim, args.depth, args.heads = args.dim or 48, args.depth or 3, args.heads or 4
        args.seed = 1 if args.seed is None else args.seed
        train(args)
    else:
        if not args.out:
            sys.exit("--out DIR is required (or --train)")
        if args.dropout != 0.0:
            sys.exit("the fixture is deterministic: --dropout 0")
        args.dim, args.depth, args.heads = args.dim or 16, args.depth or 2, args.heads or 2
        args.seed = 1337 if args.seed is None else args.seed
        fixture(args)


if __name__ == "__main__":
    main()
