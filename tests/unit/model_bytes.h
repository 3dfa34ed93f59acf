/* Test helpers: a model to the bytes of its file and back, through model_save / model_load and
 * the in-memory safetensors functions (the store streams the same bytes). */
#ifndef DYN_TESTS_MODEL_BYTES_H
#define DYN_TESTS_MODEL_BYTES_H

#include "models/model.h"
#include "store/safetensors.h"

/* *buf owned by the caller (free), set even on error. */
static inline int model_to_bytes(const struct model *m, void **buf, size_t *len, struct err *e)
{
	struct st_file f;
	struct strbuf sb = STRBUF_INIT;
	int r;
	st_init(&f);
	r = model_save(m, &f, e);
	if (r == 0)
		st_serialize(&f, &sb);
	st_release(&f);
	*buf = strbuf_detach(&sb, len);
	return r;
}

static inline int model_from_bytes(struct model **out, const void *buf, size_t len,
				   const char *where, struct err *e)
{
	struct st_file f;
	int r;
	st_init(&f);
	r = st_parse(&f, buf, len, e);
	if (r < 0)
		err_prefix(e, "%s", where);
	else
		r = model_load(out, &f, where, e);
	st_release(&f);
	return r;
}

#endif
