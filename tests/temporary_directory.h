// A temporary directory for a test's files: created under /tmp at the start, removed with
// everything in it at the end, and paths inside it.
#ifndef TESTS_TEMPORARY_DIRECTORY_H
#define TESTS_TEMPORARY_DIRECTORY_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char temporary_directory[96];

// Creates /tmp/groundup_<test>_XXXXXX; exits the test when it cannot.
static inline void temporary_directory_create(const char *test) {
    snprintf(temporary_directory, sizeof temporary_directory, "/tmp/groundup_%s_XXXXXX", test);
    if (!mkdtemp(temporary_directory)) {
        fprintf(stderr, "%s: cannot create a temporary directory\n", test);
        exit(1);
    }
}

// "<directory>/<name>"; the last four results stay valid.
static inline const char *temporary_path(const char *name) {
    static char paths[4][256];
    static int next = 0;
    next = (next + 1) % 4;
    snprintf(paths[next], sizeof paths[next], "%s/%s", temporary_directory, name);
    return paths[next];
}

static inline void temporary_directory_remove(void) {
    char command[160];
    snprintf(command, sizeof command, "rm -rf '%s'", temporary_directory);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", temporary_directory);
}

#endif
