// Errors are values. A library function that can fail on user data returns 0 on success
// and -1 on failure, and fills an Error with one line saying what and where. Only tools/
// prints it. Asserts are kept for programming errors (a NULL that can never be NULL).
// Control characters in a message (quoted from a file) are escaped: it is always one line.
#ifndef FOUNDATIONS_ERROR_H
#define FOUNDATIONS_ERROR_H

typedef struct Error {
    char message[512];
} Error;

// Formats the message into error (which may be NULL) and returns -1, so that
// `return error_set(error, "...")` reads as one statement.
int error_set(Error *error, const char *format, ...) __attribute__((format(printf, 2, 3)));

// Puts a prefix and ": " before the message already in error (which may be NULL) and
// returns -1: a caller that knows where (a path, a line) adds it to what a callee said,
//   if (parse(text, error)) return error_prefix(error, "%s line %d", path, line);
// gives "tokens.txt line 3: <the callee's message>". Too long a result is cut at the end.
int error_prefix(Error *error, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
