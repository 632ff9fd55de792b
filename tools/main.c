// groundup: one program, many commands. This file only finds the command and hands over.
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "foundations/distributed.h"
#include "tools/commands.h"

static const Command commands[] = {
    {"train", "train a model stage (bigram, mlp, gpt2; bert: masked LM) on a text: progress, checkpoint, loss SVG, samples", command_train},
    {"generate", "stream text from a checkpoint (temperature, top-k, top-p)", command_generate},
    {"predict", "class probabilities of one image (PGM) from a trained classifier, or a unet's mask", command_predict},
    {"visualize", "a conv classifier's first filters, feature maps and saliency map for one image, as PNGs", command_visualize},
    {"xor", "the smallest network that solves XOR, trained from scratch, with its decision boundary SVG", command_xor},
    {"fill-mask", "the most probable tokens for each [MASK] of a text, from a BERT (train --arch bert)", command_fill_mask},
    {"eval", "mean loss, perplexity and bits per byte of a checkpoint on held-out text", command_eval},
    {"lora", "fine-tune a GPT-2 with low-rank adapters on a frozen (fp32 or quantized) base; merge them", command_lora},
    {"dpo", "preference fine-tuning (DPO) of a GPT-2 on chosen/rejected pairs; a sea-preference task to measure it", command_dpo},
    {"quantize", "GPT-2 checkpoint -> q8_0 / q4_0 weights, with each tensor's size and error", command_quantize},
    {"convert", "GPT-2 checkpoints between llm.c's format and groundup's", command_convert},
    {"seq2seq", "sequence-to-sequence toy tasks (reverse, addition, dates) with a Transformer or a GRU/LSTM with attention: train, eval, translate", command_seq2seq},
    {"verify", "check GPT-2, or --arch mlp|lenet5|resnet|alexnet|vit|transformer, against a PyTorch reference's logits, loss, gradients and AdamW steps", command_verify},
    {"tokenizer", "byte-level BPE: train, encode, decode, stats (GPT-2 compatible)", command_tokenizer},
    {"bench", "benchmarks: matmul, tokenizer, train, generate, linalg", command_bench},
    {"optimizers", "every optimizer on Rosenbrock, a quadratic, logistic regression: table + SVG", command_optimizers},
    {"normalization", "a small CNN on MNIST with no, batch, layer and group norm: curves SVG + table", command_normalization},
    {"gradient-flow", "per-layer gradient norms of a 20-layer net by initialisation, plain and residual: SVG + table", command_gradient_flow},
    {"dropout", "train/test gap with and without dropout on 500 MNIST images: curves SVG + table", command_dropout},
    {"vae", "variational auto-encoder on MNIST: train (ELBO, samples, latent SVG), eval (importance-weighted log p(x)), sample", command_vae},
    {"gan", "generative adversarial network (mlp or dcgan) on MNIST: train (a sample grid PNG per epoch), sample", command_gan},
    {"diffusion", "denoising diffusion (DDPM) on MNIST: train a time-conditioned U-Net, sample (ancestral or DDIM), chain PNG", command_diffusion},
    {"sample-score", "score generated (or real) images with a trained classifier: mean confidence, class-histogram entropy", command_sample_score},
    {"explore", "the mathematics made visible: calculus, numerical stability, probability, information (tables + SVGs)", command_explore},
    {"flow", "RealNVP normalising flow on 2-D toy data: exact likelihood, density heat map and samples (train, sample)", command_flow},
    {"gcn", "graph convolutional network on Zachary's karate club, one labelled node per faction: accuracy + embedding SVG", command_gcn},
    {"score-model", "noise-conditional score network on 2-D toy data: denoising score matching, Langevin samples, score field SVG", command_score_model},
    {"neural-ode", "a neural ODE fitted to a 2-D spiral: RK4 or Dormand-Prince, backprop or adjoint gradients, trajectories SVG", command_neural_ode},
    {"maml", "meta-learning on sine regression: FOMAML, exact second-order MAML, a pretrained baseline; adaptation table + SVGs", command_maml},
    {"report", "the comparison report: every trained model's metric, time and figures (out/runs/) as one Markdown table", command_report},
    {"svd-compress", "compress a PGM/PPM image by rank-K SVD per channel: storage, PSNR, --sweep SVG", command_svd_compress},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void print_usage(FILE *out) {
    fprintf(out, "usage: groundup <command> [options]   (groundup <command> --help for its options)\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    // A file-size limit (ulimit -f) then makes a write fail with EFBIG, which the writers report
    // as an error (keeping the previous file), instead of killing the process mid-save.
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    // Started by mpirun with several ranks: only the commands that split their work across
    // ranks run (the others would be N copies writing the same files).
    if (distributed_launcher_size() > 1 && strcmp(argv[1], "train") != 0 && strcmp(argv[1], "bench") != 0) {
        if (distributed_launcher_rank() == 0)
            fprintf(stderr, "groundup: %s: runs as one process; under mpirun only train (the language models) and "
                    "bench allreduce do\n", argv[1]);
        return 2;
    }
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "groundup: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return 2;
}
