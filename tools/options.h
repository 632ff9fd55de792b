// Command-line options shared by every command: a table of long options, each bound to a
// variable that already holds its default. `--name value` and `--name=value` both work;
// numbers are checked whole ("12x" is an error), flags take no value.
#ifndef TOOLS_OPTIONS_H
#define TOOLS_OPTIONS_H

typedef enum { OPTION_INT, OPTION_LONG, OPTION_FLOAT, OPTION_DOUBLE, OPTION_STRING, OPTION_FLAG } OptionType;

typedef struct Option {
    const char *name;  // spelled as typed: "--steps", or a short alias like "-n"
    OptionType type;
    void *value;       // int*, long*, float*, double*, const char**, or int* (flag set to 1)
    const char *help;  // one line for --help; the default is shown from *value
} Option;

enum { OPTIONS_OK = 0, OPTIONS_HELP = 1, OPTIONS_ERROR = -1 };

// Parses argv[1..argc) against options. Prints --help to stdout (OPTIONS_HELP) or a
// one-line error plus the usage line to stderr (OPTIONS_ERROR). Words that are not
// options are rejected unless positionals is non-NULL, which then receives up to
// max_positionals of them and their count.
int options_parse(int argc, char **argv, const char *usage, const Option *options, int n_options,
                  const char **positionals, int max_positionals, int *n_positionals);

// 1 when argv[1..argc) spells the option name ("--lr" or "--lr=..."), whatever its value.
int option_given(int argc, char **argv, const char *name);
// The value of option name ("--name V" or "--name=V") in argv[1..argc), or NULL: for commands
// that choose their parser by one option before parsing.
const char *option_value(int argc, char **argv, const char *name);

// The shared way to fail: "groundup: <command>: <message>" on stderr, returns 1 (exit status).
int fail(const char *command, const char *message);

#endif
