#!/usr/bin/python3
"""groundup's PyTorch reference for the U-Net of models/unet.h (tests/test_unet.c).

The model: L levels of width W (--levels 2, --width 16): encoder1 ... encoderL, each a
Sequential(conv 3x3 padding 1, ReLU, conv 3x3 padding 1, ReLU) followed by max-pooling 2;
bottleneck (the same block, width W*2^L); then for k = L..1: upconv<k> (ConvTranspose2d 2x2
stride 2, halving the width), concatenated on channels with encoder<k>'s output (upsampled
first), decoder<k> (a block); conv (1x1 to one channel). PyTorch's default initialisation. The
loss is the mean binary cross-entropy with logits over every pixel (F.binary_cross_entropy_with_logits).

train_segmentation() is `groundup train --arch unet`'s training recipe in PyTorch
(tools/reference/cnn_train_reference.py --arch unet).

Writes two safetensors files (mlp_reference.py's writer), little-endian:
  <out>/PARAMS.safetensors  the state_dict (F32), metadata format "pt", arch "unet", width, levels
  <out>/STATE.safetensors   inputs (B,1,28,28) F32: the first B training images of --mnist with
                            Gaussian noise (sigma 0.25, clamped to [0, 1]; the corruption of
                            models/mnist_segmentation.h without its strokes, from torch's
                            generator); targets (B,1,28,28) F32: the clean pixels > 0.5;
                            logits (B,1,28,28) and loss () of the forward; grad.<name> for
                            every parameter; step_losses (steps): the loss before each of
                            `steps` AdamW updates (lr --lr, betas 0.9/0.999, eps 1e-8, weight
                            decay 0.01 on every parameter) on the same batch.

  /usr/bin/python3 tools/reference/unet_reference.py --mnist data/mnist --out DIR [--width 16]
      [--levels 2] [--batch 4] [--steps 10] [--lr 1e-3] [--seed 1337]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import command_line, print_step_losses, write_fixture  # noqa: E402
from mlp_reference import mnist_batch  # noqa: E402


def block(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, width=16, levels=2, in_channels=1):
        super().__init__()
        self.levels = levels
        channels = in_channels
        for k in range(1, levels + 1):  # registration order = groundup's
            setattr(self, f"encoder{k}", block(channels, width << (k - 1)))
            channels = width << (k - 1)
        self.bottleneck = block(channels, width << levels)
        for k in range(levels, 0, -1):
            out = width << (k - 1)
            setattr(self, f"upconv{k}", nn.ConvTranspose2d(2 * out, out, 2, stride=2))
            setattr(self, f"decoder{k}", block(2 * out, out))
        self.conv = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        skips = []
        for k in range(1, self.levels + 1):
            x = getattr(self, f"encoder{k}")(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for k in range(self.levels, 0, -1):
            x = getattr(self, f"upconv{k}")(x)
            x = getattr(self, f"decoder{k}")(torch.cat((x, skips[k - 1]), dim=1))
        return self.conv(x)


def corrupt(clean, seed, strokes=2, stroke_width=1.5, noise_std=0.25):
    """models/mnist_segmentation.h's corruption with numpy's generator (same recipe, other
    samples): per image, `strokes` lines across it through a uniform point at a uniform angle,
    set to 0 or 1 with probability 1/2, then N(0, noise_std^2) noise, clamped to [0, 1].
    clean (N,1,H,W) in [0, 1] -> (inputs, masks)."""
    n, _, h, w = clean.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    inputs = clean.numpy().copy()
    rng = np.random.default_rng(seed)
    for i in range(n):
        for _ in range(strokes):
            px, py, theta, value = rng.random() * w, rng.random() * h, rng.random() * np.pi, rng.random()
            line = np.abs((u - px) * np.sin(theta) - (v - py) * np.cos(theta)) <= 0.5 * stroke_width
            inputs[i, 0][line] = 0.0 if value < 0.5 else 1.0
    inputs = np.clip(inputs + noise_std * rng.standard_normal(inputs.shape).astype(np.float32), 0, 1)
    return torch.from_numpy(inputs), (clean > 0.5).float()


def train_segmentation(data, epochs=2, batch=32, lr=3e-3, width=16, levels=2, seed=1):
    """`groundup train --arch unet`'s recipe: the corrupted training split (corruption seed 1,
    test seed 2), Adam (lr, betas 0.9/0.999, eps 1e-8), batches of a new random order each
    epoch, the mean BCE with logits; prints each epoch's line, then the test IoU and Dice
    pooled over every pixel (prediction: logit > 0)."""
    import time
    from mnist_mlp_reference import load, resident_mb  # bench/
    torch.manual_seed(seed)
    train_x, _ = load(data, "train")
    test_x, _ = load(data, "t10k")
    train_in, train_mask = corrupt(train_x, 1)
    test_in, test_mask = corrupt(test_x, 2)
    model = UNet(width, levels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = train_in.shape[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(v.numel() for v in model.parameters())} parameters", flush=True)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(n)
        total, batches = 0.0, 0
        for i in range(0, n, batch):
            index = order[i:i + batch]
            loss = F.binary_cross_entropy_with_logits(model(train_in[index]), train_mask[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: train loss {total / batches:.4f}, {seconds:.3f} s, resident {resident_mb():.1f} MB",
              flush=True)
    with torch.no_grad():
        predicted = torch.cat([model(test_in[i:i + 250]) > 0 for i in range(0, test_in.shape[0], 250)])
    target = test_mask > 0.5
    intersection = (predicted & target).sum().item()
    p, t = predicted.sum().item(), target.sum().item()
    print(f"test IoU {intersection / (p + t - intersection):.4f}, Dice {2 * intersection / (p + t):.4f} "
          f"(pooled over {test_in.shape[0]} images)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mnist", required=True, help="directory of MNIST IDX files: the first --batch training images")
    p.add_argument("--out", required=True)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--levels", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args()
    if args.width < 1 or not 1 <= args.levels <= 4 or args.batch < 1 or args.steps < 0:
        sys.exit("--width >= 1, --levels 1..4, --batch >= 1, --steps >= 0")
    torch.manual_seed(args.seed)
    model = UNet(args.width, args.levels)
    initial = {name: value.detach().clone().numpy() for name, value in model.state_dict().items()}

    clean, _ = mnist_batch(args.mnist, args.batch)
    inputs = (clean + 0.25 * torch.randn_like(clean)).clamp(0, 1)
    targets = (clean > 0.5).float()

    logits = model(inputs)
    loss = F.binary_cross_entropy_with_logits(logits, targets)
    loss.backward()
    grads = [("grad." + name, param.grad.detach().clone().numpy()) for name, param in model.named_parameters()]

    model.zero_grad()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    step_losses = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        step_loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()

    metadata = {"format": "pt", "arch": "unet", "width": str(args.width), "levels": str(args.levels)}
    command = command_line("unet_reference.py")
    state_metadata = dict(metadata, batch=str(args.batch), steps=str(args.steps), lr=repr(args.lr), seed=str(args.seed),
                          command=command, torch=torch.__version__)
    state = [("inputs", inputs.numpy()), ("targets", targets.numpy()), ("logits", logits.detach().numpy()),
             ("loss", loss.detach().numpy().reshape(()))]
    state += grads
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    write_fixture(args.out, list(initial.items()), metadata, state, state_metadata)
    print_step_losses(step_losses)
    n_params = sum(v.numel() for v in model.parameters())
    print(f"wrote {args.out}/PARAMS.safetensors and STATE.safetensors: unet, {n_params} parameters, batch {args.batch}, "
          f"loss {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
