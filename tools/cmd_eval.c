// groundup eval: mean loss, perplexity and bits per byte of a checkpoint on held-out text.
// Parses arguments, calls gpt/eval.c, prints.
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "gpt/checkpoint.h"
#include "gpt/data.h"
#include "gpt/eval.h"
#include "gpt/lora.h"
#include "tools/commands.h"
#include "tools/options.h"

int command_eval(int argc, char **argv) {
    if (segment_wants(argc, argv)) return segment_eval(argc, argv);    // a unet (cmd_segment.c)
    if (classify_wants(argc, argv)) return classify_eval(argc, argv);  // a directory of images
    const char *model_path = NULL, *data_path = NULL, *split = "val", *data_directory = NULL, *lora_path = NULL;
    int context = 0, threads = 0;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "checkpoint (groundup's format, or llm.c's for GPT-2)"},
        {"--data", OPTION_STRING, &data_path, "text or token file (default: the data the model was trained on)"},
        {"--split", OPTION_STRING, &split, "val: the held-out last 10% (as in training); all: the whole file"},
        {"--context", OPTION_INT, &context, "window length (0: the model's context)"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
        {"--lora", OPTION_STRING, &lora_path, "LoRA adapters to apply to the model, unmerged (default data: theirs)"},
    };
    const char *usage = "groundup eval --model FILE [--lora ADAPTERS] [--data FILE] [--split val|all] [--context T]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!model_path) return fail("eval", "--model FILE is required");
    int whole = strcmp(split, "all") == 0;
    if (!whole && strcmp(split, "val") != 0) return fail("eval", "--split must be val or all");
    if (threads < 0) return fail("eval", "--threads must be >= 0");
    if (context < 0) return fail("eval", "--context must be >= 0");
    if (threads > 0) omp_set_num_threads(threads);

    Error error = {{0}};
    Model model;
    TextTokenizer tokenizer;
    char trained_on[1024];
    if (checkpoint_load_for_inference(model_path, data_directory, &model, &tokenizer, trained_on, sizeof trained_on, &error))
        return fail("eval", error.message);
    if (lora_path && lora_load(lora_path, &model, trained_on, sizeof trained_on, &error)) {
        text_tokenizer_free(&tokenizer);
        model_free(&model);
        return fail("eval", error.message);
    }
    DataSource source;
    Dataset data;
    memset(&source, 0, sizeof source);
    memset(&data, 0, sizeof data);
    int status = 1;
    if (context > model.config.context_length) {
        error_set(&error, "--context %d is longer than the model's context of %d", context, model.config.context_length);
        goto done;
    }
    if (!data_path) data_path = trained_on[0] ? trained_on : "data/mobydick.txt";
    EvalResult result;
    if (data_source_load(&source, data_path, &error) || dataset_init_heldout(&data, &source, &tokenizer, whole, &error))
        goto done;
    if (data.n_val < 2) {
        error_set(&error, "%s: the %s text has %ld tokens, too few to evaluate", data_path, whole ? "whole" : "held-out",
                  data.n_val);
        goto done;
    }
    if (evaluate(&model, data.val, data.n_val, data.val_bytes, context, &result, &error)) goto done;
    printf("data           %s (%s, %ld bytes, %ld tokens scored)\n", data_path, whole ? "whole file" : "held-out 10%",
           result.n_bytes, result.n_tokens);
    printf("mean loss      %.4f nats/token\n", result.mean_loss);
    printf("perplexity     %.3f\n", result.perplexity);
    printf("bits per byte  %.4f\n", result.bits_per_byte);
    status = 0;
done:
    if (status) fail("eval", error.message);
    dataset_free(&data);
    data_source_free(&source);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}
