#include "foundations/file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int safe_file_open(SafeFile *out, const char *path, Error *error) {
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->final_path) return error_set(error, "%s: path too long", path);
    snprintf(out->final_path, sizeof out->final_path, "%s", path);
    snprintf(out->temp_path, sizeof out->temp_path, "%s.tmp.%ld", path, (long)getpid());
    out->file = fopen(out->temp_path, "wb");
    if (!out->file) return error_set(error, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int safe_file_commit(SafeFile *out, Error *error) {
    int failed = ferror(out->file) || fflush(out->file) != 0;
    int saved_errno = errno;
    if (fclose(out->file) != 0) failed = 1, saved_errno = errno;
    out->file = NULL;
    if (failed) {
        remove(out->temp_path);
        return error_set(error, "%s: write failed: %s", out->final_path, strerror(saved_errno));
    }
    if (rename(out->temp_path, out->final_path) != 0) {
        saved_errno = errno;
        remove(out->temp_path);
        return error_set(error, "%s: cannot rename into place: %s", out->final_path, strerror(saved_errno));
    }
    return 0;
}

void safe_file_abort(SafeFile *out) {
    if (out->file) fclose(out->file);
    out->file = NULL;
    remove(out->temp_path);
}

int read_exact(FILE *file, void *buffer, size_t n, const char *path, const char *what, Error *error) {
    if (n == 0) return 0;
    size_t got = fread(buffer, 1, n, file);
    if (got != n) return error_set(error, "%s: truncated: %s needs %zu bytes, only %zu left", path, what, n, got);
    return 0;
}

long file_size(FILE *file, const char *path, Error *error) {
    long here = ftell(file);
    if (here < 0 || fseek(file, 0, SEEK_END) != 0) return error_set(error, "%s: cannot seek", path);
    long size = ftell(file);
    if (size < 0 || fseek(file, here, SEEK_SET) != 0) return error_set(error, "%s: cannot seek", path);
    return size;
}
