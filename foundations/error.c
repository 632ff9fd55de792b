#include "foundations/error.h"

#include <stdarg.h>
#include <stdio.h>

int error_set(Error *error, const char *format, ...) {
    if (error) {
        va_list args;
        va_start(args, format);
        vsnprintf(error->message, sizeof error->message, format, args);
        va_end(args);
    }
    return -1;
}
