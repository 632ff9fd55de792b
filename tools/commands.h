// Every subcommand of `groundup`: a function taking its own argc/argv (argv[0] is the
// command's name) and returning the exit status. main.c lists them in one table.
#ifndef TOOLS_COMMANDS_H
#define TOOLS_COMMANDS_H

#include <stddef.h>

#include "foundations/distributed.h"
#include "nn/data.h"
#include "tools/options.h"

typedef struct Command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} Command;

int command_optimizers(int argc, char **argv);
int command_bench(int argc, char **argv);
int command_train(int argc, char **argv);
int command_generate(int argc, char **argv);
int command_eval(int argc, char **argv);
int command_tokenizer(int argc, char **argv);
int command_verify(int argc, char **argv);
int command_quantize(int argc, char **argv);
int command_convert(int argc, char **argv);
int command_svd_compress(int argc, char **argv);
int command_lora(int argc, char **argv);
int command_dpo(int argc, char **argv);
int command_predict(int argc, char **argv);
int command_xor(int argc, char **argv);
int command_visualize(int argc, char **argv);
int command_normalization(int argc, char **argv);
int command_gradient_flow(int argc, char **argv);
int command_dropout(int argc, char **argv);
int command_explore(int argc, char **argv);
int command_seq2seq(int argc, char **argv);
// The generative models (cmd_generative.c): groundup vae, groundup gan, groundup sample-score.
int command_vae(int argc, char **argv);
int command_gan(int argc, char **argv);
int command_sample_score(int argc, char **argv);
// groundup diffusion (cmd_diffusion.c): DDPM and DDIM on MNIST.
int command_diffusion(int argc, char **argv);
int command_flow(int argc, char **argv);
int command_gcn(int argc, char **argv);
int command_score_model(int argc, char **argv);
int command_neural_ode(int argc, char **argv);
int command_maml(int argc, char **argv);
// The comparison report of every run record (cmd_report.c).
int command_report(int argc, char **argv);
struct RunRecord;
// At the end of a training command: record's model, paper and year from run_record_model(key)
// where record leaves them NULL/0, then run_record_write (tools/run_record.h), and one line on
// stderr, "run record <path>". A failure to write is a warning on stderr naming command, not
// the command's failure: the model is trained and saved.
void record_run(const char *command, const char *key, struct RunRecord *record);
// run_record_name_from (tools/run_record.h) without the file's extension: ("lora-r8",
// "data/names.txt") -> "lora-r8-names"; returns name.
const char *record_name_from_file(const char *prefix, const char *path, char *name, int size);
// `groundup train`'s record of a language model (record_run.c): the held-out bits per byte
// (heldout NULL: the last validation loss), named lm-<arch>-<data file's stem>.
struct Model;
struct TrainState;
struct EvalResult;
void record_language_model(const struct Model *model, int argc, char **argv, const char *data_path,
                           const struct TrainState *state, const struct EvalResult *heldout, const char *out_path,
                           const char *svg_path);

// Image classification (cmd_classify.c): train and eval hand over when --data is a directory.
int classify_wants(int argc, char **argv);
int classify_train(int argc, char **argv);
int classify_eval(int argc, char **argv);
// A split ("train" or "test") of MNIST-format IDX files in directory as a LabelledSet of
// (1, H, W) images in [0, 1] and 10 classes (foundations/idx.h's mnist_load).
// "<out without its .safetensors><suffix>" into path: the files written beside a checkpoint.
void checkpoint_beside(const char *out, const char *suffix, char *path, size_t size);
int classify_load_split(const char *directory, const char *split, LabelledSet *set, Error *error);
// The live progress line of `train` (cmd_classify.c): "epoch E/N  batch B/M  loss L" redrawn
// on stderr at most every 0.1 s, only when stderr is a terminal; a TrainerCallbacks step.
typedef struct TrainingProgress {
    int terminal, epochs;
    double last_update;
} TrainingProgress;
void training_progress_step(void *context, int epoch, int batch, int n_batches, float loss);
// Data-parallel training commands (cmd_train.c): options_parse with its messages on rank 0
// only (known before MPI starts: the launcher's environment); and after every rank's setup,
// 0 when all succeeded, else -1 with the lowest failing rank's error ("rank R: ..." for R > 0).
int parse_on_rank_0(int argc, char **argv, const char *usage, const Option *options, int n_options);
int agree_on_setup(const Distributed *job, int set_up, Error *error);
// Segmentation (cmd_segment.c): train, eval and predict hand over on --arch unet or a unet
// --model / --resume file.
int segment_wants(int argc, char **argv);
int segment_train(int argc, char **argv);
int segment_eval(int argc, char **argv);
int segment_predict(int argc, char **argv);
// verify --arch mlp|lenet5|resnet (cmd_verify_classifier.c): verify hands over on that option.
int verify_wants_classifier(int argc, char **argv);
// train --arch bert (cmd_bert.c): train hands over on that option; fill-mask is its command.
int bert_wants(int argc, char **argv);
int bert_train(int argc, char **argv);
int command_fill_mask(int argc, char **argv);
int verify_classifier(int argc, char **argv);

#endif
