#include "tools/options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(const char *usage, const Option *options, int n_options) {
    printf("usage: %s\n\noptions:\n", usage);
    for (int i = 0; i < n_options; i++) {
        const Option *o = &options[i];
        char default_text[96] = "";
        switch (o->type) {
        case OPTION_INT: snprintf(default_text, sizeof default_text, " (default %d)", *(int *)o->value); break;
        case OPTION_LONG: snprintf(default_text, sizeof default_text, " (default %ld)", *(long *)o->value); break;
        case OPTION_FLOAT: snprintf(default_text, sizeof default_text, " (default %g)", *(float *)o->value); break;
        case OPTION_DOUBLE: snprintf(default_text, sizeof default_text, " (default %g)", *(double *)o->value); break;
        case OPTION_STRING:
            if (*(const char **)o->value) snprintf(default_text, sizeof default_text, " (default %s)", *(const char **)o->value);
            break;
        case OPTION_FLAG: break;
        }
        printf("  %-22s %s%s\n", o->name, o->help, default_text);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

static int usage_error(const char *usage, const char *format, const char *a, const char *b) {
    fprintf(stderr, "groundup: ");
    fprintf(stderr, format, a, b);
    fprintf(stderr, "\nusage: %s\n", usage);
    return OPTIONS_ERROR;
}

static int parse_value(const Option *o, const char *text, const char *usage) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OPTION_INT:
    case OPTION_LONG: {
        long v = strtol(text, &end, 10);
        if (errno || end == text || *end || (o->type == OPTION_INT && (v < INT_MIN || v > INT_MAX)))
            return usage_error(usage, "option %s expects an integer, got '%s'", o->name, text);
        if (o->type == OPTION_INT) *(int *)o->value = (int)v;
        else *(long *)o->value = v;
        return OPTIONS_OK;
    }
    case OPTION_FLOAT:
    case OPTION_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || end == text || *end) return usage_error(usage, "option %s expects a number, got '%s'", o->name, text);
        if (o->type == OPTION_FLOAT) *(float *)o->value = (float)v;
        else *(double *)o->value = v;
        return OPTIONS_OK;
    }
    case OPTION_STRING: *(const char **)o->value = text; return OPTIONS_OK;
    case OPTION_FLAG: *(int *)o->value = 1; return OPTIONS_OK;
    }
    return OPTIONS_ERROR;
}

int options_parse(int argc, char **argv, const char *usage, const Option *options, int n_options,
                  const char **positionals, int max_positionals, int *n_positionals) {
    if (n_positionals) *n_positionals = 0;
    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
            print_help(usage, options, n_options);
            return OPTIONS_HELP;
        }
        if (word[0] != '-' || word[1] == '\0' || (word[1] >= '0' && word[1] <= '9')) {
            if (!positionals || *n_positionals >= max_positionals)
                return usage_error(usage, "unexpected argument '%s'%s", word, "");
            positionals[(*n_positionals)++] = word;
            continue;
        }
        const char *equals = strchr(word, '=');
        size_t name_length = equals ? (size_t)(equals - word) : strlen(word);
        const Option *match = NULL;
        for (int k = 0; k < n_options; k++)
            if (strlen(options[k].name) == name_length && strncmp(options[k].name, word, name_length) == 0) match = &options[k];
        if (!match) return usage_error(usage, "unknown option '%s'%s", word, "");
        if (match->type == OPTION_FLAG) {
            if (equals) return usage_error(usage, "option %s takes no value%s", match->name, "");
            *(int *)match->value = 1;
            continue;
        }
        const char *value = equals ? equals + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) return usage_error(usage, "option %s needs a value%s", match->name, "");
            value = argv[++i];
        }
        if (parse_value(match, value, usage) != OPTIONS_OK) return OPTIONS_ERROR;
    }
    return OPTIONS_OK;
}

int fail(const char *command, const char *message) {
    fprintf(stderr, "groundup: %s: %s\n", command, message);
    return 1;
}

int option_given(int argc, char **argv, const char *name) {
    size_t length = strlen(name);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], name, length) == 0 && (argv[i][length] == '\0' || argv[i][length] == '=')) return 1;
    return 0;
}

const char *option_value(int argc, char **argv, const char *name) {
    size_t length = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) return argv[i + 1];
        if (strncmp(argv[i], name, length) == 0 && argv[i][length] == '=') return argv[i] + length + 1;
    }
    return NULL;
}
