#!/usr/bin/python3
"""PyTorch's F.conv2d on the layers of `groundup bench conv` (the reference bench/conv.sh times
beside it): forward and backward (input, weight and bias gradients) milliseconds, medians.

  build/groundup bench conv --shapes > shapes.txt
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/conv_reference.py shapes.txt --threads 2 --repeats 7

Prints one line per layer: name forward_ms backward_ms.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def time_layer(n, c, h, w, oc, k, stride, padding, repeats, now):
    x = torch.randn(n, c, h, w, requires_grad=True)
    weight = (0.1 * torch.randn(oc, c, k, k)).requires_grad_()
    bias = torch.zeros(oc, requires_grad=True)
    forward, backward = [], []
    for r in range(repeats + 1):  # the first warms up
        start = now()
        with torch.no_grad():
            F.conv2d(x, weight, bias, stride=stride, padding=padding)
        middle = now()
        y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
        grad = torch.randn_like(y)
        begin = now()
        torch.autograd.grad(y, (x, weight, bias), grad)
        end = now()
        if r > 0:
            forward.append(1e3 * (middle - start))
            backward.append(1e3 * (end - begin))
    return statistics.median(forward), statistics.median(backward)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shapes")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cpu-time", action="store_true", help="CPU time of the process instead of the wall clock")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for line in open(args.shapes):
        name, *sizes = line.split()
        n, c, h, w, oc, k, stride, padding = map(int, sizes)
        now = time.process_time if args.cpu_time else time.perf_counter
        forward, backward = time_layer(n, c, h, w, oc, k, stride, padding, args.repeats, now)
        print(f"{name} {forward:.3f} {backward:.3f}", flush=True)


if __name__ == "__main__":
    main()
