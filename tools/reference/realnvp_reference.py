#!/usr/bin/python3
"""groundup's PyTorch reference for the RealNVP flow of models/realnvp.h (tests/test_realnvp_reference.c).

The model: n_layers affine coupling layers on 2-D points. Layer k keeps coordinate a = k mod 2 and
changes the other, b: an MLP fc1 (1 -> H), ReLU, fc2 (H -> H), ReLU, fc3 (H -> 2) of x_a gives
(raw s, t); s = tanh(raw s), x_b <- x_b exp(s) + t, and log|det| adds s. With z the output,
  log p(x) = -|z|^2 / 2 - log(2 pi) + sum_k s_k,   loss = -mean log p(x)  (nats per point).
The inverse runs the layers backwards, x_b = (y_b - t) exp(-s). PyTorch's default
initialisation, then every fc3.weight redrawn from N(0, 0.4^2) so that the couplings really scale
and shift (at the default initialisation s and t are nearly constant).

  --fixture DIR writes
    DIR/PARAMS.safetensors  the state_dict (F32), metadata arch "realnvp", n_layers, hidden, data ""
    DIR/STATE.safetensors   inputs (B,2), z (B,2), log_det (B,1), log_prob (B,1), loss (scalar),
                            grad.<name> for every parameter, latents (B,2) and inverse (B,2) = the
                            flow's inverse of latents, step_losses (S): the loss before each of S
                            Adam steps (lr --lr, betas 0.9/0.999, eps 1e-8) on the same batch.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/reference/realnvp_reference.py --fixture tests/fixtures/realnvp
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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from fixture import write_fixture  # noqa: E402


class Coupling(nn.Module):
    def __init__(self, hidden, keep):
        super().__init__()
        self.keep = keep
        self.fc1 = nn.Linear(1, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 2)

    def scale_shift(self, x_keep):
        h = self.fc3(F.relu(self.fc2(F.relu(self.fc1(x_keep)))))
        return torch.tanh(h[:, 0:1]), h[:, 1:2]

    def join(self, kept, changed):
        return torch.cat([kept, changed] if self.keep == 0 else [changed, kept], dim=1)

    def forward(self, x):
        kept, other = x[:, self.keep:self.keep + 1], x[:, 1 - self.keep:2 - self.keep]
        s, t = self.scale_shift(kept)
        return self.join(kept, other * torch.exp(s) + t), s

    def inverse(self, y):
        kept, changed = y[:, self.keep:self.keep + 1], y[:, 1 - self.keep:2 - self.keep]
        s, t = self.scale_shift(kept)
        return self.join(kept, (changed - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, n_layers, hidden):
        super().__init__()
        self.layers = nn.ModuleList([Coupling(hidden, k % 2) for k in range(n_layers)])

    def forward(self, x):
        log_det = torch.zeros(x.shape[0], 1)
        for layer in self.layers:
            x, s = layer(x)
            log_det = log_det + s
        return x, log_det

    def log_prob(self, x):
        z, log_det = self(x)
        log_normal = -0.5 * (z * z).sum(1, keepdim=True) - math.log(2 * math.pi)
        return z, log_det, log_normal + log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


def fixture(args):
    torch.manual_seed(args.seed)
    flow = RealNVP(args.layers, args.hidden)
    with torch.no_grad():
        for layer in flow.layers:
            layer.fc3.weight.normal_(0.0, 0.4)
    x = 1.5 * torch.randn(args.batch, 2)
    latents = torch.randn(args.batch, 2)
    params = [(name, p.detach().numpy().copy()) for name, p in flow.state_dict().items()]
    z, log_det, log_p = flow.log_prob(x)
    loss = -log_p.mean()
    loss.backward()
    with torch.no_grad():
        inverse = flow.inverse(latents)
    state = [("inputs", x.numpy()), ("z", z.detach().numpy()), ("log_det", log_det.detach().numpy()),
             ("log_prob", log_p.detach().numpy()), ("loss", loss.detach().numpy()),
             ("latents", latents.numpy()), ("inverse", inverse.numpy())]
    state += [("grad." + name, p.grad.numpy().copy()) for name, p in flow.named_parameters()]
    optimizer = torch.optim.Adam(flow.parameters(), lr=args.lr)
    losses = []
    for _ in range(args.steps):
        step_loss = -flow.log_prob(x)[2].mean()
        optimizer.zero_grad()
        step_loss.backward()
        losses.append(step_loss.item())
        optimizer.step()
    state.append(("step_losses", np.array(losses, dtype=np.float32)))
    metadata = {"format": "pt", "arch": "realnvp", "n_layers": str(args.layers), "hidden": str(args.hidden), "data": ""}
    write_fixture(args.fixture, params, metadata, state, {"format": "pt"})
    print(f"loss {loss.item():.6f} nats per point, {args.steps} Adam steps to {losses[-1]:.6f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    fixture(args)


if __name__ == "__main__":
    main()
