// groundup quantize: an fp32 GPT-2 checkpoint -> the same model with q8_0 or q4_0 weights,
// with a table of every tensor's size before and after and its quantization error.
#include <stdio.h>
#include <stdlib.h>

#include "gpt/checkpoint.h"
#include "gpt/quantize.h"
#include "tools/commands.h"
#include "tools/options.h"

int command_quantize(int argc, char **argv) {
    const char *model_path = NULL, *out_path = NULL, *type_name = NULL, *data_directory = NULL;
    int keep_embedding = 0;
    Option options[] = {
        {"--model", OPTION_STRING, &model_path, "fp32 GPT-2 checkpoint (groundup's or llm.c's format)"},
        {"--type", OPTION_STRING, &type_name, "q8_0 or q4_0"},
        {"--out", OPTION_STRING, &out_path, "quantized checkpoint to write"},
        {"--keep-embedding-fp32", OPTION_FLAG, &keep_embedding, "keep the token embedding (= output matrix) in fp32"},
        {"--data-dir", OPTION_STRING, &data_directory, "the bundled data (gpt2/ for llm.c checkpoints); default: found"},
    };
    const char *usage = "groundup quantize --model IN --type q8_0|q4_0 --out OUT [--keep-embedding-fp32]";
    int parsed = options_parse(argc, argv, usage, options, (int)(sizeof options / sizeof options[0]), NULL, 0, NULL);
    if (parsed != OPTIONS_OK) return parsed == OPTIONS_HELP ? 0 : 2;
    if (!model_path || !out_path || !type_name) return fail("quantize", "--model, --type and --out are required");
    Error error;
    QuantType type;
    if (quant_type_parse(type_name, &type, &error)) return fail("quantize", error.message);

    Model model, quantized;
    TextTokenizer tokenizer;
    char trained_on[1024];
    if (checkpoint_load_for_inference(model_path, data_directory, &model, &tokenizer, trained_on, sizeof trained_on, &error))
        return fail("quantize", error.message);
    QuantReport *reports = calloc((size_t)model.n_tensors, sizeof(QuantReport));
    int status = 1;
    if (!reports) {
        error_set(&error, "out of memory");
        goto done;
    }
    if (model_quantize(&quantized, &model, type, keep_embedding ? TENSOR_F32 : (int)type, reports, &error)) goto done;
    printf("| tensor | type | MB before | MB after | RMS error / RMS weight | max error |\n|---|---|---|---|---|---|\n");
    double before = 0.0, after = 0.0;
    for (int i = 0; i < model.n_tensors; i++) {
        const QuantReport *r = &reports[i];
        before += (double)r->bytes_before;
        after += (double)r->bytes_after;
        if (r->type == TENSOR_F32) {
            printf("| %s | f32 | %.3f | %.3f | - | - |\n", r->name, r->bytes_before / 1e6, r->bytes_after / 1e6);
        } else {
            printf("| %s | %s | %.3f | %.3f | %.4f | %.3g |\n", r->name, quant_type_name((QuantType)r->type),
                   r->bytes_before / 1e6, r->bytes_after / 1e6, r->weight_rms > 0 ? r->rms_error / r->weight_rms : 0.0,
                   r->max_error);
        }
    }
    printf("| total | | %.3f | %.3f | %.2fx smaller | |\n", before / 1e6, after / 1e6, before / after);
    if (checkpoint_save_for_inference(out_path, &quantized, &tokenizer, trained_on, &error)) {
        model_free(&quantized);
        goto done;
    }
    fprintf(stderr, "quantize: wrote %s\n", out_path);
    model_free(&quantized);
    status = 0;
done:
    if (status) fail("quantize", error.message);
    free(reports);
    text_tokenizer_free(&tokenizer);
    model_free(&model);
    return status;
}
