#include "foundations/hex.h"

static const char DIGITS[] = "0123456789abcdef";

int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long hex_decode(const char *text, size_t n, unsigned char *out) {
    if (n % 2) return -1;
    for (size_t k = 0; k < n; k += 2) {
        int high = hex_value((unsigned char)text[k]), low = hex_value((unsigned char)text[k + 1]);
        if (high < 0 || low < 0) return -1;
        out[k / 2] = (unsigned char)(high * 16 + low);
    }
    return (long)(n / 2);
}

void hex_encode(char *out, const unsigned char *bytes, size_t n) {
    for (size_t k = 0; k < n; k++) {
        out[2 * k] = DIGITS[bytes[k] >> 4];
        out[2 * k + 1] = DIGITS[bytes[k] & 15];
    }
    out[2 * n] = '\0';
}

int hex_write(FILE *file, const unsigned char *bytes, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (putc(DIGITS[bytes[k] >> 4], file) == EOF || putc(DIGITS[bytes[k] & 15], file) == EOF) return -1;
    return 0;
}
