/* SVM kernels (linear, RBF, polynomial, sigmoid) and a byte-budgeted LRU cache of kernel-matrix
 * rows over a data set whose row order the SMO solver permutes as it shrinks. */
#ifndef DYN_CORE_KERNEL_H
#define DYN_CORE_KERNEL_H

#include <stddef.h>

enum kernel_type { KERNEL_LINEAR, KERNEL_RBF, KERNEL_POLY, KERNEL_SIGMOID };

struct kernel {
	enum kernel_type type;
	double gamma, coef0;
	int degree;
};

/* K(x, z) for two vectors of length d (slow path: one pair). */
double kernel_eval(const struct kernel *k, const double *x, const double *z, size_t d);

/* Applies the kernel function elementwise to n dot products dot[i] = x.z_i, in place; for RBF
 * it needs xsq = ||x||^2 and zsq[i] = ||z_i||^2 (ignored otherwise). */
void kernel_from_dots(const struct kernel *k, double xsq, const double *zsq, double *dot, size_t n);

/* Rows of Q, Q[i][j] = s_i s_j K(x_i, x_j) (s = +-1 signs, or all +1), computed on demand
 * with BLAS and kept in single precision (like libsvm) in an LRU cache of a fixed byte budget.
 * The cache owns a copy of X so that kcache_swap can keep the active rows contiguous. Heap
 * object: kcache_new / kcache_free. */
struct kcache;

/* X is n x d row-major, s is NULL or n signs; both copied. budget in bytes (raised to at least
 * two full rows so that the two rows of one SMO step always fit together). */
struct kcache *kcache_new(const struct kernel *k, const double *X, const signed char *s, size_t n,
			  size_t d, size_t budget);
void kcache_free(struct kcache **c);

/* Row i of Q over positions [0, len): valid until the next call that computes a row other than
 * the two most recently used. Owned by the cache. */
const float *kcache_row(struct kcache *c, size_t i, size_t len);

/* Q[i][i] for every position (owned by the cache, permuted by kcache_swap). */
const double *kcache_diag(const struct kcache *c);

/* Exchanges positions i and j (data rows, signs, diagonal and cached entries). */
void kcache_swap(struct kcache *c, size_t i, size_t j);

/* Rows computed so far (cache misses), for statistics. */
size_t kcache_misses(const struct kcache *c);

#endif
