#!/usr/bin/python3
"""groundup's PyTorch reference for the GAN of models/gan.h (tests/test_gan_reference.c).

The networks (W the width, J the latent size, PyTorch names under "generator." and "discriminator."):
  mlp    G: fc1 J->W, LeakyReLU(0.2), fc2 W->2W, bn2 (BatchNorm1d), LeakyReLU(0.2), fc3 2W->784, sigmoid
         D: fc1 784->2W, LeakyReLU(0.2), fc2 2W->W, LeakyReLU(0.2), fc3 W->1 (a logit)
  dcgan  G: fc J->2W*7*7, reshape, bn1, ReLU, deconv1 (ConvTranspose2d 4x4 stride 2 padding 1) 2W->W,
            bn2, ReLU, deconv2 W->1, sigmoid
         D: conv1 (4x4 stride 2 padding 1) 1->W, LeakyReLU(0.2), conv2 W->2W, bn2, LeakyReLU(0.2),
            flatten, fc 2W*7*7->1
PyTorch's default initialisation for both (gan.c draws the dcgan's weights from N(0, 0.02^2); the
test loads these weights instead, and larger ones make every difference visible).

One training step of gan.c on real images x and noise z (batch norms in training mode throughout):
  D: fake = G(z) without gradients; L_D = BCE(D(x), 1) + BCE(D(fake), 0) (each a batch mean, D run
     on the two batches separately); one Adam step of D's parameters;
  G: L_G = BCE(D(G(z)), 1) through the updated D, the same z; one Adam step of G's parameters.
Both Adams: lr --lr (2e-4), betas (0.5, 0.999), eps 1e-8.

  --fixture DIR writes, for each variant V (mlp, dcgan), with the first --batch MNIST training images:
    DIR/V/PARAMS.safetensors  the state_dict (F32; num_batches_tracked I64), metadata arch "gan",
                              variant V, latent, width
    DIR/V/STATE.safetensors   inputs (B,1,28,28), noise (S,B,J); of the first step: fake (B,1,28,28),
                              real_logits, fake_logits (B,1), d_loss, grad.discriminator.<name> (of L_D
                              before D's update), g_loss, grad.generator.<name> (of L_G after it);
                              d_losses, g_losses (S) of S steps; after.<name> every tensor of the
                              state_dict after the S steps.

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/reference/gan_reference.py --mnist data/mnist --fixture tests/fixtures/gan
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from fixture import write_fixture  # noqa: E402
from mlp_reference import mnist_batch  # noqa: E402

SLOPE = 0.2


class MlpGenerator(nn.Module):
    def __init__(self, latent, width):
        super().__init__()
        self.fc1 = nn.Linear(latent, width)
        self.fc2 = nn.Linear(width, 2 * width)
        self.bn2 = nn.BatchNorm1d(2 * width)
        self.fc3 = nn.Linear(2 * width, 784)

    def forward(self, z):
        h = F.leaky_relu(self.fc1(z), SLOPE)
        h = F.leaky_relu(self.bn2(self.fc2(h)), SLOPE)
        return torch.sigmoid(self.fc3(h)).reshape(-1, 1, 28, 28)


class MlpDiscriminator(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(784, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)
        self.fc3 = nn.Linear(width, 1)

    def forward(self, x):
        h = F.leaky_relu(self.fc1(x.reshape(x.shape[0], 784)), SLOPE)
        return self.fc3(F.leaky_relu(self.fc2(h), SLOPE))


class DcganGenerator(nn.Module):
    def __init__(self, latent, width):
        super().__init__()
        self.width = width
        self.fc = nn.Linear(latent, 2 * width * 49)
        self.bn1 = nn.BatchNorm2d(2 * width)
        self.deconv1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(width)
        self.deconv2 = nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.bn1(self.fc(z).reshape(-1, 2 * self.width, 7, 7)))
        h = F.relu(self.bn2(self.deconv1(h)))
        return torch.sigmoid(self.deconv2(h))


class DcganDiscriminator(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.fc = nn.Linear(2 * width * 49, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), SLOPE)
        h = F.leaky_relu(self.bn2(self.conv2(h)), SLOPE)
        return self.fc(h.reshape(x.shape[0], -1))


class Gan(nn.Module):
    def __init__(self, variant, latent, width):
        super().__init__()
        if variant == "mlp":
            self.generator, self.discriminator = MlpGenerator(latent, width), MlpDiscriminator(width)
        else:
            self.generator, self.discriminator = DcganGenerator(latent, width), DcganDiscriminator(width)


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def numpy_state(model, prefix=""):
    out = []
    for name, value in model.state_dict().items():
        array = value.detach().numpy().copy()
        out.append((prefix + name, array.astype(np.int64) if name.endswith("num_batches_tracked") else array))
    return out


def variant_fixture(args, variant, directory):
    torch.manual_seed(args.seed)
    model = Gan(variant, args.latent, args.width)
    model.train()
    G, D = model.generator, model.discriminator
    x, _ = mnist_batch(args.mnist, args.batch)
    noise = torch.randn(args.steps, args.batch, args.latent)
    params = numpy_state(model)
    adam = dict(lr=args.lr, betas=(0.5, 0.999), eps=1e-8)
    g_optimizer, d_optimizer = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
    state, d_losses, g_losses = [("inputs", x.numpy()), ("noise", noise.numpy())], [], []
    for step in range(args.steps):
        z = noise[step]
        with torch.no_grad():
            fake = G(z)
        real_logits, fake_logits = D(x), D(fake)
        d_loss = bce(real_logits, 1.0) + bce(fake_logits, 0.0)
        d_optimizer.zero_grad()
        d_loss.backward()
        if step == 0:
            state += [("fake", fake.numpy().copy()), ("real_logits", real_logits.detach().numpy().copy()),
                      ("fake_logits", fake_logits.detach().numpy().copy()), ("d_loss", d_loss.detach().numpy().copy())]
            state += [("grad.discriminator." + n, p.grad.numpy().copy()) for n, p in D.named_parameters()]
        d_optimizer.step()
        g_loss = bce(D(G(z)), 1.0)
        g_optimizer.zero_grad()
        g_loss.backward()
        if step == 0:
            state.append(("g_loss", g_loss.detach().numpy().copy()))
            state += [("grad.generator." + n, p.grad.numpy().copy()) for n, p in G.named_parameters()]
        g_optimizer.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())
    state += [("d_losses", np.array(d_losses, dtype=np.float32)), ("g_losses", np.array(g_losses, dtype=np.float32))]
    state += numpy_state(model, "after.")
    metadata = {"format": "pt", "arch": "gan", "variant": variant, "latent": str(args.latent), "width": str(args.width)}
    write_fixture(directory, params, metadata, state, {"format": "pt"})
    print(f"{variant}: L_D {d_losses[0]:.6f} -> {d_losses[-1]:.6f}, L_G {g_losses[0]:.6f} -> {g_losses[-1]:.6f} "
          f"over {args.steps} steps")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--latent", type=int, default=8)
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    for variant in ("mlp", "dcgan"):
        variant_fixture(args, variant, os.path.join(args.fixture, variant))


if __name__ == "__main__":
    main()
