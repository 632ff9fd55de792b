// What every harness shares. The readers take paths, so each harness writes the fuzzer's
// bytes to a file of its own process (/tmp/groundup-fuzz-<pid>-<name>, removed at exit) and
// reads that; a reader that fails must say so the project's way, which fuzz_check_error
// enforces by aborting (a crash libFuzzer reports) when the message is empty, longer than
// one line, or does not name the file.
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "foundations/error.h"

enum { FUZZ_MAX_PATHS = 2 };
static char fuzz_paths[FUZZ_MAX_PATHS][128];
static int fuzz_n_paths;

static void fuzz_remove_files(void) {
    for (int i = 0; i < fuzz_n_paths; i++) unlink(fuzz_paths[i]);
}

// This process's file called name (slot 0 or 1), created on first use and removed at exit.
static inline const char *fuzz_path(int slot, const char *name) {
    if (fuzz_paths[slot][0] == '\0') {
        const char *directory = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(fuzz_paths[slot], sizeof fuzz_paths[slot], "%s/groundup-fuzz-%ld-%s", directory, (long)getpid(),
                 name);
        if (fuzz_n_paths == 0) atexit(fuzz_remove_files);
        fuzz_n_paths = slot + 1 > fuzz_n_paths ? slot + 1 : fuzz_n_paths;
    }
    return fuzz_paths[slot];
}

// Writes data[size] to the file; a failure here is the machine's, not the reader's.
static inline void fuzz_write(const char *path, const uint8_t *data, size_t size) {
    FILE *file = fopen(path, "wb");
    if (!file || (size && fwrite(data, 1, size, file) != size) || fclose(file) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        exit(2);
    }
}

// The message of a failed read: one line, not empty, naming `name` (NULL: any).
static inline void fuzz_check_error(const Error *error, const char *name) {
    const char *message = error->message;
    if (message[0] == '\0' || strchr(message, '\n') || (name && !strstr(message, name))) {
        fprintf(stderr, "fuzz: bad error message (want one line naming %s): '%s'\n", name ? name : "-", message);
        abort();
    }
}

// A property that must hold of what a reader accepted (a round trip, a lookup).
static inline void fuzz_require(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "fuzz: %s\n", what);
        abort();
    }
}

#endif
