#include "foundations/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "foundations/array.h"

int safe_file_open(SafeFile *out, const char *path, Error *error) {
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->final_path) return error_set(error, "%s: path too long", path);
    snprintf(out->final_path, sizeof out->final_path, "%s", path);
    snprintf(out->temp_path, sizeof out->temp_path, "%s.tmp.%ld", path, (long)getpid());
    out->file = fopen(out->temp_path, "wb");
    if (!out->file) return error_set(error, "%s: cannot create: %s", path, strerror(errno));
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

int file_read_stream(FILE *file, const char *name, unsigned char **data, size_t *n, Error *error) {
    *data = NULL;
    *n = 0;
    // Read into a growing buffer until a read comes back short (the end, or an error),
    // keeping one byte free for the terminating 0.
    unsigned char *buffer = NULL;
    size_t capacity = 0, used = 0;
    for (;;) {
        if (array_reserve(&buffer, &capacity, used + (1 << 16) + 1, 1)) {
            free(buffer);
            return error_set(error, "%s: out of memory reading it", name);
        }
        size_t wanted = capacity - 1 - used, got = fread(buffer + used, 1, wanted, file);
        used += got;
        if (got < wanted) break;
    }
    if (ferror(file)) {
        int saved_errno = errno;
        free(buffer);
        return error_set(error, "%s: cannot read: %s", name, strerror(saved_errno));
    }
    buffer[used] = 0;
    *data = buffer;
    *n = used;
    return 0;
}

int file_read_all(const char *path, unsigned char **data, size_t *n, Error *error) {
    *data = NULL;
    *n = 0;
    FILE *file = fopen(path, "rb");
    if (!file) return error_set(error, "%s: cannot open: %s", path, strerror(errno));
    int status = file_read_stream(file, path, data, n, error);
    fclose(file);
    return status;
}

int make_directories(const char *path, Error *error) {
    char buffer[1024];
    if (!*path) return error_set(error, "make_directories: empty path");
    if (strlen(path) >= sizeof buffer) return error_set(error, "%s: path too long", path);
    snprintf(buffer, sizeof buffer, "%s", path);
    // Each prefix that ends at a '/' (or the whole path), in order: "a", "a/b", "a/b/c".
    for (char *p = buffer + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buffer, 0777) != 0 && errno != EEXIST)
                return error_set(error, "%s: cannot create directory: %s", buffer, strerror(errno));
            *p = saved;
            if (saved == '\0') break;
        }
    }
    return 0;
}
