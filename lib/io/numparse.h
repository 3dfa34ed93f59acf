/* Fast, exact text-to-double conversion for the record readers (private to lib/io): the common
 * short decimals take an exact shortcut, everything else goes through parse_double. */
#ifndef DYN_IO_NUMPARSE_H
#define DYN_IO_NUMPARSE_H

#include <stddef.h>

/* Converts s[0..len) to a double, with exactly the result of strtod in the C locale (surrounding
 * blanks allowed, as parse_double). Returns 0 for a finite number, 1 for nan/inf (*out set),
 * -1 when the text is not a number. */
int num_parse(const char *s, size_t len, double *out);

#endif
