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
        // Then ": " and the callee's message, as much as fits.
        size_t at = length < 0 ? 0 : (size_t)length;
        const char *rest[2] = {": ", inner};
        for (int part = 0; part < 2; part++)
            for (const char *c = rest[part]; *c && at + 1 < sizeof error->message; c++) error->message[at++] = *c;
        if (at < sizeof error->message) error->message[at] = '\0';
    }
    return -1;
}
