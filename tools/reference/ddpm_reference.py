#!/usr/bin/python3
"""groundup's PyTorch reference for the diffusion model of models/ddpm.h (tests/test_ddpm.c).

The noise predictor: unet_reference.py's U-Net with time conditioning (models/unet.h):
time_embed = Sequential(Linear(E, E), SiLU, Linear(E, E)) on the sinusoidal features
e(t)_k = sin(t w_k), e(t)_{k+E/2} = cos(t w_k), w_k = 10000^(-k/(E/2)); tau = SiLU(time_embed(e(t)));
each block adds Linear(E, C) of tau (its `time`) to its first convolution's maps before the
ReLU. The schedule: linear betas 1e-4..0.02 over T = 1000, alpha_bar accumulated in float64.
The objective L_simple = mean (eps - eps_theta(sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, t))^2.

Writes, little-endian (mlp_reference.py's writer):
  <out>/PARAMS.safetensors  the state_dict (F32) with the metadata ddpm_load reads (arch "ddpm",
                            steps, beta_start, beta_end, height, width)
  <out>/STATE.safetensors   x0 (B,1,28,28): the first B training images of --mnist scaled to
                            [-1, 1]; t (B) F32 (integers in 1..T); noise (B,1,28,28); alphas_cumprod
                            (T+1) F32; epsilon (B,1,28,28): eps_theta(x_t, t); loss (); grad.<name>
                            for every parameter; step_losses (steps): the loss before each of `steps`
                            Adam updates (lr --lr, betas 0.9/0.999, eps 1e-8) on the same batch;
                            ddim (B,1,28,28): one DDIM step (eta 0.5, from t to t // 2, noise z, x0
                            prediction clamped to [-1, 1] and the noise recomputed from it) from the
                            initial model's epsilon; z.

  /usr/bin/python3 tools/reference/ddpm_reference.py --mnist data/mnist --out DIR [--width 4]
      [--levels 2] [--time-channels 8] [--batch 4] [--steps 5] [--lr 1e-3] [--seed 1337]
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import command_line, write_fixture  # noqa: E402
from mlp_reference import mnist_batch  # noqa: E402


class Block(nn.Module):
    """(conv 3x3, + time, ReLU, conv 3x3, ReLU) with models/unet.h's names: .0, .2, .time"""

    def __init__(self, in_channels, out_channels, time_channels):
        super().__init__()
        self.add_module("0", nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.add_module("2", nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.time = nn.Linear(time_channels, out_channels)

    def forward(self, x, tau):
        h = getattr(self, "0")(x) + self.time(tau)[:, :, None, None]
        return F.relu(getattr(self, "2")(F.relu(h)))


class TimeUNet(nn.Module):
    def __init__(self, width=4, levels=2, time_channels=8, in_channels=1):
        super().__init__()
        self.levels, self.time_channels = levels, time_channels
        self.time_embed = nn.Sequential(nn.Linear(time_channels, time_channels), nn.SiLU(),
                                        nn.Linear(time_channels, time_channels))
        channels = in_channels
        for k in range(1, levels + 1):  # registration order = groundup's
            setattr(self, f"encoder{k}", Block(channels, width << (k - 1), time_channels))
            channels = width << (k - 1)
        self.bottleneck = Block(channels, width << levels, time_channels)
        for k in range(levels, 0, -1):
            out = width << (k - 1)
            setattr(self, f"upconv{k}", nn.ConvTranspose2d(2 * out, out, 2, stride=2))
            setattr(self, f"decoder{k}", Block(2 * out, out, time_channels))
        self.conv = nn.Conv2d(width, 1, 1)

    def features(self, t):
        half = self.time_channels // 2
        omega = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
        angle = t.double()[:, None] * omega[None, :]
        return torch.cat((torch.sin(angle), torch.cos(angle)), dim=1).float()

    def forward(self, x, t):
        tau = F.silu(self.time_embed(self.features(t)))
        skips = []
        for k in range(1, self.levels + 1):
            x = getattr(self, f"encoder{k}")(x, tau)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x, tau)
        for k in range(self.levels, 0, -1):
            x = getattr(self, f"upconv{k}")(x)
            x = getattr(self, f"decoder{k}")(torch.cat((x, skips[k - 1]), dim=1), tau)
        return self.conv(x)


def schedule(steps=1000, beta_start=1e-4, beta_end=0.02):
    """betas and alpha_bar (T+1, float64), index t = 1..T; [0]: beta 0, alpha_bar 1."""
    betas = np.concatenate(([0.0], np.linspace(beta_start, beta_end, steps, dtype=np.float64)))
    return betas, np.cumprod(1.0 - betas)


def l_simple(model, x0, t, noise, alpha_bar):
    ab = torch.from_numpy(alpha_bar[t.long().numpy()]).float()[:, None, None, None]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    epsilon = model(xt, t)
    return F.mse_loss(epsilon, noise), epsilon, xt


def ddim_step(xt, epsilon, z, t, s, eta, alpha_bar):
    ab, ab_s = alpha_bar[t], alpha_bar[s]
    sigma = eta * math.sqrt((1 - ab_s) / (1 - ab)) * math.sqrt(1 - ab / ab_s)
    x0 = ((xt - math.sqrt(1 - ab) * epsilon) / math.sqrt(ab)).clamp(-1, 1)
    epsilon = (xt - math.sqrt(ab) * x0) / math.sqrt(1 - ab)  # the noise that goes with the clamped x0
    return math.sqrt(ab_s) * x0 + math.sqrt(1 - ab_s - sigma ** 2) * epsilon + sigma * z


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mnist", required=True, help="directory of MNIST IDX files: the first --batch training images")
    p.add_argument("--out", required=True)
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--levels", type=int, default=2)
    p.add_argument("--time-channels", type=int, default=8)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args()
    if args.width < 1 or not 1 <= args.levels <= 2 or args.time_channels < 2 or args.time_channels % 2 or args.batch < 1:
        sys.exit("--width >= 1, --levels 1..2 (28x28), --time-channels even >= 2, --batch >= 1")
    torch.manual_seed(args.seed)
    T = 1000
    betas, alpha_bar = schedule(T)
    model = TimeUNet(args.width, args.levels, args.time_channels)
    initial = {name: value.detach().clone().numpy() for name, value in model.state_dict().items()}

    clean, _ = mnist_batch(args.mnist, args.batch)
    x0 = 2 * clean - 1
    t = torch.tensor([1 + (379 * i + 13) % T for i in range(args.batch)], dtype=torch.float32)  # 14, 393, 772, 151
    noise = torch.randn_like(x0)
    loss, epsilon, xt = l_simple(model, x0, t, noise, alpha_bar)
    loss.backward()
    grads = [("grad." + name, param.grad.detach().clone().numpy()) for name, param in model.named_parameters()]
    z = torch.randn_like(x0)
    ddim = torch.stack([ddim_step(xt[i], epsilon[i].detach(), z[i], int(t[i]), int(t[i]) // 2, 0.5, alpha_bar)
                        for i in range(args.batch)])

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    step_losses = []
    for _ in range(args.steps):
        optimizer.zero_grad()
        step_loss, _, _ = l_simple(model, x0, t, noise, alpha_bar)
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()

    metadata = {"format": "pt", "arch": "ddpm", "steps": str(T), "beta_start": "0.0001", "beta_end": "0.02",
                "height": "28", "width": "28"}
    command = command_line("ddpm_reference.py")
    state_metadata = {"batch": str(args.batch), "steps": str(args.steps), "lr": repr(args.lr), "seed": str(args.seed),
                      "command": command, "torch": torch.__version__}
    state = [("x0", x0.numpy()), ("t", t.numpy()), ("noise", noise.numpy()),
             ("alphas_cumprod", alpha_bar.astype(np.float32)), ("epsilon", epsilon.detach().numpy()),
             ("loss", loss.detach().numpy().reshape(())), ("z", z.numpy()), ("ddim", ddim.numpy())]
    state += grads
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    write_fixture(args.out, list(initial.items()), metadata, state, state_metadata)
    n_params = sum(v.numel() for v in model.parameters())
    print(f"wrote {args.out}/PARAMS.safetensors and STATE.safetensors: ddpm, {n_params} parameters, batch {args.batch}, "
          f"loss {loss.item():.6f}, step losses {' '.join(f'{v:.6f}' for v in step_losses)}", file=sys.stderr)


if __name__ == "__main__":
    main()
