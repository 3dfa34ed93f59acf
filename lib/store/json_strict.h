/* Strict JSON for the store's own files (index.json, safetensors headers): cJSON behind checks
 * it does not make itself (whole input consumed, no NUL bytes, valid UTF-8). Internal to lib/store.
 */
#ifndef DYN_STORE_JSON_STRICT_H
#define DYN_STORE_JSON_STRICT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

struct cJSON;

/* Parses len bytes as one JSON document (surrounding whitespace allowed). *out is owned by the
 * caller (cJSON_Delete). On error e says what is wrong and where ("invalid JSON at line 3"),
 * without naming the file: the caller prefixes it. */
int store_json_parse(const char *buf, size_t len, struct cJSON **out, struct err *e);

/* Appends s as a JSON string literal (quotes included); bytes that are not valid UTF-8 become
 * U+FFFD so that the output always parses. */
void store_json_quote(struct strbuf *sb, const char *s);

/* Appends v pretty-printed: 2-space indent, keys in their order, one member per line except
 * arrays of scalars (on one line), shortest round-trip numbers, a final newline. */
void store_json_print(struct strbuf *sb, const struct cJSON *v);

/* True when v is a JSON number holding an integer in [0, 2^53]: exact in a double. */
int store_json_uint(const struct cJSON *v, uint64_t *out);

#endif
