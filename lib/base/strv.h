/* Vectors of strings: lists of column names, ids, classes. */
#ifndef DYN_BASE_STRV_H
#define DYN_BASE_STRV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct opt;

/* Embedded value: strv_init / strv_release (frees the strings too). */
struct strv {
	char **v; /* v[n] is NULL */
	size_t n, alloc;
};

void strv_init(struct strv *sv);
void strv_release(struct strv *sv);
void strv_push(struct strv *sv, const char *s, size_t len);
/* Appends the sep-separated pieces of s (an empty s adds nothing). */
void strv_split(struct strv *sv, const char *s, char sep);

/* A copy of n strings (caller owns: strv_free). */
char **strv_dup(char *const *v, size_t n);
/* Whether a[0..n) and b[0..n) hold the same strings in the same order. */
bool strv_equal(char *const *a, char *const *b, size_t n);
/* Frees n strings and the array (NULL is fine). */
void strv_free(char **v, size_t n);

/* Option callback for repeatable comma-separated lists (--queue 3,4 --queue 7): appends to the
 * struct strv in the option's cb_data; an empty item is a usage error. */
int strv_opt_list(const struct opt *o, const char *arg, struct err *e);

#endif
