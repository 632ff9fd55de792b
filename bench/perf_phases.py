#!/usr/bin/python3
"""Where a training run's time goes, by phase: reads `perf script` output of a run recorded with
DWARF call graphs and counts each sample taken inside classifier_train under the first phase
whose function appears on its stack (conv forward: nn_conv2d; conv backward:
conv2d_backward_node; pooling; batch norm; linear; ReLU and residual adds; optimizer; loss;
loader), the rest as "other" with its leaf functions. One thread, so that every sample has the
training loop on its stack (OpenMP workers' stacks do not reach it):

  OMP_NUM_THREADS=1 perf record -F 1000 --call-graph dwarf,16384 -o perf.data \
      build/groundup train --arch lenet5 --data data/mnist --epochs 1
  perf script -i perf.data | /usr/bin/python3 bench/perf_phases.py
"""
import sys, collections
cats = [("conv forward", ["nn_conv2d"]), ("conv backward", ["conv2d_backward_node"]),
        ("pool fwd+bwd", ["nn_max_pool2d", "nn_avg_pool2d", "max_pool2d_backward_node", "avg_pool2d_backward_node", "nn_adaptive_avg_pool2d", "adaptive_avg_pool2d_backward_node", "pool2d"]),
        ("batch norm fwd+bwd", ["batchnorm_channels_backward", "batchnorm_channels_backward_into", "batchnorm_channels_forward", "nn_batch_norm", "batch_norm_backward_node", "batchnorm_backward_node", "batch_norm_apply"]),
        ("linear fwd+bwd", ["nn_linear", "linear_backward_node"]),
        ("relu/add fwd+bwd", ["relu_backward", "binary_forward", "binary_backward", "nn_relu", "nn_add", "nn_tanh", "unary_backward_node", "binary_backward_node", "relu_backward_node", "pointwise_backward_node"]),
        ("optimizer", ["param_optimizer_step"]),
        ("loss", ["nn_cross_entropy", "cross_entropy_backward_node"]),
        ("loader", ["loader_next"])]
counts = collections.Counter(); total = 0; outside = collections.Counter()
stack = []
def flush():
    global total
    if not stack: return
    syms = [s for s in stack]
    if any("classifier_train" in s for s in syms):
        total += 1
        for name, keys in cats:
            if any(any(s == k or s.startswith(k + ".") for k in keys) for s in syms):
                counts[name] += 1; break
        else:
            # leaf for the rest
            counts["other"] += 1; outside[syms[0]] += 1
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        flush(); stack = []; continue
    if line.startswith("\t") or line.startswith(" "):
        parts = line.split()
        if len(parts) >= 2: stack.append(parts[1].split("+")[0])
    else:
        stack = []
flush()
for name, n in counts.most_common(): print(f"{name:22s} {100.0*n/total:5.1f}%")
print("samples in training:", total)
print("other, by leaf:", outside.most_common(8))
