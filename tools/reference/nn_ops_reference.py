#!/usr/bin/python3
"""PyTorch's values for groundup's framework operations (nn/ops.h), for tests/test_nn_torch.c.

For each case: the inputs, a fixed projection `proj` of the output's shape, the output, and the
gradient of sum(output * proj) with respect to every input, as computed by PyTorch. Names are
"<case>.in0", "<case>.in1", ..., "<case>.proj", "<case>.out", "<case>.grad0", ...; batch norm
adds "<case>.running_mean" and "<case>.running_var" (after one training forward from 0 and 1).
Integer arguments (targets, masks, axes) are fixed here and in the test.

  /usr/bin/python3 tools/reference/nn_ops_reference.py --out tests/fixtures/nn_ops/OPS.safetensors
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_safetensors  # noqa: E402

TARGETS = [1, -100, 3, 3, -100, 1]
PADDING = [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]  # 1 hides the key (PyTorch's key_padding_mask)


def attention(q, k, v, heads, causal, padding):
    B, Tq, C = q.shape
    Tk = k.shape[1]
    hs = C // heads
    qh = q.view(B, Tq, heads, hs).transpose(1, 2)
    kh = k.view(B, Tk, heads, hs).transpose(1, 2)
    vh = v.view(B, Tk, heads, hs).transpose(1, 2)
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(hs)
    mask = torch.zeros(B, 1, Tq, Tk, dtype=torch.bool)
    if padding is not None:
        mask |= torch.tensor(padding, dtype=torch.bool)[:, None, None, :]
    if causal:
        mask |= torch.ones(Tq, Tk, dtype=torch.bool).triu(1 + Tk - Tq)
    att = scores.masked_fill(mask, float("-inf")).softmax(-1)
    return (att @ vh).transpose(1, 2).reshape(B, Tq, C)


def batch_norm(x, w, b, state):
    mean, var = torch.zeros(x.shape[1]), torch.ones(x.shape[1])
    out = F.batch_norm(x, mean, var, w, b, training=True, momentum=0.1, eps=1e-5)
    state["running_mean"], state["running_var"] = mean, var
    return out


# name, input shapes, how inputs are drawn ("n" normal, "p" positive, "u" uniform [0,1)), function
CASES = [
    ("add_broadcast", [(2, 3, 4), (3, 1)], "nn", lambda a, b, s: a + b),
    ("mul_broadcast", [(2, 1, 4), (3, 1)], "nn", lambda a, b, s: a * b),
    ("div", [(2, 3), (2, 3)], "np", lambda a, b, s: a / b),
    ("var_unbiased_keepdim", [(2, 3, 4)], "n", lambda x, s: x.var(dim=1, keepdim=True, unbiased=True)),
    ("mean_axes", [(2, 3, 4)], "n", lambda x, s: x.mean(dim=(0, 2))),
    ("max_axis", [(2, 4, 3)], "n", lambda x, s: x.max(dim=1).values),
    ("softplus", [(2, 3)], "n", lambda x, s: F.softplus(4 * x) / 4),
    ("leaky_relu", [(2, 3)], "n", lambda x, s: F.leaky_relu(x, 0.1)),
    ("gelu_tanh", [(2, 3)], "n", lambda x, s: F.gelu(x, approximate="tanh")),
    ("log_softmax", [(2, 3, 5)], "n", lambda x, s: F.log_softmax(x, dim=-1)),
    ("matmul_batched", [(2, 3, 4), (2, 4, 5)], "nn", lambda a, b, s: a @ b),
    ("cross_entropy_smoothing_ignore", [(6, 4)], "n",
     lambda x, s: F.cross_entropy(x, torch.tensor(TARGETS), ignore_index=-100, label_smoothing=0.2)),
    ("bce_with_logits", [(2, 3), (2, 3)], "nu", lambda x, y, s: F.binary_cross_entropy_with_logits(x, y)),
    ("mse", [(2, 3), (2, 3)], "nn", lambda x, y, s: F.mse_loss(x, y)),
    ("layer_norm", [(2, 3, 6), (6,), (6,)], "nnn", lambda x, w, b, s: F.layer_norm(x, (6,), w, b, eps=1e-5)),
    ("batch_norm_nc", [(5, 6), (6,), (6,)], "nnn", lambda x, w, b, s: batch_norm(x, w, b, s)),
    ("batch_norm_ncl", [(3, 4, 5), (4,), (4,)], "nnn", lambda x, w, b, s: batch_norm(x, w, b, s)),
    ("attention_causal_padding", [(2, 5, 4), (2, 5, 4), (2, 5, 4)], "nnn",
     lambda q, k, v, s: attention(q, k, v, 2, True, PADDING)),
    ("attention_cross_padding", [(2, 3, 4), (2, 5, 4), (2, 5, 4)], "nnn",
     lambda q, k, v, s: attention(q, k, v, 2, False, PADDING)),
    # convolutional networks (issue 15)
    ("conv2d_stride_padding", [(2, 3, 7, 6), (4, 3, 3, 3), (4,)], "nnn",
     lambda x, w, b, s: F.conv2d(x, w, b, stride=2, padding=1)),
    ("conv2d_dilation_groups", [(2, 4, 9, 8), (6, 2, 3, 3)], "nn",
     lambda x, w, s: F.conv2d(x, w, None, stride=1, padding=2, dilation=2, groups=2)),
    ("conv2d_depthwise", [(2, 3, 6, 6), (3, 1, 3, 3), (3,)], "nnn",
     lambda x, w, b, s: F.conv2d(x, w, b, padding=1, groups=3)),
    ("conv2d_pointwise", [(2, 5, 4, 4), (3, 5, 1, 1), (3,)], "nnn", lambda x, w, b, s: F.conv2d(x, w, b)),
    ("conv_transpose2d", [(2, 4, 3, 4), (4, 3, 3, 3), (3,)], "nnn",
     lambda x, w, b, s: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d_groups", [(1, 4, 3, 3), (4, 2, 2, 2)], "nn",
     lambda x, w, s: F.conv_transpose2d(x, w, None, stride=2, groups=2)),
    ("max_pool2d", [(2, 3, 7, 7)], "n", lambda x, s: F.max_pool2d(x, 3, stride=2, padding=1)),
    ("max_pool2d_default_stride", [(1, 2, 6, 5)], "n", lambda x, s: F.max_pool2d(x, 2)),
    ("avg_pool2d", [(2, 3, 7, 7)], "n", lambda x, s: F.avg_pool2d(x, 3, stride=2, padding=1)),
    ("adaptive_avg_pool2d", [(2, 3, 7, 5)], "n", lambda x, s: F.adaptive_avg_pool2d(x, (3, 2))),
    ("batch_norm_nchw", [(3, 4, 3, 5), (4,), (4,)], "nnn", lambda x, w, b, s: batch_norm(x, w, b, s)),
    ("group_norm", [(2, 6, 3, 4), (6,), (6,)], "nnn", lambda x, w, b, s: F.group_norm(x, 3, w, b, eps=1e-5)),
    ("local_response_norm_3", [(2, 6, 3, 3)], "n", lambda x, s: F.local_response_norm(x, 3, 0.5, 0.75, 1.0)),
    ("local_response_norm_4", [(2, 5, 2, 3)], "n", lambda x, s: F.local_response_norm(x, 4, 0.8, 0.6, 2.0)),
    ("upsample_nearest2d", [(2, 3, 3, 4)], "n", lambda x, s: F.interpolate(x, scale_factor=2, mode="nearest")),
    ("upsample_bilinear2d", [(2, 3, 3, 4)], "n",
     lambda x, s: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)),
    ("upsample_bilinear2d_align_corners", [(1, 2, 3, 4)], "n",
     lambda x, s: F.interpolate(x, scale_factor=3, mode="bilinear", align_corners=True)),
    ("conv2d_winograd", [(2, 8, 7, 9), (12, 8, 3, 3), (12,)], "nnn", lambda x, w, b, s: F.conv2d(x, w, b, padding=1)),
    ("conv_transpose2d_winograd", [(2, 8, 5, 6), (8, 16, 3, 3)], "nn",
     lambda x, w, s: F.conv_transpose2d(x, w, None, padding=1)),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    tensors = []
    for name, shapes, draws, function in CASES:
        inputs = []
        for shape, draw in zip(shapes, draws):
            x = torch.randn(shape) if draw != "u" else torch.rand(shape)
            if draw == "p":
                x = x.abs() + 0.5
            inputs.append(x.requires_grad_())
        state = {}
        out = function(*inputs, state)
        proj = torch.randn(out.shape)
        (out * proj).sum().backward()
        for i, x in enumerate(inputs):
            tensors.append((f"{name}.in{i}", x.detach().numpy()))
        tensors.append((f"{name}.proj", proj.numpy()))
        tensors.append((f"{name}.out", out.detach().numpy()))
        for i, x in enumerate(inputs):
            tensors.append((f"{name}.grad{i}", x.grad.numpy()))
        for key, value in state.items():
            tensors.append((f"{name}.{key}", value.numpy()))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, {"format": "pt", "torch": torch.__version__, "seed": str(args.seed),
                                          "command": " ".join(["tools/reference/nn_ops_reference.py"] + sys.argv[1:])})


if __name__ == "__main__":
    main()
