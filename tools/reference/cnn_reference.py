#!/usr/bin/python3
"""groundup's PyTorch reference for the convolutional classifiers, for `groundup verify --arch lenet5|resnet|alexnet`.

The models (the same as models/lenet5.h and models/resnet.h):
  lenet5  conv1 (C1,in,5,5) padding 2 -> ReLU -> max-pool 2 -> conv2 (C2,C1,5,5) -> ReLU -> max-pool 2
          -> flatten -> fc1 (F1) -> ReLU -> fc2 (F2) -> ReLU -> fc3 (classes); --original: tanh and
          average pooling instead (LeCun et al. 1998). --sizes C1-C2-F1-F2 (default 6-16-120-84).
          PyTorch's default init.
  resnet  conv1 3x3 (W,in) no bias -> bn1 -> ReLU -> layer1 ... layerS of torchvision's BasicBlock
          (conv1 3x3 stride s, bn1, ReLU, conv2 3x3, bn2, + the input or downsample.0 1x1 conv
          stride s / downsample.1 batch norm when the shape changes, ReLU); stage k has width
          W·2^(k-1) and stride 2 in its first block for k > 1; then global average pooling and fc.
          --width W (default 16), --blocks 1-1-1 (blocks per stage). torchvision's init: conv weights
          kaiming_normal(fan_out, relu), batch norm weight 1 bias 0, Linear PyTorch's default.
          For the fixture the batch norms' weight, bias, running_mean and running_var are then
          moved off 1/0/0/1 by seeded noise, so that a swapped or ignored tensor shows.
  alexnet features = Sequential(conv 5x5 p2, ReLU, LRN, MaxPool 3/2, conv 5x5 p2, ReLU, LRN,
          MaxPool 3/2, conv 3x3 p1, ReLU, conv 3x3 p1, ReLU, conv 3x3 p1, ReLU, MaxPool 3/2),
          classifier = Sequential(Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear): torchvision's
          AlexNet names with the paper's LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2) inserted
          (models/alexnet.h), for 1x28x28 inputs. --sizes C1-C2-C3-C4-C5-F1-F2 (default
          24-64-96-96-64-256-256), --dropout p (default 0: the training-mode forward is then
          deterministic, so groundup's and PyTorch's agree; eval_logits check evaluation mode).
          PyTorch's default init.
The loss is the mean cross-entropy of the logits. Batch norm runs in training mode (batch
statistics, running statistics updated with momentum 0.1 and the unbiased variance).

Writes two safetensors files (json + struct, through mlp_reference.py's writer), little-endian:
  <out>/PARAMS.safetensors  the state_dict under PyTorch's names (F32; num_batches_tracked I64)
  <out>/STATE.safetensors   inputs (B,1,28,28) F32, targets (B) I32, logits (B,K) F32 and loss ()
                            F32 of the training-mode forward, grad.<name> for every parameter,
                            step_losses (steps) F32: the loss before each of `steps` AdamW updates on
                            the same batch (lr --lr, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
                            every parameter), following that first forward; then
                            after.<bn>.running_mean / running_var (F32) / num_batches_tracked (I64):
                            the running statistics after those 1 + steps training-mode forwards, and
                            eval_logits (B,K): the evaluation-mode logits (running statistics) after
                            the steps.
Both carry "__metadata__": format "pt", arch, and the sizes ("sizes" and "variant" relu-max or
tanh-avg for lenet5; "width" and "blocks" for resnet; "sizes" and "dropout" for alexnet); STATE also batch, steps, lr, seed, the
input source and the command.

Inputs: the first B training images of MNIST when --mnist DIR is given, pixels / 255, with their
labels; otherwise uniform [0,1) inputs and random targets from the seeded generator.

  /usr/bin/python3 tools/reference/cnn_reference.py --arch lenet5|resnet|alexnet --out DIR [--sizes 6-16-120-84]
      [--original] [--dropout 0] [--width 16] [--blocks 1-1-1] [--batch 8] [--steps 10] [--lr 1e-3] [--seed 1337]
      [--mnist data/mnist]
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
from mlp_reference import add_fixture_options, adamw_step_losses, mnist_batch  # noqa: E402


class LeNet5(nn.Module):
    def __init__(self, sizes, in_channels=1, image=28, classes=10, original=False):
        super().__init__()
        c1, c2, f1, f2 = sizes
        self.original = original
        self.conv1 = nn.Conv2d(in_channels, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5)
        side = ((image // 2) - 4) // 2
        self.fc1 = nn.Linear(c2 * side * side, f1)
        self.fc2 = nn.Linear(f1, f2)
        self.fc3 = nn.Linear(f2, classes)

    def forward(self, x):
        act = torch.tanh if self.original else F.relu
        pool = F.avg_pool2d if self.original else F.max_pool2d
        x = pool(act(self.conv1(x)), 2)
        x = pool(act(self.conv2(x)), 2)
        x = x.flatten(1)
        x = act(self.fc1(x))
        x = act(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock's structure and names."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, width, blocks, in_channels=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        planes, in_planes = width, width
        self.n_stages = len(blocks)
        for k, n in enumerate(blocks):
            stride = 1 if k == 0 else 2
            layer = []
            for b in range(n):
                layer.append(BasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            setattr(self, f"layer{k + 1}", nn.Sequential(*layer))
            planes *= 2
        self.fc = nn.Linear(in_planes, classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for k in range(self.n_stages):
            x = getattr(self, f"layer{k + 1}")(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class AlexNet(nn.Module):
    """models/alexnet.h: torchvision's AlexNet layout with the paper's LRN, for 28x28 images."""

    def __init__(self, sizes, in_channels=1, classes=10, dropout=0.5):
        super().__init__()
        c1, c2, c3, c4, c5, f1, f2 = sizes
        lrn = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)  # the paper's alpha 1e-4 times size (torch divides)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(), nn.LocalResponseNorm(**lrn), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.LocalResponseNorm(**lrn), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 2 * 2, f1), nn.ReLU(), nn.Dropout(dropout), nn.Linear(f1, f2), nn.ReLU(),
            nn.Linear(f2, classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def perturb_norms(model):
    """Batch norms away from their initial 1/0/0/1, so that each tensor matters in the check."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.add_(0.1 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
                m.running_mean.add_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.mul_(torch.exp(0.2 * torch.randn_like(m.running_var)))


def numpy_of(value):
    """F32, and I64 for integer buffers (num_batches_tracked), as PyTorch stores them."""
    value = value.detach().clone()
    return value.numpy() if value.dtype == torch.int64 else value.float().numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=["lenet5", "resnet", "alexnet"])
    p.add_argument("--sizes", help="lenet5: C1-C2-F1-F2 (6-16-120-84); alexnet: C1-C2-C3-C4-C5-F1-F2 (24-64-96-96-64-256-256)")
    p.add_argument("--dropout", type=float, default=0.0, help="alexnet: dropout p (0 for a deterministic check)")
    p.add_argument("--original", action="store_true", help="lenet5: tanh and average pooling")
    p.add_argument("--width", type=int, default=16, help="resnet: channels of conv1 and layer1")
    p.add_argument("--blocks", default="1-1-1", help="resnet: BasicBlocks per stage")
    add_fixture_options(p)
    args = p.parse_args()
    if args.batch < 2 or args.steps < 0:
        sys.exit("--batch >= 2 (batch statistics), --steps >= 0")
    torch.manual_seed(args.seed)
    metadata = {"format": "pt", "arch": args.arch}
    if args.arch == "lenet5":
        args.sizes = args.sizes or "6-16-120-84"
        sizes = [int(s) for s in args.sizes.split("-")]
        if len(sizes) != 4 or min(sizes) < 1:
            sys.exit("--sizes: four positive sizes C1-C2-F1-F2")
        model = LeNet5(sizes, original=args.original)
        metadata.update(sizes=args.sizes, variant="tanh-avg" if args.original else "relu-max")
    elif args.arch == "alexnet":
        args.sizes = args.sizes or "24-64-96-96-64-256-256"
        sizes = [int(s) for s in args.sizes.split("-")]
        if len(sizes) != 7 or min(sizes) < 1 or not 0 <= args.dropout < 1:
            sys.exit("--sizes: seven positive sizes C1-C2-C3-C4-C5-F1-F2; --dropout in [0, 1)")
        model = AlexNet(sizes, dropout=args.dropout)
        metadata.update(sizes=args.sizes, dropout=repr(args.dropout))
    else:
        blocks = [int(s) for s in args.blocks.split("-")]
        if not blocks or min(blocks) < 1 or args.width < 1:
            sys.exit("--blocks: positive counts per stage, --width >= 1")
        model = ResNet(args.width, blocks)
        perturb_norms(model)
        metadata.update(width=str(args.width), blocks=args.blocks)
    model.train()
    initial = {name: numpy_of(value) for name, value in model.state_dict().items()}

    if args.mnist:
        inputs, targets = mnist_batch(args.mnist, args.batch)
        source = f"the first {args.batch} training images of {args.mnist}"
    else:
        inputs = torch.rand(args.batch, 1, 28, 28)
        targets = torch.randint(0, 10, (args.batch,))
        source = "uniform random inputs and targets"

    logits = model(inputs)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    grads = [("grad." + name, numpy_of(param.grad)) for name, param in model.named_parameters()]

    step_losses = adamw_step_losses(model, inputs, targets, args.steps, args.lr)  # batch norm in training mode
    after = [("after." + name, numpy_of(value)) for name, value in model.state_dict().items()
             if name.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    model.eval()
    with torch.no_grad():
        eval_logits = model(inputs)

    command = command_line("cnn_reference.py")
    state_metadata = dict(metadata, batch=str(args.batch), steps=str(args.steps), lr=repr(args.lr),
                          seed=str(args.seed), inputs=source, command=command, torch=torch.__version__)
    state = [("inputs", inputs.numpy()), ("targets", targets.to(torch.int32).numpy()),
             ("logits", logits.detach().numpy()), ("loss", loss.detach().numpy().reshape(()))]
    state += grads
    state.append(("step_losses", np.array(step_losses, dtype=np.float32)))
    state += after
    state.append(("eval_logits", eval_logits.numpy()))
    write_fixture(args.out, list(initial.items()), metadata, state, state_metadata)
    print_step_losses(step_losses)
    n_params = sum(v.numel() for v in model.parameters())
    print(f"wrote {args.out}/PARAMS.safetensors and {args.out}/STATE.safetensors: {args.arch}, {n_params} parameters, "
          f"batch {args.batch}, loss {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
