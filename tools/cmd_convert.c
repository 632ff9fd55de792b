// groundup convert: GPT-2 checkpoints between llm.c's format and groundup's.
//   llm.c -> groundup: the weights plus a tokenizer (GPT-2's by default, or --tokenizer FILE)
//   groundup -> llm.c: the fp32 weights only (llm.c's format has no tokenizer)
#include <stdio.h>
#include <string.h>

#include "gpt/checkpoint.h"
#include "gpt/gpt2.h"
#include "tools/commands.h"
#include "tools/options.h"

int command_convert(int argc, char **argv) {
    const char *in_path = NULL, *out_path = NULL, *to = NULL, *tokenizer_path = NULL, *data_directory = NULL;
    Option options[] = {
        {"--in", OPTION_STRING, &in_path, "GPT-2 checkpoint to read (either format; recognised by its magic)"},
        {"--out", OPTION_STRING, &out_path, "checkpoint to write"},
        {"--to", OPTION_STRING, &to, "llmc or groundup (default: the other format)"},
        {"--tokenizer", OPTION_STRING, &tokenizer_path, "for llm.c input: groundup tokenizer file (default GPT-2's)"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
    };
    const char *usage = "groundup convert --in FILE --out FILE [--to llmc|groundup] [--tokenizer FILE]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!in_path || !out_path) return fail("convert", "--in and --out are required");
    if (to && strcmp(to, "llmc") != 0 && strcmp(to, "groundup") != 0) return fail("convert", "--to must be llmc or groundup");

    Error error;
    Model model;
    TextTokenizer tokenizer;
    int from_llmc = 0;
    char trained_on[1024] = "";
    if (tokenizer_path) {
        // An llm.c file with its own tokenizer: read the weights, then the tokenizer.
        if (llmc_read_checkpoint(&model, in_path, &error)) return fail("convert", error.message);
        if (text_tokenizer_load(&tokenizer, tokenizer_path, &error)) {
            model_free(&model);
            return fail("convert", error.message);
        }
        from_llmc = 1;
    } else {
        if (checkpoint_load_for_inference(in_path, data_directory, &model, &tokenizer, trained_on, sizeof trained_on,
                                          &error))
            return fail("convert", error.message);
        from_llmc = model.mapping == NULL;  // groundup checkpoints of GPT-2 are mapped
    }
    int status = 1;
    int to_llmc = to ? strcmp(to, "llmc") == 0 : !from_llmc;
    if (model.config.arch != ARCH_GPT2) {
        error_set(&error, "%s: a %s model; only GPT-2 has an llm.c format", in_path, architecture_name(model.config.arch));
    } else if (to_llmc && model.quantized) {
        error_set(&error, "%s: quantized weights; llm.c's format holds fp32 only", in_path);
    } else if (text_vocab_size(&tokenizer) > model.config.vocab_size) {
        error_set(&error, "the tokenizer has %d tokens, more than the model's %d", text_vocab_size(&tokenizer),
                  model.config.vocab_size);
    } else if (to_llmc ? llmc_write_checkpoint(&model, out_path, &error) == 0
                       : checkpoint_save_for_inference(out_path, &model, &tokenizer, trained_on, &error) == 0) {
        fprintf(stderr, "convert: wrote %s (%s format)\n", out_path, to_llmc ? "llm.c" : "groundup");
        status = 0;
    }
    if (status) fail("convert", error.message);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}
