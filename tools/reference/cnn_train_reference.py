#!/usr/bin/python3
"""The recipe of `groundup train --arch lenet5|resnet|alexnet|unet --data DIR` in PyTorch, for bench/mnist_cnn.sh.

The models are tools/reference/cnn_reference.py's (LeNet-5 with PyTorch's default init; the
ResNet with torchvision's), built after torch.manual_seed(seed); Adam (lr 1e-3, betas
0.9/0.999, eps 1e-8, no weight decay), batch 64 shuffled each epoch (the last batch partial),
mean cross-entropy, 5 epochs on the training images (pixels / 255), then the test accuracy in
evaluation mode (batch norm's running statistics). Prints one line per epoch ("epoch E: train
loss L, S s, resident M MB": S the epoch's training time, M the process's resident memory
after it) and "test accuracy A%", the lines groundup prints. The seeds of the two programs
are unrelated: compare medians over several seeds. --arch unet is unet_reference.py's
train_segmentation (its own defaults: 2 epochs, batch 32, lr 3e-3, width 16, 2 levels; the
test IoU and Dice instead of the accuracy).

  /usr/bin/python3 tools/reference/cnn_train_reference.py --arch lenet5|resnet --data data/mnist
      [--epochs 5] [--batch 64] [--lr 1e-3] [--seed 1] [--sizes 6-16-120-84] [--original] [--dropout 0.5]
      [--width 16] [--blocks 1-1-1]
"""
import argparse
import os
import re
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "bench"))
from cnn_reference import AlexNet, LeNet5, ResNet  # noqa: E402
from mnist_mlp_reference import load, train_and_test  # noqa: E402
from run_record import write_pytorch_record  # noqa: E402
from unet_reference import train_segmentation  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=["lenet5", "resnet", "alexnet", "unet"])
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, help="5 (unet: 2)")
    p.add_argument("--batch", type=int, help="64 (unet: 32)")
    p.add_argument("--lr", type=float, help="1e-3 (unet: 3e-3)")
    p.add_argument("--levels", type=int, default=2, help="unet")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sizes", help="lenet5: 6-16-120-84; alexnet: 24-64-96-96-64-256-256")
    p.add_argument("--dropout", type=float, default=0.5, help="alexnet")
    p.add_argument("--original", action="store_true")
    p.add_argument("--width", type=int, default=16, help="resnet, unet")
    p.add_argument("--blocks", default="1-1-1")
    args = p.parse_args()
    if args.arch == "unet":
        train_segmentation(args.data, args.epochs or 2, args.batch or 32, args.lr or 3e-3, args.width, args.levels,
                           args.seed)
        return
    args.epochs, args.batch, args.lr = args.epochs or 5, args.batch or 64, args.lr or 1e-3
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    if args.arch == "lenet5":
        model = LeNet5([int(s) for s in (args.sizes or "6-16-120-84").split("-")], image=train_x.shape[2],
                       original=args.original)
    elif args.arch == "alexnet":
        model = AlexNet([int(s) for s in (args.sizes or "24-64-96-96-64-256-256").split("-")], dropout=args.dropout)
    else:
        model = ResNet(args.width, [int(s) for s in args.blocks.split("-")])
    start = time.perf_counter()
    accuracy = train_and_test(model, train_x, train_y, test_x, test_y, args.epochs, args.batch, args.lr)
    # beside `groundup train --arch ARCH --data DIR`'s record (named ARCH-<DIR's last part>) in groundup report
    name = f"{args.arch}-{os.path.basename(os.path.normpath(args.data))}"
    write_pytorch_record(re.sub(r"[^A-Za-z0-9._-]", "-", name), "test accuracy (%)", accuracy, True,
                         model=f"{args.arch} (PyTorch)", train_seconds=time.perf_counter() - start,
                         parameters=sum(v.numel() for v in model.parameters()))


if __name__ == "__main__":
    main()
