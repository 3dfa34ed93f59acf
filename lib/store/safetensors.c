/* The safetensors format: u64 little-endian header length N, N bytes of JSON header (padded with
 * spaces so the data is 8-byte aligned), then the tensors' bytes, contiguous, in name order. */
#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <unistd.h>

#include "base/base.h"
#include "store/json_strict.h"
#include "store/safetensors.h"

/* The Python implementation refuses larger headers; so do we, before allocating anything. */
#define ST_MAX_HEADER (100u * 1000 * 1000)

static const struct {
	const char *name;
	size_t size;
} st_dtypes[] = {
    [ST_F64] = {"F64", 8}, [ST_F32] = {"F32", 4}, [ST_I64] = {"I64", 8},
    [ST_I32] = {"I32", 4}, [ST_U8] = {"U8", 1},
};

static int st_dtype_parse(const char *s, enum st_dtype *out)
{
	size_t i;
	for (i = 0; i < ARRAY_SIZE(st_dtypes); i++) {
		if (!strcmp(s, st_dtypes[i].name)) {
			*out = (enum st_dtype)i;
			return 0;
		}
	}
	return -1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ST_SWAP 1
#else
#define ST_SWAP 0
#endif

/* Converts n bytes of elements of size esize in place between host and little-endian order
 * (the same operation both ways); nothing to do on little-endian hosts. */
static void st_swap(void *p, size_t n, size_t esize)
{
	unsigned char *b = p, c;
	size_t i, k;
	if (!ST_SWAP)
		return;
	for (i = 0; i + esize <= n; i += esize) {
		for (k = 0; k < esize / 2; k++) {
			c = b[i + k];
			b[i + k] = b[i + esize - 1 - k];
			b[i + esize - 1 - k] = c;
		}
	}
}

void st_init(struct st_file *f)
{
	memset(f, 0, sizeof(*f));
}

void st_release(struct st_file *f)
{
	size_t i;
	for (i = 0; i < f->n; i++) {
		free(f->t[i].name);
		free(f->t[i].own);
	}
	free(f->t);
	for (i = 0; i < f->nmeta; i++) {
		free(f->meta_keys[i]);
		free(f->meta_vals[i]);
	}
	free(f->meta_keys);
	free(f->meta_vals);
	st_init(f);
}

static struct st_tensor *st_find(const struct st_file *f, const char *name)
{
	size_t i;
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->t[i].name, name))
			return &f->t[i];
	return NULL;
}

/* Product of the dimensions times the element size, or -1 on overflow. */
static int st_nbytes(enum st_dtype dtype, size_t ndim, const size_t *shape, size_t *out)
{
	size_t n = st_dtypes[dtype].size, i;
	for (i = 0; i < ndim; i++) {
		if (shape[i] && n > SIZE_MAX / shape[i])
			return -1;
		n *= shape[i];
	}
	*out = n;
	return 0;
}

void st_add(struct st_file *f, const char *name, enum st_dtype dtype, size_t ndim,
	    const size_t *shape, const void *data)
{
	struct st_tensor *t = st_find(f, name);
	size_t nbytes = 0;
	int overflow = st_nbytes(dtype, ndim, shape, &nbytes);

	/* Callers name tensors with program constants: these are programming errors. */
	assert(ndim <= ST_MAX_DIMS && (unsigned)dtype < ARRAY_SIZE(st_dtypes));
	assert(strcmp(name, "__metadata__") != 0);
	assert(!overflow);
	(void)overflow;
	if (t) {
		free(t->own);
	} else {
		ALLOC_GROW(f->t, f->n + 1, f->alloc);
		t = &f->t[f->n++];
		t->name = xstrdup(name);
	}
	t->dtype = dtype;
	t->ndim = ndim;
	memset(t->shape, 0, sizeof(t->shape));
	if (ndim)
		memcpy(t->shape, shape, ndim * sizeof(*shape));
	t->nbytes = nbytes;
	t->data = data;
	t->own = NULL;
}

void st_add_owned(struct st_file *f, const char *name, enum st_dtype dtype, size_t ndim,
		  const size_t *shape, void *data)
{
	st_add(f, name, dtype, ndim, shape, data);
	st_find(f, name)->own = data;
}

void *st_take(struct st_file *f, const struct st_tensor *t)
{
	struct st_tensor *mine = &f->t[t - f->t];
	void *p = mine->own;
	if (!p) {
		p = xmalloc(mine->nbytes ? mine->nbytes : 1);
		if (mine->nbytes)
			memcpy(p, mine->data, mine->nbytes);
	}
	mine->own = NULL;
	mine->data = p;
	return p;
}

void st_set_meta(struct st_file *f, const char *key, const char *val)
{
	size_t i;
	for (i = 0; i < f->nmeta; i++) {
		if (!strcmp(f->meta_keys[i], key)) {
			free(f->meta_vals[i]);
			f->meta_vals[i] = xstrdup(val);
			return;
		}
	}
	ALLOC_GROW(f->meta_keys, f->nmeta + 1, f->meta_alloc);
	f->meta_vals = xreallocarray(f->meta_vals, f->meta_alloc, sizeof(*f->meta_vals));
	f->meta_keys[f->nmeta] = xstrdup(key);
	f->meta_vals[f->nmeta] = xstrdup(val);
	f->nmeta++;
}

const char *st_get_meta(const struct st_file *f, const char *key)
{
	size_t i;
	for (i = 0; i < f->nmeta; i++)
		if (!strcmp(f->meta_keys[i], key))
			return f->meta_vals[i];
	return NULL;
}

int st_has(const struct st_file *f, const char *name)
{
	return st_find(f, name) != NULL;
}

const struct st_tensor *st_get(const struct st_file *f, const char *name, enum st_dtype dtype,
			       size_t ndim, struct err *e)
{
	const struct st_tensor *t = st_find(f, name);
	if (!t) {
		err_set(e, DYN_EDATA, "tensor \"%s\" is missing", name);
		return NULL;
	}
	if (t->dtype != dtype) {
		err_set(e, DYN_EDATA, "tensor \"%s\": expected dtype %s, got %s", name,
			st_dtypes[dtype].name, st_dtypes[t->dtype].name);
		return NULL;
	}
	if (t->ndim != ndim) {
		err_set(e, DYN_EDATA, "tensor \"%s\": expected %zu dimensions, got %zu", name, ndim,
			t->ndim);
		return NULL;
	}
	return t;
}

static int st_cmp_name(const void *a, const void *b)
{
	const struct st_tensor *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

void st_image_init(struct st_image *img, const struct st_file *f)
{
	const struct st_tensor **order = xmallocarray(f->n ? f->n : 1, sizeof(*order));
	struct strbuf *hdr = &img->head;
	unsigned char len8[8];
	uint64_t off = 0, hlen;
	size_t i, k;

	for (i = 0; i < f->n; i++)
		order[i] = &f->t[i];
	qsort(order, f->n, sizeof(*order), st_cmp_name);

	/* The 8 bytes of the length go first, filled in once the header is known. */
	strbuf_init(hdr);
	strbuf_add(hdr, "\0\0\0\0\0\0\0\0", 8);
	strbuf_addch(hdr, '{');
	if (f->nmeta) {
		strbuf_adds(hdr, "\"__metadata__\":{");
		for (i = 0; i < f->nmeta; i++) {
			if (i)
				strbuf_addch(hdr, ',');
			store_json_quote(hdr, f->meta_keys[i]);
			strbuf_addch(hdr, ':');
			store_json_quote(hdr, f->meta_vals[i]);
		}
		strbuf_addch(hdr, '}');
	}
	for (i = 0; i < f->n; i++) {
		const struct st_tensor *t = order[i];
		if (i || f->nmeta)
			strbuf_addch(hdr, ',');
		store_json_quote(hdr, t->name);
		strbuf_addf(hdr, ":{\"dtype\":\"%s\",\"shape\":[", st_dtypes[t->dtype].name);
		for (k = 0; k < t->ndim; k++)
			strbuf_addf(hdr, "%s%zu", k ? "," : "", t->shape[k]);
		strbuf_addf(hdr, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
			    (unsigned long long)(off + t->nbytes));
		off += t->nbytes;
	}
	strbuf_addch(hdr, '}');
	/* Spaces are JSON whitespace: padding that every reader skips. */
	while (hdr->len % 8)
		strbuf_addch(hdr, ' ');
	hlen = hdr->len - 8;
	for (k = 0; k < 8; k++)
		len8[k] = (unsigned char)(hlen >> (8 * k));
	memcpy(hdr->buf, len8, 8);

	img->iov = xmallocarray(f->n + 1, sizeof(*img->iov));
	img->swapped = xcalloc(f->n + 1, sizeof(*img->swapped));
	img->iov[0].iov_base = hdr->buf;
	img->iov[0].iov_len = hdr->len;
	img->niov = 1;
	img->len = hdr->len;
	for (i = 0; i < f->n; i++) {
		const struct st_tensor *t = order[i];
		size_t esize = st_dtypes[t->dtype].size;
		struct iovec *v = &img->iov[img->niov];
		if (!t->nbytes)
			continue;
		/* The iovec type has no const; the image only ever reads through it. */
		v->iov_base = (void *)(uintptr_t)t->data;
		if (ST_SWAP && esize > 1) {
			void *le = xmalloc(t->nbytes);
			memcpy(le, t->data, t->nbytes);
			st_swap(le, t->nbytes, esize);
			img->swapped[img->niov] = le;
			v->iov_base = le;
		}
		v->iov_len = t->nbytes;
		img->niov++;
		img->len += t->nbytes;
	}
	free(order);
}

void st_image_release(struct st_image *img)
{
	size_t i;
	for (i = 0; i < img->niov; i++)
		free(img->swapped[i]);
	free(img->swapped);
	free(img->iov);
	strbuf_release(&img->head);
	memset(img, 0, sizeof(*img));
}

void st_serialize(const struct st_file *f, struct strbuf *out)
{
	struct st_image img;
	size_t i;
	st_image_init(&img, f);
	strbuf_grow(out, img.len);
	for (i = 0; i < img.niov; i++)
		strbuf_add(out, img.iov[i].iov_base, img.iov[i].iov_len);
	st_image_release(&img);
}

/* A tensor as described by the header, before its data is copied. */
struct st_desc {
	const char *name;
	uint64_t begin, end;
	size_t index;
};

static int st_cmp_begin(const void *a, const void *b)
{
	const struct st_desc *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

static int st_cmp_desc_name(const void *a, const void *b)
{
	const struct st_desc *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static int st_parse_meta(struct st_file *f, const cJSON *meta, struct err *e)
{
	const cJSON *m;
	if (!cJSON_IsObject(meta))
		return err_set(e, DYN_EDATA,
			       "safetensors header: \"__metadata__\" is not an object");
	cJSON_ArrayForEach(m, meta)
	{
		if (!cJSON_IsString(m))
			return err_set(e, DYN_EDATA,
				       "safetensors header: metadata \"%s\" is not a string",
				       m->string);
		if (st_get_meta(f, m->string))
			return err_set(e, DYN_EDATA,
				       "safetensors header: metadata \"%s\" appears twice",
				       m->string);
		st_set_meta(f, m->string, m->valuestring);
	}
	return 0;
}

/* Reads one tensor's description (dtype, shape, offsets) into f->t[f->n] without data. */
static int st_parse_tensor(struct st_file *f, const cJSON *obj, uint64_t dlen, struct st_desc *d,
			   struct err *e)
{
	const char *name = obj->string;
	const cJSON *dtype = NULL, *shape = NULL, *offs = NULL, *c;
	struct st_tensor t;
	uint64_t v[2];
	size_t i;

	memset(&t, 0, sizeof(t));
	if (!cJSON_IsObject(obj))
		return err_set(e, DYN_EDATA, "safetensors header: tensor \"%s\" is not an object",
			       name);
	cJSON_ArrayForEach(c, obj)
	{
		const cJSON **slot = !strcmp(c->string, "dtype")	  ? &dtype
				     : !strcmp(c->string, "shape")	  ? &shape
				     : !strcmp(c->string, "data_offsets") ? &offs
									  : NULL;
		if (!slot)
			return err_set(e, DYN_EDATA,
				       "safetensors header: tensor \"%s\": unknown field \"%s\"",
				       name, c->string);
		if (*slot)
			return err_set(
			    e, DYN_EDATA,
			    "safetensors header: tensor \"%s\": field \"%s\" appears twice", name,
			    c->string);
		*slot = c;
	}
	if (!dtype || !shape || !offs)
		return err_set(e, DYN_EDATA, "safetensors header: tensor \"%s\": missing \"%s\"",
			       name,
			       !dtype	? "dtype"
			       : !shape ? "shape"
					: "data_offsets");
	if (!cJSON_IsString(dtype) || st_dtype_parse(dtype->valuestring, &t.dtype) < 0)
		return err_set(
		    e, DYN_EDATA,
		    "safetensors header: tensor \"%s\": unsupported dtype%s%s%s (expected "
		    "F64, F32, I64, I32 or U8)",
		    name, cJSON_IsString(dtype) ? " \"" : "",
		    cJSON_IsString(dtype) ? dtype->valuestring : "",
		    cJSON_IsString(dtype) ? "\"" : "");
	if (!cJSON_IsArray(shape))
		return err_set(e, DYN_EDATA,
			       "safetensors header: tensor \"%s\": shape is not an array", name);
	t.ndim = (size_t)cJSON_GetArraySize(shape);
	if (t.ndim > ST_MAX_DIMS)
		return err_set(e, DYN_EDATA,
			       "safetensors header: tensor \"%s\": %zu dimensions (at most %d)",
			       name, t.ndim, ST_MAX_DIMS);
	i = 0;
	cJSON_ArrayForEach(c, shape)
	{
		uint64_t dim;
		if (!store_json_uint(c, &dim) || dim > SIZE_MAX)
			return err_set(e, DYN_EDATA,
				       "safetensors header: tensor \"%s\": shape is not a list of "
				       "non-negative integers",
				       name);
		t.shape[i++] = (size_t)dim;
	}
	if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
	    !store_json_uint(offs->child, &v[0]) || !store_json_uint(offs->child->next, &v[1]))
		return err_set(e, DYN_EDATA,
			       "safetensors header: tensor \"%s\": data_offsets is not a pair of "
			       "non-negative integers",
			       name);
	if (v[0] > v[1] || v[1] > dlen)
		return err_set(
		    e, DYN_EDATA,
		    "safetensors header: tensor \"%s\": data_offsets [%llu, %llu] outside "
		    "the %llu-byte data buffer",
		    name, (unsigned long long)v[0], (unsigned long long)v[1],
		    (unsigned long long)dlen);
	if (st_nbytes(t.dtype, t.ndim, t.shape, &t.nbytes) < 0)
		return err_set(e, DYN_EDATA,
			       "safetensors header: tensor \"%s\": shape is too large", name);
	if (t.nbytes != v[1] - v[0])
		return err_set(
		    e, DYN_EDATA,
		    "safetensors header: tensor \"%s\": its shape and dtype %s make %zu bytes "
		    "but data_offsets [%llu, %llu] hold %llu",
		    name, st_dtypes[t.dtype].name, t.nbytes, (unsigned long long)v[0],
		    (unsigned long long)v[1], (unsigned long long)(v[1] - v[0]));
	d->name = name;
	d->begin = v[0];
	d->end = v[1];
	d->index = f->n;
	ALLOC_GROW(f->t, f->n + 1, f->alloc);
	t.name = xstrdup(name);
	f->t[f->n++] = t;
	return 0;
}

/* Reads the header length from the first 8 bytes of a file of len bytes (at least 8). */
static int st_header_len(const unsigned char *p, uint64_t len, uint64_t *hlen, struct err *e)
{
	size_t i;
	*hlen = 0;
	for (i = 0; i < 8; i++)
		*hlen |= (uint64_t)p[i] << (8 * i);
	if (*hlen > ST_MAX_HEADER)
		return err_set(e, DYN_EDATA, "safetensors: header length %llu is too large",
			       (unsigned long long)*hlen);
	if (*hlen > len - 8)
		return err_set(e, DYN_EDATA,
			       "safetensors: truncated file (header of %llu bytes, file of %llu "
			       "bytes)",
			       (unsigned long long)*hlen, (unsigned long long)len);
	return 0;
}

static int st_too_short(uint64_t len, struct err *e)
{
	return err_set(e, DYN_EDATA,
		       "safetensors: truncated file (%llu bytes, less than the 8-byte header "
		       "length)",
		       (unsigned long long)len);
}

/* Parses the JSON header (hlen bytes, before dlen bytes of data) into nf's metadata and tensor
 * descriptions, without data. *desc (owned by the caller, naming strings of *hdr, which the
 * caller deletes) gets the *nt tensors sorted by their place in the data. */
static int st_parse_header(struct st_file *nf, const char *json, uint64_t hlen, uint64_t dlen,
			   cJSON **hdr, struct st_desc **desc, size_t *nt, struct err *e)
{
	const cJSON *c;
	size_t i;

	*hdr = NULL;
	*desc = NULL;
	*nt = 0;
	if (hlen == 0 || json[0] != '{')
		return err_set(e, DYN_EDATA, "safetensors: header does not start with '{'");
	if (store_json_parse(json, (size_t)hlen, hdr, e) < 0) {
		err_prefix(e, "safetensors header");
		return -1;
	}
	if (!cJSON_IsObject(*hdr))
		return err_set(e, DYN_EDATA, "safetensors header: not a JSON object");
	*desc = xmallocarray((size_t)cJSON_GetArraySize(*hdr) + 1, sizeof(**desc));
	cJSON_ArrayForEach(c, *hdr)
	{
		if (!strcmp(c->string, "__metadata__")) {
			if (st_parse_meta(nf, c, e) < 0)
				return -1;
			continue;
		}
		if (st_parse_tensor(nf, c, dlen, &(*desc)[*nt], e) < 0)
			return -1;
		(*nt)++;
	}
	qsort(*desc, *nt, sizeof(**desc), st_cmp_desc_name);
	for (i = 1; i < *nt; i++)
		if (!strcmp((*desc)[i - 1].name, (*desc)[i].name))
			return err_set(e, DYN_EDATA,
				       "safetensors header: tensor \"%s\" appears twice",
				       (*desc)[i].name);
	qsort(*desc, *nt, sizeof(**desc), st_cmp_begin);
	for (i = 1; i < *nt; i++)
		if ((*desc)[i].begin < (*desc)[i - 1].end)
			return err_set(
			    e, DYN_EDATA,
			    "safetensors header: tensors \"%s\" and \"%s\" overlap in the "
			    "data buffer",
			    (*desc)[i - 1].name, (*desc)[i].name);
	return 0;
}

int st_parse(struct st_file *f, const void *buf, size_t len, struct err *e)
{
	const unsigned char *p = buf;
	struct st_file nf;
	struct st_desc *desc = NULL;
	cJSON *hdr = NULL;
	uint64_t hlen;
	size_t nt = 0, i;
	int ret = -1;

	st_release(f);
	st_init(&nf);
	if (len < 8) {
		st_too_short(len, e);
		goto out;
	}
	if (st_header_len(p, len, &hlen, e) < 0 ||
	    st_parse_header(&nf, (const char *)p + 8, hlen, len - 8 - hlen, &hdr, &desc, &nt, e) <
		0)
		goto out;
	for (i = 0; i < nt; i++) {
		struct st_tensor *t = &nf.t[desc[i].index];
		t->own = xmalloc(t->nbytes ? t->nbytes : 1);
		if (t->nbytes)
			memcpy(t->own, p + 8 + hlen + desc[i].begin, t->nbytes);
		st_swap(t->own, t->nbytes, st_dtypes[t->dtype].size);
		t->data = t->own;
	}
	*f = nf;
	st_init(&nf);
	ret = 0;
out:
	st_release(&nf);
	cJSON_Delete(hdr);
	free(desc);
	return ret;
}

/* Reads exactly n bytes into dst (NULL: into a scratch buffer, for bytes no tensor holds),
 * feeding them to h a chunk at a time, while they are still in the cache. */
static int st_read_full(int fd, void *dst, uint64_t n, struct sha256 *h, struct err *e)
{
	enum { CHUNK = 1 << 20 };
	unsigned char scratch[4096];
	unsigned char *p = dst ? dst : scratch;
	while (n) {
		size_t want = n < CHUNK ? (size_t)n : CHUNK;
		ssize_t r;
		if (!dst && want > sizeof(scratch))
			want = sizeof(scratch);
		r = read(fd, p, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, "cannot read");
		if (r == 0)
			return err_set(e, DYN_EDATA, "cannot read: the file ends early");
		if (h)
			sha256_update(h, p, (size_t)r);
		if (dst)
			p += r;
		n -= (uint64_t)r;
	}
	return 0;
}

int st_read(struct st_file *f, int fd, uint64_t size, struct sha256 *h, struct err *e)
{
	unsigned char len8[8];
	struct st_file nf;
	struct st_desc *desc = NULL;
	cJSON *hdr = NULL;
	char *json = NULL;
	uint64_t hlen, dlen, pos = 0;
	size_t nt = 0, i;
	int ret = -1;

	st_release(f);
	st_init(&nf);
	if (size < 8) {
		st_too_short(size, e);
		goto out;
	}
	if (st_read_full(fd, len8, 8, h, e) < 0 || st_header_len(len8, size, &hlen, e) < 0)
		goto out;
	json = xmalloc((size_t)hlen + 1);
	dlen = size - 8 - hlen;
	if (st_read_full(fd, json, hlen, h, e) < 0 ||
	    st_parse_header(&nf, json, hlen, dlen, &hdr, &desc, &nt, e) < 0)
		goto out;
	for (i = 0; i < nt; i++) {
		struct st_tensor *t = &nf.t[desc[i].index];
		if (st_read_full(fd, NULL, desc[i].begin - pos, h, e) < 0)
			goto out;
		t->own = xmalloc(t->nbytes ? t->nbytes : 1);
		mem_advise_huge(t->own, t->nbytes);
		if (st_read_full(fd, t->own, t->nbytes, h, e) < 0)
			goto out;
		st_swap(t->own, t->nbytes, st_dtypes[t->dtype].size);
		t->data = t->own;
		pos = desc[i].end;
	}
	if (st_read_full(fd, NULL, dlen - pos, h, e) < 0)
		goto out;
	*f = nf;
	st_init(&nf);
	ret = 0;
out:
	st_release(&nf);
	cJSON_Delete(hdr);
	free(desc);
	free(json);
	return ret;
}
