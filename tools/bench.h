// The benchmarks behind `groundup bench <what>`, one function each (argv[0] is its name).
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

int bench_matmul(int argc, char **argv);
int bench_tokenizer(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_generate(int argc, char **argv);
int bench_linalg(int argc, char **argv);
int bench_quant(int argc, char **argv);
int bench_nn_gpt2(int argc, char **argv);
int bench_conv(int argc, char **argv);
int bench_transformer(int argc, char **argv);
int bench_allreduce(int argc, char **argv);

// The median of values (n >= 1), which it sorts in place.
double bench_median(double *values, int n);

#endif
