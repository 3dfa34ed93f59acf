/* Read access to JSON documents for cmd/, which holds cJSON documents only as opaque pointers
 * (third-party headers stay behind lib/). Paths are dot-separated keys: "metrics.accuracy". */
#ifndef DYN_IO_DOC_H
#define DYN_IO_DOC_H

#include <stddef.h>

struct cJSON;

/* The item at path, or NULL. Borrowed from doc. */
const struct cJSON *doc_get(const struct cJSON *doc, const char *path);
/* The string at path, or NULL (also when it is not a string). */
const char *doc_str(const struct cJSON *doc, const char *path);
/* The number at path, or NaN. */
double doc_num(const struct cJSON *doc, const char *path);
/* Elements of the array at path (0 if not an array); the i-th element, or NULL. */
size_t doc_len(const struct cJSON *doc, const char *path);
const struct cJSON *doc_at(const struct cJSON *doc, const char *path, size_t i);
/* The name of the i-th key of the object at path, or NULL past the last (or not an object). */
const char *doc_key(const struct cJSON *doc, const char *path, size_t i);
/* Removes the item at path from its parent and returns it (caller owns: doc_free), or NULL. */
struct cJSON *doc_detach(struct cJSON *doc, const char *path);
void doc_free(struct cJSON *doc);

#endif
