/* A string-to-index map (open addressing): interning labels, column names, ids. */
#ifndef DYN_BASE_STRMAP_H
#define DYN_BASE_STRMAP_H

#include <stddef.h>

/* Embedded value: strmap_init / strmap_release. Keys are copied and owned by the map; they are
 * numbered 0, 1, 2... in insertion order. */
struct strmap {
	char **keys; /* by index */
	size_t n, keys_alloc;
	size_t *slots; /* index + 1, 0 = empty */
	size_t nslots;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Index of key, or (size_t)-1. */
size_t strmap_get(const struct strmap *m, const char *key, size_t len);
/* Index of key, inserting it if new. */
size_t strmap_intern(struct strmap *m, const char *key, size_t len);

#endif
