// Errors are values. A library function that can fail on user data returns 0 on success
// and -1 on failure, and fills an Error with one line saying what and where. Only tools/
// prints it. Asserts are kept for programming errors (a NULL that can never be NULL).
#ifndef FOUNDATIONS_ERROR_H
#define FOUNDATIONS_ERROR_H

typedef struct Error {
    char message[512];
} Error;

// Formats the message into error (which may be NULL) and returns -1, so that
// `return error_set(error, "...")` reads as one statement.
int error_set(Error *error, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
