// Hexadecimal text for bytes: two digits a byte, high nibble first ("Hi" <-> "4869").
// Writers use lowercase; readers accept both cases.
#ifndef FOUNDATIONS_HEX_H
#define FOUNDATIONS_HEX_H

#include <stddef.h>
#include <stdio.h>

// The value of one hex digit ('0'..'9', 'a'..'f', 'A'..'F'), or -1 for any other character.
int hex_value(int c);
// text (n digits) -> out (n/2 bytes). Returns the byte count, or -1 if n is odd or a
// character is not a hex digit.
long hex_decode(const char *text, size_t n, unsigned char *out);
// bytes (n) -> out (2n digits and a terminating 0: out must hold 2n + 1 chars).
void hex_encode(char *out, const unsigned char *bytes, size_t n);
// bytes (n) -> 2n digits written to file. Returns 0, or -1 on a write error (errno set).
int hex_write(FILE *file, const unsigned char *bytes, size_t n);

#endif
