/* The safetensors file format (8-byte little-endian header length, JSON header, raw data),
 * as read by Python's safetensors package: the format of every model file in the store. */
#ifndef DYN_STORE_SAFETENSORS_H
#define DYN_STORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

enum st_dtype { ST_F64, ST_F32, ST_I64, ST_I32, ST_U8 };

#define ST_MAX_DIMS 4

struct st_tensor {
	char *name;
	enum st_dtype dtype;
	size_t ndim;
	size_t shape[ST_MAX_DIMS];
	void *data;    /* little-endian element data, owned by the st_file */
	size_t nbytes; /* product of shape times element size */
};

/* An in-memory safetensors file: tensors plus the string-to-string "__metadata__" map.
 * Embedded value: st_init / st_release. */
struct st_file {
	struct st_tensor *t;
	size_t n, alloc;
	char **meta_keys, **meta_vals;
	size_t nmeta, meta_alloc;
};

void st_init(struct st_file *f);
void st_release(struct st_file *f);

/* Adds a tensor, copying data (which holds the product of shape elements of dtype).
 * Names are unique; adding an existing name replaces it. */
void st_add(struct st_file *f, const char *name, enum st_dtype dtype, size_t ndim,
	    const size_t *shape, const void *data);
/* Adds or replaces a metadata entry (both strings copied). */
void st_set_meta(struct st_file *f, const char *key, const char *val);
/* Returns the metadata value or NULL; the string is owned by f. */
const char *st_get_meta(const struct st_file *f, const char *key);

/* Looks up a tensor that must have the given dtype and ndim (shape returned in the tensor);
 * returns NULL and sets e (naming the tensor) otherwise. Data owned by f. */
const struct st_tensor *st_get(const struct st_file *f, const char *name, enum st_dtype dtype,
			       size_t ndim, struct err *e);

/* Serializes f (tensors sorted by name, data 8-byte aligned) and appends it to out. */
void st_serialize(const struct st_file *f, struct strbuf *out);
/* Parses a whole file image into f (initialised with st_init; its previous content is
 * released); validates header length, JSON, dtypes, shapes and offsets (no overlap, inside the
 * buffer). On error f is left empty and e says what is wrong. The data is copied: buf may go. */
int st_parse(struct st_file *f, const void *buf, size_t len, struct err *e);

#endif
