/* SVM kernels and the LRU cache of kernel-matrix rows used by the SMO solver (see kernel.h).
 * A row is one dgemv of the active data rows against x_i, then the kernel function. */
#include "base/blas.h"
#include <math.h>

#include "core/kernel.h"

#include "base/base.h"

/* x^n by squaring: exact for the small integer degrees of the polynomial kernel. */
static double powi(double x, int n)
{
	double r = 1.0;
	for (; n > 0; n >>= 1, x *= x)
		if (n & 1)
			r *= x;
	return r;
}

double kernel_eval(const struct kernel *k, const double *x, const double *z, size_t d)
{
	double dot = cblas_ddot((int)d, x, 1, z, 1);
	if (k->type == KERNEL_RBF) {
		double xsq = cblas_ddot((int)d, x, 1, x, 1), zsq = cblas_ddot((int)d, z, 1, z, 1);
		kernel_from_dots(k, xsq, &zsq, &dot, 1);
	} else {
		kernel_from_dots(k, 0, NULL, &dot, 1);
	}
	return dot;
}

void kernel_from_dots(const struct kernel *k, double xsq, const double *zsq, double *dot, size_t n)
{
	double g = k->gamma, c0 = k->coef0;
	switch (k->type) {
	case KERNEL_LINEAR:
		break;
	case KERNEL_RBF:
		for (size_t i = 0; i < n; i++)
			dot[i] = exp(-g * (xsq + zsq[i] - 2 * dot[i]));
		break;
	case KERNEL_POLY:
		for (size_t i = 0; i < n; i++)
			dot[i] = powi(g * dot[i] + c0, k->degree);
		break;
	case KERNEL_SIGMOID:
		for (size_t i = 0; i < n; i++)
			dot[i] = tanh(g * dot[i] + c0);
		break;
	}
}

#define KC_GEMV_ELEMS 8192

struct kc_head {
	float *data;
	size_t len;	   /* entries [0, len) are valid */
	size_t prev, next; /* LRU list of rows holding data; index n is the sentinel */
};

struct kcache {
	struct kernel k;
	size_t n, d;
	double *X, *sq, *diag, *dots;
	signed char *s;
	struct kc_head *h; /* n + 1 (sentinel last) */
	size_t avail;	   /* floats still allowed */
	size_t misses;
};

static void lru_unlink(struct kcache *c, size_t i)
{
	c->h[c->h[i].prev].next = c->h[i].next;
	c->h[c->h[i].next].prev = c->h[i].prev;
}

/* Inserts i as the most recently used row. */
static void lru_push(struct kcache *c, size_t i)
{
	size_t sent = c->n;
	c->h[i].next = sent;
	c->h[i].prev = c->h[sent].prev;
	c->h[c->h[sent].prev].next = i;
	c->h[sent].prev = i;
}

struct kcache *kcache_new(const struct kernel *k, const double *X, const signed char *s, size_t n,
			  size_t d, size_t budget)
{
	struct kcache *c = xcalloc(1, sizeof(*c));
	c->k = *k;
	c->n = n;
	c->d = d;
	c->X = xmallocarray(n * d + 1, sizeof(double));
	memcpy(c->X, X, n * d * sizeof(double));
	c->s = xmallocarray(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++)
		c->s[i] = s ? s[i] : 1;
	c->sq = xmallocarray(n + 1, sizeof(double));
	c->diag = xmallocarray(n + 1, sizeof(double));
	c->dots = xmallocarray(n + 1, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		const double *x = c->X + i * d;
		c->sq[i] = cblas_ddot((int)d, x, 1, x, 1);
		double v = c->sq[i];
		kernel_from_dots(k, c->sq[i], &c->sq[i], &v, 1);
		c->diag[i] = v;
	}
	c->h = xcalloc(n + 1, sizeof(*c->h));
	c->h[n].prev = c->h[n].next = n;
	size_t floats = budget / sizeof(float);
	c->avail = floats > 2 * n ? floats : 2 * n;
	return c;
}

void kcache_free(struct kcache **cp)
{
	struct kcache *c = *cp;
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->h[i].data);
	free(c->h);
	free(c->X);
	free(c->s);
	free(c->sq);
	free(c->diag);
	free(c->dots);
	free(c);
	*cp = NULL;
}

const double *kcache_diag(const struct kcache *c)
{
	return c->diag;
}

size_t kcache_misses(const struct kcache *c)
{
	return c->misses;
}

/* Fills row i over [start, len). */
static void compute_row(struct kcache *c, size_t i, size_t start, size_t len, float *out)
{
	size_t m = len - start, d = c->d;
	double *dots = c->dots + start;
	const double *xi = c->X + i * d;
	/* In slices small enough for OpenBLAS to run each on the calling thread (it threads a
	 * gemv of 9216 elements or more): waking its threads for a few thousand multiply-adds
	 * costs more than it saves, and fits already run their solvers in parallel. */
	size_t slice = d > 0 && d < KC_GEMV_ELEMS ? KC_GEMV_ELEMS / d : 1;
	if (d == 0)
		memset(dots, 0, m * sizeof(double));
	for (size_t r = 0; d > 0 && r < m; r += slice) {
		size_t mr = m - r < slice ? m - r : slice;
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)mr, (int)d, 1.0,
			    c->X + (start + r) * d, (int)d, xi, 1, 0.0, dots + r, 1);
	}
	kernel_from_dots(&c->k, c->sq[i], c->sq + start, dots, m);
	const signed char *s = c->s + start;
	if (c->s[i] > 0) {
		for (size_t j = 0; j < m; j++)
			out[start + j] = (float)(s[j] * dots[j]);
	} else {
		for (size_t j = 0; j < m; j++)
			out[start + j] = (float)(-s[j] * dots[j]);
	}
}

const float *kcache_row(struct kcache *c, size_t i, size_t len)
{
	struct kc_head *h = &c->h[i];
	if (h->len)
		lru_unlink(c, i);
	if (h->len < len) {
		size_t more = len - h->len;
		while (c->avail < more) {
			size_t old = c->h[c->n].next;
			lru_unlink(c, old);
			FREE_AND_NULL(c->h[old].data);
			c->avail += c->h[old].len;
			c->h[old].len = 0;
		}
		h->data = xreallocarray(h->data, len, sizeof(float));
		c->avail -= more;
		size_t start = h->len;
		h->len = len;
		compute_row(c, i, start, len, h->data);
		c->misses++;
	}
	lru_push(c, i);
	return h->data;
}

#define SWAP(T, a, b)                                                                              \
	do {                                                                                       \
		T swap_tmp_ = (a);                                                                 \
		(a) = (b);                                                                         \
		(b) = swap_tmp_;                                                                   \
	} while (0)

/* Exchanges the positions' data and cache heads, not yet the entries inside cached rows. */
static void swap_heads(struct kcache *c, size_t i, size_t j)
{
	size_t d = c->d;
	for (size_t t = 0; t < d; t++)
		SWAP(double, c->X[i * d + t], c->X[j * d + t]);
	SWAP(double, c->sq[i], c->sq[j]);
	SWAP(double, c->diag[i], c->diag[j]);
	SWAP(signed char, c->s[i], c->s[j]);
	if (c->h[i].len)
		lru_unlink(c, i);
	if (c->h[j].len)
		lru_unlink(c, j);
	SWAP(float *, c->h[i].data, c->h[j].data);
	SWAP(size_t, c->h[i].len, c->h[j].len);
	if (c->h[i].len)
		lru_push(c, i);
	if (c->h[j].len)
		lru_push(c, j);
}

void kcache_swap_many(struct kcache *c, const size_t *pairs, size_t npairs)
{
	for (size_t q = 0; q < npairs; q++)
		if (pairs[2 * q] != pairs[2 * q + 1])
			swap_heads(c, pairs[2 * q], pairs[2 * q + 1]);
	/* Every cached row covering position i must swap its entries i and j; one that covers i
	 * but not j cannot be fixed cheaply and is dropped. All swaps are applied to one row
	 * before the next (the row stays in cache), which gives the same rows as applying them
	 * one by one to all rows. */
	for (size_t r = c->h[c->n].next; r != c->n;) {
		size_t next = c->h[r].next;
		struct kc_head *h = &c->h[r];
		for (size_t q = 0; q < npairs; q++) {
			size_t i = pairs[2 * q], j = pairs[2 * q + 1];
			if (i > j)
				SWAP(size_t, i, j);
			if (i == j || h->len <= i)
				continue;
			if (h->len > j) {
				SWAP(float, h->data[i], h->data[j]);
				continue;
			}
			lru_unlink(c, r);
			FREE_AND_NULL(h->data);
			c->avail += h->len;
			h->len = 0;
			break;
		}
		r = next;
	}
}

void kcache_swap(struct kcache *c, size_t i, size_t j)
{
	size_t p[2] = {i, j};
	kcache_swap_many(c, p, 1);
}
