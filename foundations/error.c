#include "foundations/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

// Messages quote what files hold (a token, a tensor name, a line), which may contain any
// byte: control characters become escapes (\n, \r, \t, \xNN) so that a message stays one
// line on the terminal. Cut at the end when the escapes make it too long.
static void escape_controls(char *message, size_t size) {
    char escaped[sizeof ((Error *)0)->message];
    size_t out = 0;
    for (size_t i = 0; message[i] && out + 1 < sizeof escaped; i++) {
        unsigned char c = (unsigned char)message[i];
        char code[5] = {(char)c, '\0'};
        if (c == '\n') memcpy(code, "\\n", 3);
        else if (c == '\r') memcpy(code, "\\r", 3);
        else if (c == '\t') memcpy(code, "\\t", 3);
        else if (c < 0x20 || c == 0x7f) snprintf(code, sizeof code, "\\x%02x", c);
        size_t n = strlen(code);
        if (out + n + 1 > sizeof escaped) break;
        memcpy(escaped + out, code, n);
        out += n;
    }
    escaped[out] = '\0';
    memcpy(message, escaped, out + 1 <= size ? out + 1 : size);
    message[size - 1] = '\0';
}

int error_set(Error *error, const char *format, ...) {
    if (error) {
        va_list args;
        va_start(args, format);
        vsnprintf(error->message, sizeof error->message, format, args);
        va_end(args);
        escape_controls(error->message, sizeof error->message);
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
        escape_controls(error->message, sizeof error->message);
    }
    return -1;
}
