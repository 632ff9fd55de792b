// groundup generate: text from a checkpoint, streamed to stdout token by token; the speed
// goes to stderr at the end. Parses arguments, calls gpt/sample.c, prints.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundations/clock.h"
#include "gpt/checkpoint.h"
#include "gpt/lora.h"
#include "gpt/sample.h"
#include "tools/commands.h"
#include "tools/options.h"
#include "tools/run.h"

int command_generate(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "", *data_directory = NULL, *lora_path = NULL;
    int n_tokens = 200, top_k = 0, threads = 0;
    float temperature = 1.0f, top_p = 1.0f;
    long seed = 1;
    const Option options[] = {
        {"--model", OPTION_STRING, &model_path, "checkpoint (groundup's format, or llm.c's for GPT-2)"},
        {"--prompt", OPTION_STRING, &prompt, "text to continue (default: the start of a text)"},
        {"-n", OPTION_INT, &n_tokens, "tokens to generate"},
        {"--temperature", OPTION_FLOAT, &temperature, "0: greedy; higher: more random"},
        {"--top-k", OPTION_INT, &top_k, "sample among the k most probable tokens (0: all)"},
        {"--top-p", OPTION_FLOAT, &top_p, "sample among the most probable tokens holding this mass, in (0, 1]"},
        {"--seed", OPTION_LONG, &seed, "seed of the sampler"},
        {"--threads", OPTION_INT, &threads, "OpenMP threads (0: OpenMP's default)"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
        {"--lora", OPTION_STRING, &lora_path, "LoRA adapters (groundup lora train) to apply to the model, unmerged"},
    };
    const char *usage = "groundup generate --model FILE [--lora ADAPTERS] [--prompt TEXT] [-n TOKENS] [--temperature X] [--top-k K] "
                        "[--top-p P] [--seed S]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed == OPTIONS_HELP) return 0;
    if (parsed != OPTIONS_OK) return 2;
    if (!model_path) return fail("generate", "--model FILE is required");
    if (n_tokens < 0) return fail("generate", "-n must be >= 0");
    if (threads < 0) return fail("generate", "--threads must be >= 0");
    SamplerConfig sampler_config = {temperature, top_k, top_p};
    Error error = {{0}};
    if (sampler_config_check(&sampler_config, &error)) return fail("generate", error.message);
    if (threads > 0) omp_set_num_threads(threads);

    Model model;
    TextTokenizer tokenizer;
    if (checkpoint_load_for_inference(model_path, data_directory, &model, &tokenizer, NULL, 0, &error))
        return fail("generate", error.message);
    if (lora_path && lora_load(lora_path, &model, NULL, 0, &error)) {
        text_tokenizer_free(&tokenizer);
        model_free(&model);
        return fail("generate", error.message);
    }
    Sampler sampler;
    int *ids = NULL;
    size_t n_ids = 0;
    int status = 1;
    if (sampler_init(&sampler, &sampler_config, model.config.vocab_size, &error)) goto done_model;
    if (text_encode(&tokenizer, (const unsigned char *)prompt, strlen(prompt), &ids, &n_ids, &error)) {
        error_prefix(&error, "--prompt");
        goto done;
    }
    // No prompt: start as a text starts (the start token itself is not printed).
    int start = text_start_token(&tokenizer);
    const int *context = n_ids > 0 ? ids : &start;
    int n_context = n_ids > 0 ? (int)n_ids : 1;
    fwrite(prompt, 1, strlen(prompt), stdout);
    fflush(stdout);

    Random rng;
    random_seed(&rng, (uint64_t)seed);
    int n_generated = 0;
    double begin = clock_seconds();
    if (generate(&model, context, n_context, n_tokens, &sampler, &rng, write_token, &tokenizer, &n_generated, &error))
        goto done;
    double seconds = clock_seconds() - begin;
    printf("\n");
    fflush(stdout);
    fprintf(stderr, "generated %d tokens in %.2f s (%.1f tok/s)\n", n_generated, seconds,
            seconds > 0 ? n_generated / seconds : 0.0);
    status = 0;
done:
    free(ids);
    sampler_free(&sampler);
done_model:
    if (status) fail("generate", error.message);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}
