/* Dense matrix helpers over OpenBLAS: GEMM/GEMV wrappers, column statistics, standardization,
 * numerically stable log-sum-exp and softmax, stable argsort. */
#include "base/blas.h"
#include <float.h>
#include <limits.h>
#include <math.h>
#include <sys/mman.h>

#include "base/base.h"
#include "core/mat.h"

#define HUGE_PAGE ((size_t)2 << 20)

double *mat_alloc(size_t n)
{
	size_t bytes;
	void *p = NULL;

	if (n > SIZE_MAX / sizeof(double) - HUGE_PAGE)
		return xmallocarray(n, sizeof(double)); /* let it report the overflow */
	bytes = n * sizeof(double);
	if (bytes < 2 * HUGE_PAGE)
		return xmallocarray(n ? n : 1, sizeof(double));
	bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
		return xmallocarray(n, sizeof(double));
	mem_advise_huge(p, bytes);
	return p;
}

bool mat_dims_ok(size_t rows, size_t cols)
{
	return rows <= INT_MAX && cols <= INT_MAX;
}

void mat_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, double alpha, const double *A,
	      size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
	if (m == 0 || n == 0)
		return;
	if (k == 0) {
		/* BLAS would leave C untouched for k = 0 only with beta = 1. */
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < n; j++)
				C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
		return;
	}
	cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void mat_gemv(bool ta, size_t m, size_t n, double alpha, const double *A, size_t lda,
	      const double *x, double beta, double *y)
{
	size_t ylen = ta ? n : m;

	if (ylen == 0)
		return;
	if ((ta ? m : n) == 0) {
		for (size_t i = 0; i < ylen; i++)
			y[i] = beta == 0 ? 0 : beta * y[i];
		return;
	}
	cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, (int)m, (int)n, alpha, A,
		    (int)lda, x, 1, beta, y, 1);
}

void mat_col_stats(const double *X, size_t n, size_t d, size_t ldx, double *mean, double *scale)
{
	double *restrict var = scale;

	if (d == 0)
		return;
	/* Hand loops rather than BLAS: a threaded GEMV would sum in an order that depends on
	 * the thread count, and fits must not. Two passes (means, then centred squares)
	 * because the one-pass formula cancels badly when |mean| >> std. */
	memset(mean, 0, d * sizeof(*mean));
	for (size_t i = 0; i < n; i++) {
		const double *restrict x = X + i * ldx;
		double *restrict mu = mean;
		for (size_t j = 0; j < d; j++)
			mu[j] += x[j];
	}
	for (size_t j = 0; j < d; j++)
		mean[j] /= (double)n;
	memset(var, 0, d * sizeof(*var));
	for (size_t i = 0; i < n; i++) {
		const double *restrict x = X + i * ldx;
		const double *restrict mu = mean;
		for (size_t j = 0; j < d; j++) {
			double c = x[j] - mu[j];
			var[j] += c * c;
		}
	}
	for (size_t j = 0; j < d; j++) {
		double v = var[j] / (double)n;
		/* A bound on the rounding error of the variance of a constant column (the test
		 * scikit-learn uses): below it the column is treated as constant. */
		double ne = (double)n * DBL_EPSILON;
		double bound = ne * v + (ne * mean[j]) * (ne * mean[j]);
		if (!isfinite(v) || !isfinite(mean[j]))
			scale[j] = INFINITY; /* overflow or non-finite input: let callers see it */
		else
			scale[j] = v <= bound ? 1.0 : sqrt(v);
	}
}

void mat_standardize(double *Z, size_t ldz, const double *X, size_t n, size_t d, size_t ldx,
		     const double *mean, const double *scale)
{
	double *inv = xmallocarray(d ? d : 1, sizeof(*inv));

	for (size_t j = 0; j < d; j++)
		inv[j] = 1.0 / scale[j];
	for (size_t i = 0; i < n; i++) {
		const double *restrict x = X + i * ldx;
		const double *restrict mu = mean, *restrict iv = inv;
		double *restrict z = Z + i * ldz;
		for (size_t j = 0; j < d; j++)
			z[j] = (x[j] - mu[j]) * iv[j];
	}
	free(inv);
}

void mat_transpose(double *B, const double *A, size_t m, size_t n)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			B[j * m + i] = A[i * n + j];
}

double mat_log1pexp(double z)
{
	if (z > 0)
		return z + log1p(exp(-z));
	return log1p(exp(z));
}

double mat_sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	double e = exp(z);
	return e / (1.0 + e);
}

double mat_logsumexp(const double *v, size_t k)
{
	double mx = v[0], s = 0;

	for (size_t j = 1; j < k; j++)
		if (v[j] > mx)
			mx = v[j];
	if (isinf(mx))
		return mx;
	for (size_t j = 0; j < k; j++)
		s += exp(v[j] - mx);
	return mx + log(s);
}

void mat_softmax_rows(double *S, size_t n, size_t k, size_t ld, double *lse)
{
	for (size_t i = 0; i < n; i++) {
		double *s = S + i * ld;
		double mx = s[0], sum = 0;

		for (size_t j = 1; j < k; j++)
			if (s[j] > mx)
				mx = s[j];
		for (size_t j = 0; j < k; j++) {
			s[j] = exp(s[j] - mx);
			sum += s[j];
		}
		for (size_t j = 0; j < k; j++)
			s[j] /= sum;
		if (lse)
			lse[i] = mx + log(sum);
	}
}

/* a before b in the sort order (NaN last, ties by index). */
static bool argsort_less(const double *v, size_t a, size_t b)
{
	double x = v[a], y = v[b];

	if (isnan(x))
		return false;
	if (isnan(y))
		return true;
	return x < y;
}

void mat_argsort(const double *v, size_t n, size_t *idx)
{
	size_t *tmp;

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	if (n < 2)
		return;
	tmp = xmallocarray(n, sizeof(*tmp));
	/* Bottom-up merge sort: stable and O(n log n) whatever the input. */
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;

			while (i < mid && j < hi)
				tmp[o++] = argsort_less(v, idx[j], idx[i]) ? idx[j++] : idx[i++];
			while (i < mid)
				tmp[o++] = idx[i++];
			while (j < hi)
				tmp[o++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
	free(tmp);
}
