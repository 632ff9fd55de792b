#include "foundations/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(Error *error, const char *format, ...) {
    if (error) {
        va_list args;
        va_start(args, format);
        vsnprintf(error->message, sizeof error->message, format, args);
        va_end(args);
    }
    return -1;
}

int error_prefix(Error *error, const char *format, ...) {
    if (error) {
        char inner[sizeof error->message];
        memcpy(inner, error->message, sizeof inner);
        inner[sizeof inner - 1] = '\0';
        va_list args;
        va_start(args, format);
        int length = vsnprintf(error->message, sizeof error->message, format, args);
        va_end(args);
        if (length >= 0 && (size_t)length < sizeof error->message)
            snprintf(error->message + length, sizeof error->message - (size_t)length, ": %s", inner);
    }
    return -1;
}
