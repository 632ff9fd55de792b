#!/usr/bin/python3
"""groundup's PyTorch reference for the VAE of models/vae.h (tests/test_vae.c, README).

The model: fc1 (784 -> H), ReLU, fc_mu and fc_log_var (H -> J); z = mu + exp(log_var/2) * eps;
fc2 (J -> H), ReLU, fc3 (H -> 784) the Bernoulli logits. PyTorch's default initialisation. The
loss per batch is distortion + rate, in nats per image:
  distortion = sum over pixels of BCE with logits against the grey pixels, averaged over images
  rate       = -1/2 sum_j (1 + log_var - mu^2 - exp(log_var)), averaged over images

Two uses:

  --fixture DIR: writes, for the first --batch training images of --mnist,
    DIR/PARAMS.safetensors  the state_dict (F32), metadata arch "vae"
    DIR/STATE.safetensors   inputs (B,784), epsilon (B,J), mean, log_var (B,J), logits (B,784),
                            distortion, rate, loss (scalars), grad.<name> for every parameter,
                            step_losses (S): the loss before each of S Adam steps (lr --lr,
                            betas 0.9/0.999, eps 1e-8) on the same batch and the same epsilon.
  --train: `groundup vae train`'s recipe: Adam (lr 1e-3), batch 100 shuffled each epoch, one
    fresh eps per image per step, --epochs epochs on the 60000 training images; prints each
    epoch's line and the test ELBO (one eps per image) with its distortion and rate, and with
    --importance-samples k the importance-weighted bound L_k (log-mean-exp of k log-weights);
    leaves out/runs/vae-latent<J>.pytorch.json for groundup report (run_record.py).

  /usr/bin/python3 tools/reference/vae_reference.py --mnist data/mnist --fixture DIR [--hidden 16] [--latent 4]
  /usr/bin/python3 tools/reference/vae_reference.py --mnist data/mnist --train [--epochs 10] [--importance-samples 100]
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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from fixture import write_fixture  # noqa: E402
from mlp_reference import mnist_batch  # noqa: E402
from run_record import write_pytorch_record  # noqa: E402


class VAE(nn.Module):
    def __init__(self, hidden=400, latent=20, pixels=784):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_log_var = nn.Linear(hidden, latent)
        self.fc2 = nn.Linear(latent, hidden)
        self.fc3 = nn.Linear(hidden, pixels)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_log_var(h)

    def decode(self, z):
        return self.fc3(F.relu(self.fc2(z)))

    def terms(self, x, eps):
        mu, log_var = self.encode(x)
        logits = self.decode(mu + torch.exp(0.5 * log_var) * eps)
        distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        rate = -0.5 * torch.sum(1 + log_var - mu * mu - torch.exp(log_var)) / x.shape[0]
        return mu, log_var, logits, distortion, rate


def fixture(args):
    torch.manual_seed(args.seed)
    model = VAE(args.hidden, args.latent)
    images, _ = mnist_batch(args.mnist, args.batch)
    x = images.reshape(args.batch, 784)
    eps = torch.randn(args.batch, args.latent)
    mu, log_var, logits, distortion, rate = model.terms(x, eps)
    loss = distortion + rate
    loss.backward()
    state = [("inputs", x.numpy()), ("epsilon", eps.numpy()), ("mean", mu.detach().numpy()),
             ("log_var", log_var.detach().numpy()), ("logits", logits.detach().numpy()),
             ("distortion", distortion.detach().numpy()), ("rate", rate.detach().numpy()),
             ("loss", loss.detach().numpy())]
    state += [("grad." + name, p.grad.numpy().copy()) for name, p in model.named_parameters()]
    params = [(name, p.detach().numpy().copy()) for name, p in model.state_dict().items()]
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    for _ in range(args.steps):
        _, _, _, d, r = model.terms(x, eps)
        optimizer.zero_grad()
        (d + r).backward()
        losses.append((d + r).item())
        optimizer.step()
    state.append(("step_losses", np.array(losses, dtype=np.float32)))
    write_fixture(args.fixture, params, {"format": "pt", "arch": "vae"}, state, {"format": "pt"})
    print(f"loss {loss.item():.6f} (distortion {distortion.item():.6f}, rate {rate.item():.6f}), "
          f"{args.steps} steps to {losses[-1]:.6f}")


@torch.no_grad()
def evaluate(model, x, k, batch=500):
    """Mean ELBO terms (one eps per image) and, with k > 0, the mean L_k."""
    distortion = rate = likelihood = 0.0
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        _, _, _, d, r = model.terms(xb, torch.randn(xb.shape[0], model.fc_mu.out_features))
        distortion += d.item() * xb.shape[0]
        rate += r.item() * xb.shape[0]
        if k:
            mu, log_var = model.encode(xb)
            log_w = []
            for _ in range(k):
                eps = torch.randn_like(mu)
                z = mu + torch.exp(0.5 * log_var) * eps
                log_px = -F.binary_cross_entropy_with_logits(model.decode(z), xb, reduction="none").sum(1)
                log_w.append(log_px + (-0.5 * z * z + 0.5 * eps * eps + 0.5 * log_var).sum(1))
            log_w = torch.stack(log_w, 1).double()
            likelihood += (torch.logsumexp(log_w, 1) - math.log(k)).sum().item()
    n = x.shape[0]
    return distortion / n, rate / n, likelihood / n


def train(args):
    from mnist_mlp_reference import load  # bench/
    torch.manual_seed(args.seed)
    train_x = load(args.mnist, "train")[0].reshape(-1, 784)
    test_x = load(args.mnist, "t10k")[0].reshape(-1, 784)
    model = VAE(args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(v.numel() for v in model.parameters())} parameters", flush=True)
    total_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(train_x.shape[0])
        total, batches = 0.0, 0
        for i in range(0, train_x.shape[0], args.batch):
            xb = train_x[order[i:i + args.batch]]
            _, _, _, d, r = model.terms(xb, torch.randn(xb.shape[0], args.latent))
            optimizer.zero_grad()
            (d + r).backward()
            optimizer.step()
            total += (d + r).item()
            batches += 1
        print(f"epoch {epoch}: train -ELBO {total / batches:.3f} nats, {time.perf_counter() - start:.2f} s", flush=True)
    seconds = time.perf_counter() - total_start
    print(f"training {seconds:.1f} s")
    distortion, rate, likelihood = evaluate(model, test_x, args.importance_samples)
    print(f"test ELBO {-(distortion + rate):.3f} nats (distortion {distortion:.3f} + rate {rate:.3f}) "
          f"over {test_x.shape[0]} images")
    if args.importance_samples:
        print(f"test log p(x) >= {likelihood:.3f} nats (importance-weighted, k = {args.importance_samples})")
    # beside `groundup vae train --latent J`'s record in groundup report (run_record.py)
    write_pytorch_record(f"vae-latent{args.latent}", "test ELBO (nats)", -(distortion + rate), True, model="VAE (PyTorch)",
                         paper="Kingma & Welling", year=2013, train_seconds=seconds,
                         parameters=sum(v.numel() for v in model.parameters()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", required=True)
    parser.add_argument("--fixture")
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--latent", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--importance-samples", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    small = args.fixture is not None
    args.hidden = args.hidden or (16 if small else 400)
    args.latent = args.latent or (4 if small else 20)
    args.batch = args.batch or (8 if small else 100)
    if args.fixture:
        fixture(args)
    elif args.train:
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        train(args)
    else:
        parser.error("--fixture DIR or --train")


if __name__ == "__main__":
    main()
