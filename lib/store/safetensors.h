/* The safetensors file format (8-byte little-endian header length, JSON header, raw data),
 * as read by Python's safetensors package: the format of every model file in the store. */
#ifndef DYN_STORE_SAFETENSORS_H
#define DYN_STORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/err.h"
#include "base/sha256.h"
#include "base/strbuf.h"

enum st_dtype { ST_F64, ST_F32, ST_I64, ST_I32, ST_U8 };

#define ST_MAX_DIMS 4

struct st_tensor {
	char *name;
	enum st_dtype dtype;
	size_t ndim;
	size_t shape[ST_MAX_DIMS];
	const void *data; /* element data in host order */
	size_t nbytes;	  /* product of shape times element size */
	void *own;	  /* data when the st_file owns it (frees it), NULL when borrowed */
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

/* Adds a tensor that borrows data (the product of shape elements of dtype): nothing is copied,
 * so data must stay valid and unchanged until f is released (a model's own arrays, saved while
 * the model lives). Names are unique; adding an existing name replaces it. */
void st_add(struct st_file *f, const char *name, enum st_dtype dtype, size_t ndim,
	    const size_t *shape, const void *data);
/* The same for data made for the file (malloc'ed memory): f takes it and frees it. */
void st_add_owned(struct st_file *f, const char *name, enum st_dtype dtype, size_t ndim,
		  const size_t *shape, void *data);
/* Adds or replaces a metadata entry (both strings copied). */
void st_set_meta(struct st_file *f, const char *key, const char *val);
/* Returns the metadata value or NULL; the string is owned by f. */
const char *st_get_meta(const struct st_file *f, const char *key);

/* Whether f has a tensor of that name. */
int st_has(const struct st_file *f, const char *name);
/* Looks up a tensor that must have the given dtype and ndim (shape returned in the tensor);
 * returns NULL and sets e (naming the tensor) otherwise. Data owned by f. */
const struct st_tensor *st_get(const struct st_file *f, const char *name, enum st_dtype dtype,
			       size_t ndim, struct err *e);

/* Takes the data of tensor t of f: returns memory owned by the caller (free), the tensor's own
 * allocation when f has one (no copy; t then borrows it), else a copy. */
void *st_take(struct st_file *f, const struct st_tensor *t);

/* The bytes of f's file (tensors sorted by name, data 8-byte aligned) as pieces to write in
 * order, without copying the tensors: iov[0] is the length and header (owned by the image),
 * the others borrow the tensors' data from f, which must outlive the image.
 * Embedded value: st_image_init / st_image_release. */
struct st_image {
	struct iovec *iov;
	size_t niov;
	size_t len; /* total bytes */
	struct strbuf head;
	void **swapped; /* per piece, on big-endian hosts: the little-endian copy it points to */
};

void st_image_init(struct st_image *img, const struct st_file *f);
void st_image_release(struct st_image *img);

/* Serializes f (its st_image, in one buffer) and appends it to out. */
void st_serialize(const struct st_file *f, struct strbuf *out);
/* Parses a whole file image into f (initialised with st_init; its previous content is
 * released); validates header length, JSON, dtypes, shapes and offsets (no overlap, inside the
 * buffer). On error f is left empty and e says what is wrong. The data is copied: buf may go. */
int st_parse(struct st_file *f, const void *buf, size_t len, struct err *e);
/* The same from the size bytes of an open file, read once, each tensor straight into its own
 * allocation (st_take can keep it); each byte read is also fed to h (when not NULL), so that a
 * caller can check the file's hash without a second pass. Errors of reading say "cannot read". */
int st_read(struct st_file *f, int fd, uint64_t size, struct sha256 *h, struct err *e);

#endif
