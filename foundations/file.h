// Files written safely and read exactly. A writer never leaves a half file under the final
// name: it writes "<path>.tmp.<pid>" and renames it over the target only once everything
// is written and flushed, so an interrupted or failed save keeps whatever was there.
// Also: reading a whole file, and creating a directory with its parents (mkdir -p).
#ifndef FOUNDATIONS_FILE_H
#define FOUNDATIONS_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "foundations/error.h"

typedef struct SafeFile {
    FILE *file;
    char final_path[1024];
    char temp_path[1100];
} SafeFile;

// Opens the temporary file for writing. Errors: "<path>: cannot create: <reason>".
int safe_file_open(SafeFile *out, const char *path, Error *error);
// Flushes, closes and renames into place; on any failure removes the temporary file.
int safe_file_commit(SafeFile *out, Error *error);
// Abandons the write: closes and removes the temporary file.
void safe_file_abort(SafeFile *out);

// Reads exactly n bytes or fails with "<path>: truncated ..." naming what was being read.
int read_exact(FILE *file, void *buffer, size_t n, const char *path, const char *what, Error *error);
// The file's size in bytes, or -1 (with error) if it cannot be determined.
long file_size(FILE *file, const char *path, Error *error);

// Reads the whole file at path into *data (malloc'd, n bytes plus a terminating 0 byte not
// counted in n, so text can be used as a string). Errors: "<path>: cannot open: <reason>",
// "<path>: cannot read: <reason>", out of memory.
int file_read_all(const char *path, unsigned char **data, size_t *n, Error *error);
// The same for an open stream (standard input, say), read to its end; name is for errors.
int file_read_stream(FILE *file, const char *name, unsigned char **data, size_t *n, Error *error);

// mkdir -p: creates path and its missing parents (mode 0777 before the umask); an existing
// directory is fine. Errors: "<the part that failed>: cannot create directory: <reason>".
int make_directories(const char *path, Error *error);

#endif
