#!/usr/bin/python3
"""groundup's PyTorch reference for the `mlp` classifier, for `groundup verify --arch mlp`.

The model: the input flattened, Linear layers fc1 ... fcN with ReLU between them (none after
the last), sizes from --sizes (default 784-256-128-10), PyTorch's default Linear init after
torch.manual_seed(--seed); the loss is the mean cross-entropy of the logits.

Writes two safetensors files (written by fixture.py with json + struct; the `safetensors` package is
not needed), all tensors little-endian, row-major:
  <out>/PARAMS.safetensors  the state_dict: fc1.weight (256,784), fc1.bias (256), ... (F32)
  <out>/STATE.safetensors   inputs (B,1,28,28) F32 (B,in when the input size is not 784),
                            targets (B) I32, logits (B,classes) F32, loss () F32 (a scalar),
                            grad.<name> for every parameter (F32), and step_losses (steps) F32:
                            the loss before each of `steps` AdamW updates on that same batch
                            (k = 0 ... steps-1; lr --lr, betas 0.9/0.999, eps 1e-8, weight decay
                            0.01 on every parameter: torch.optim.AdamW), starting from PARAMS
Both carry "__metadata__": format "pt", arch "mlp", sizes "784-256-128-10"; STATE also
batch, steps, lr, seed, the input source and the command that made it (all strings).

Inputs: the first B training images of MNIST when --mnist DIR is given (IDX files, plain or
.gz), pixels / 255 (as groundup's mnist_load), with their labels; otherwise uniform [0,1)
inputs and uniform random targets from the seeded generator.

Run with Debian's python3-torch:
  /usr/bin/python3 tools/reference/mlp_reference.py --out DIR [--sizes 784-256-128-10]
      [--batch 8] [--steps 10] [--lr 1e-3] [--seed 1337] [--mnist data/mnist]
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture import command_line, print_step_losses, write_fixture
from fixture import read_safetensors, write_safetensors  # noqa: F401 (the other scripts once imported them from here)


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.n_layers = len(sizes) - 1
        for k in range(self.n_layers):
            setattr(self, f"fc{k + 1}", nn.Linear(sizes[k], sizes[k + 1]))

    def forward(self, x):
        x = x.flatten(1)
        for k in range(self.n_layers):
            x = getattr(self, f"fc{k + 1}")(x)
            if k + 1 < self.n_layers:
                x = F.relu(x)
        return x


# ---------------------------------------------------------------- safetensors

# ---------------------------------------------------------------- MNIST

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    values = np.frombuffer(data[4 + 4 * ndim :], dtype=np.uint8)
    if values.size != int(np.prod(dims)):
        sys.exit(f"{path}: {values.size} elements, dimensions {dims} need {int(np.prod(dims))}")
    return values.reshape(dims)


def find(directory, name):
    for candidate in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.exists(candidate):
            return candidate
    sys.exit(f"{directory}/{name}: no such file (nor .gz)")


def mnist_batch(directory, batch):
    images = read_idx(find(directory, "train-images-idx3-ubyte"))[:batch]
    labels = read_idx(find(directory, "train-labels-idx1-ubyte"))[:batch]
    inputs = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).reshape(batch, 1, 28, 28)
    return inputs, torch.from_numpy(labels.astype(np.int64))


# ---------------------------------------------------------------- the fixture

def add_fixture_options(parser):
    """The options every reference fixture takes: the batch, the AdamW steps, the seed, the output."""
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--mnist", help="directory of MNIST IDX files: use the first --batch training images")
    parser.add_argument("--out", required=True)


def adamw_step_losses(model, inputs, targets, steps, lr):
    """steps AdamW updates of model on one batch (betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
    every parameter); the mean cross-entropy before each, as a list of floats."""
    model.zero_grad()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    step_losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(inputs), targets)
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()
    return step_losses


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="784-256-128-10", help="layer widths, input first, classes last")
    add_fixture_options(p)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split("-")]
    if len(sizes) < 2 or min(sizes) < 1 or args.batch < 1 or args.steps < 0:
        sys.exit("--sizes needs at least two positive widths, --batch >= 1, --steps >= 0")
    if args.mnist and (sizes[0] != 784 or sizes[-1] != 10):
        sys.exit("--mnist needs sizes 784-...-10")
    torch.manual_seed(args.seed)
    model = MLP(sizes)
    initial = {name: value.detach().clone() for name, value in model.state_dict().items()}

    if args.mnist:
        inputs, targets = mnist_batch(args.mnist, args.batch)
        source = f"the first {args.batch} training images of {args.mnist}"
    else:
        shape = (args.batch, 1, 28, 28) if sizes[0] == 784 else (args.batch, sizes[0])
        inputs = torch.rand(shape)
        targets = torch.randint(0, sizes[-1], (args.batch,))
        source = "uniform random inputs and targets"

    logits = model(inputs)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    grads = [("grad." + name, param.grad.detach().clone()) for name, param in model.named_parameters()]

    # AdamW on the same batch, from the same initial parameters; the loss before each step.
    step_losses = adamw_step_losses(model, inputs, targets, args.steps, args.lr)

    size_text = "-".join(str(s) for s in sizes)
    metadata = {"format": "pt", "arch": "mlp", "sizes": size_text}
    command = command_line("mlp_reference.py")
    state_metadata = dict(metadata, batch=str(args.batch), steps=str(args.steps), lr=repr(args.lr),
                          seed=str(args.seed), inputs=source, command=command, torch=torch.__version__)
    state = [("inputs", inputs.numpy()), ("targets", targets.to(torch.int32).numpy()),
             ("logits", logits.detach().numpy()), ("loss", loss.detach().numpy().reshape(()))]
    state += [(name, value.numpy()) for name, value in grads]
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    write_fixture(args.out, [(name, value.numpy()) for name, value in initial.items()], metadata, state, state_metadata)
    print_step_losses(step_losses)
    print(f"wrote {args.out}/PARAMS.safetensors and {args.out}/STATE.safetensors: sizes {size_text}, batch "
          f"{args.batch}, loss {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
