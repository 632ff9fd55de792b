#!/usr/bin/python3
"""The MLP recipe of `groundup train --arch mlp --data DIR` in PyTorch, for bench/mnist_mlp.sh.

784-256-128-10 with ReLU, PyTorch's default init after torch.manual_seed(seed), Adam (lr 1e-3,
betas 0.9/0.999, eps 1e-8), batch 64 shuffled each epoch (the last batch partial), mean
cross-entropy, 5 epochs on the training images, then the test accuracy. Prints one line per
epoch ("epoch E: train loss L, S s, resident M MB": S the epoch's training time, M the
process's resident memory after it) and "test accuracy A%", the same lines groundup prints.

  /usr/bin/python3 bench/mnist_mlp_reference.py --data data/mnist [--epochs 5] [--seed 1]
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory, prefix):
    def find(name):
        for candidate in (name, name + ".gz"):
            if os.path.exists(os.path.join(directory, candidate)):
                return os.path.join(directory, candidate)
        raise FileNotFoundError(os.path.join(directory, name))
    images = read_idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    train_and_test(model, train_x, train_y, test_x, test_y, args.epochs, args.batch, args.lr)


def train_and_test(model, train_x, train_y, test_x, test_y, epochs, batch, lr):
    """Adam (lr, betas 0.9/0.999, eps 1e-8) on batches of a new random order each epoch, the mean
    cross-entropy; prints each epoch's line, then the test accuracy in evaluation mode (batches of
    500). Also tools/reference/cnn_train_reference.py's loop."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = train_x.shape[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(v.numel() for v in model.parameters())} parameters", flush=True)
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        total, batches = 0.0, 0
        for i in range(0, n, batch):
            index = order[i:i + batch]
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: train loss {total / batches:.4f}, {seconds:.3f} s, resident {resident_mb():.1f} MB", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum().item()
                      for i in range(0, test_x.shape[0], 500))
    print(f"test accuracy {100.0 * correct / test_x.shape[0]:.2f}% ({correct} of {test_x.shape[0]})")
    return 100.0 * correct / test_x.shape[0]

if __name__ == "__main__":
    main()
