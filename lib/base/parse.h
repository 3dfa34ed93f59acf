/* Number parsing with full checks: the only way dyn turns text into numbers (atoi/atof are banned).
 */
#ifndef DYN_BASE_PARSE_H
#define DYN_BASE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Each returns 0 on success, -1 if s (of length len, or NUL-terminated when len is (size_t)-1)
 * is not entirely a number (surrounding blanks allowed). "nan"/"inf" are rejected unless
 * allow_nonfinite is set. Parsing is in the C locale whatever the environment says. */
int parse_double(const char *s, size_t len, double *out, bool allow_nonfinite);
int parse_long(const char *s, long *out);
int parse_size(const char *s, size_t *out);

#endif
