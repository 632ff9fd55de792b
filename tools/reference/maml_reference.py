#!/usr/bin/python3
"""groundup's PyTorch reference for MAML on sine regression (models/maml.h, tests/test_maml.c).

The network: fc1 (1 -> H), ReLU, fc2 (H -> H), ReLU, fc3 (H -> 1), PyTorch's default
initialisation; L = mean squared error. For a task with support (x_s, t_s) and query (x_q, t_q)
points, S inner SGD steps theta_{i+1} = theta_i - alpha grad L_s(theta_i) from theta_0 = theta, then
  maml        the meta-gradient d L_q(theta_S) / d theta, through the inner steps
              (torch.autograd.grad with create_graph=True: PyTorch's double backward);
  fomaml      grad L_q at theta_S, the inner steps treated as constants;
  pretrained  grad of L on the support and query points together, at theta.
Each is averaged over the tasks of the meta-batch.

  --fixture DIR writes
    DIR/PARAMS.safetensors  fc1.weight (H,1), fc1.bias, fc2.weight, fc2.bias, fc3.weight (1,H), fc3.bias;
                            metadata hidden, inner_steps, inner_lr
    DIR/STATE.safetensors   support_x, support_t, query_x, query_t (T,K) of T tasks drawn as the paper
                            (A ~ U[0.1, 5], phi ~ U[0, pi], x ~ U[-5, 5]); for each method M:
                            M.loss (the mean loss the gradient is of), M.grad.<name>;
                            maml.step_losses (N): the mean query loss before each of N Adam steps
                            (lr --outer-lr, betas 0.9/0.999, eps 1e-8) on the MAML meta-gradient.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/reference/maml_reference.py --fixture tests/fixtures/maml
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

NAMES = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]


def net(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = F.relu(F.linear(x.unsqueeze(1), w1, b1))
    h = F.relu(F.linear(h, w2, b2))
    return F.linear(h, w3, b3).squeeze(1)


def mse(params, x, t):
    return ((net(params, x) - t) ** 2).mean()


def task_gradient(method, params, xs, ts, xq, tq, steps, lr):
    """The loss and gradient of one task, as maml_task_gradient."""
    if method == "pretrained":
        loss = mse(params, torch.cat([xs, xq]), torch.cat([ts, tq]))
        return loss, torch.autograd.grad(loss, params)
    adapted = list(params)
    for _ in range(steps):
        grads = torch.autograd.grad(mse(adapted, xs, ts), adapted, create_graph=(method == "maml"))
        adapted = [p - lr * g for p, g in zip(adapted, grads)]
    loss = mse(adapted, xq, tq)
    return loss, torch.autograd.grad(loss, params if method == "maml" else adapted)


def meta_gradient(method, params, data, steps, lr):
    total_loss, total = 0.0, [torch.zeros_like(p) for p in params]
    n = data[0].shape[0]
    for k in range(n):
        loss, grads = task_gradient(method, params, *(d[k] for d in data), steps, lr)
        total_loss += loss.item() / n
        total = [a + g / n for a, g in zip(total, grads)]
    return total_loss, total


def fixture(args):
    torch.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(1, args.hidden), nn.ReLU(), nn.Linear(args.hidden, args.hidden), nn.ReLU(),
                          nn.Linear(args.hidden, 1))
    params = [model[0].weight, model[0].bias, model[2].weight, model[2].bias, model[4].weight, model[4].bias]
    params = [p.detach().clone().requires_grad_(True) for p in params]
    T, K = args.tasks, args.shots
    amplitude = 0.1 + 4.9 * torch.rand(T, 1)
    phase = math.pi * torch.rand(T, 1)
    xs, xq = -5 + 10 * torch.rand(T, K), -5 + 10 * torch.rand(T, K)
    ts, tq = amplitude * torch.sin(xs - phase), amplitude * torch.sin(xq - phase)
    data = (xs, ts, xq, tq)
    state = [("support_x", xs.numpy()), ("support_t", ts.numpy()), ("query_x", xq.numpy()), ("query_t", tq.numpy())]
    initial = [(name, p.detach().numpy().copy()) for name, p in zip(NAMES, params)]
    for method in ("maml", "fomaml", "pretrained"):
        loss, grads = meta_gradient(method, params, data, args.inner_steps, args.inner_lr)
        state.append((method + ".loss", np.array(loss, dtype=np.float32)))
        state += [(f"{method}.grad.{name}", g.detach().numpy().copy()) for name, g in zip(NAMES, grads)]
    optimizer = torch.optim.Adam(params, lr=args.outer_lr)
    losses = []
    for _ in range(args.steps):
        loss, grads = meta_gradient("maml", params, data, args.inner_steps, args.inner_lr)
        losses.append(loss)
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()
    state.append(("maml.step_losses", np.array(losses, dtype=np.float32)))
    metadata = {"format": "pt", "hidden": str(args.hidden), "inner_steps": str(args.inner_steps),
                "inner_lr": repr(args.inner_lr)}
    write_fixture(args.fixture, initial, metadata, state, {"format": "pt"})
    print(f"MAML meta-loss {losses[0]:.6f} -> {losses[-1]:.6f} over {args.steps} Adam steps")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--hidden", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--inner-steps", type=int, default=2)
    parser.add_argument("--inner-lr", type=float, default=0.01)
    parser.add_argument("--outer-lr", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    fixture(args)


if __name__ == "__main__":
    main()
