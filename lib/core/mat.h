/* Dense row-major matrices of doubles: thin wrappers over OpenBLAS (cblas) and the few loops
 * BLAS cannot express (column statistics, standardization, stable softmax, argsort).
 * Dimensions and leading dimensions must fit in an int (the BLAS interface); callers check
 * with mat_dims_ok before passing data of untrusted size. */
#ifndef DYN_CORE_MAT_H
#define DYN_CORE_MAT_H

#include <stdbool.h>
#include <stddef.h>

/* An array of n doubles (uninitialised) for large working data, placed on transparent huge
 * pages when it spans several of them: first-touch page faults otherwise cost more than the
 * arithmetic (0.7 s for 80 MB on a virtual machine, against 0.04 s). Owned by the caller: free
 * with free(). Aborts on exhaustion like xmalloc. */
double *mat_alloc(size_t n);

/* True when every value fits the 32-bit BLAS integer. */
bool mat_dims_ok(size_t rows, size_t cols);

/* C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k, op(B) is k x n, C is m x n;
 * ta/tb transpose A/B. lda, ldb, ldc are row strides. */
void mat_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, double alpha, const double *A,
	      size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);
/* y = alpha * op(A) * x + beta * y, A is m x n (op(A) = A^T when ta). */
void mat_gemv(bool ta, size_t m, size_t n, double alpha, const double *A, size_t lda,
	      const double *x, double beta, double *y);

/* Column means and population standard deviations (ddof = 0, as scikit-learn's StandardScaler)
 * of the n x d matrix X (row stride ldx). A column that is constant up to rounding gets scale
 * 1, so that standardizing leaves it centred rather than dividing by zero. n > 0. */
void mat_col_stats(const double *X, size_t n, size_t d, size_t ldx, double *mean, double *scale);
/* Z[i][j] = (X[i][j] - mean[j]) / scale[j]; Z and X may have different strides. */
void mat_standardize(double *Z, size_t ldz, const double *X, size_t n, size_t d, size_t ldx,
		     const double *mean, const double *scale);
/* B (n x m) = A^T for A m x n. */
void mat_transpose(double *B, const double *A, size_t m, size_t n);

/* log(1 + exp(z)) without overflow or loss of precision. */
double mat_log1pexp(double z);
/* 1 / (1 + exp(-z)) without overflow. */
double mat_sigmoid(double z);
/* log(sum exp(v[i])) for k > 0 values, shifting by the maximum. */
double mat_logsumexp(const double *v, size_t k);
/* Replaces each of the n rows of S (k columns, stride ld) by its softmax; stores each row's
 * log-sum-exp in lse[i] when lse is not NULL. */
void mat_softmax_rows(double *S, size_t n, size_t k, size_t ld, double *lse);

/* idx[0..n) = the permutation sorting v ascending; stable (ties keep index order). NaNs sort
 * last. */
void mat_argsort(const double *v, size_t n, size_t *idx);

#endif
