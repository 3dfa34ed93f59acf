/* CSR sparse matrices: construction, row normalization and products with dense operands.
 * The products walk the sparse structure by hand (BLAS has no sparse routines); the dense
 * side of each row update goes through cblas_daxpy when the dense operand is wide enough. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/blas.h"

#include "core/sparse.h"
#include "base/base.h"
#include "base/par.h"

void csr_init(struct csr *a, size_t ncols)
{
	memset(a, 0, sizeof(*a));
	a->ncols = ncols;
	a->rows_alloc = 1;
	a->indptr = xcalloc(1, sizeof(*a->indptr));
}

void csr_release(struct csr *a)
{
	free(a->indptr);
	free(a->indices);
	free(a->data);
	memset(a, 0, sizeof(*a));
}

static void csr_grow(struct csr *a, size_t nnz)
{
	if (nnz > a->alloc) {
		size_t n = a->alloc < 1024 ? 1024 : a->alloc * 2;
		if (n < nnz)
			n = nnz;
		a->indices = xreallocarray(a->indices, n, sizeof(*a->indices));
		a->data = xreallocarray(a->data, n, sizeof(*a->data));
		a->alloc = n;
		mem_advise_huge(a->indices, n * sizeof(*a->indices));
		mem_advise_huge(a->data, n * sizeof(*a->data));
	}
}

void csr_reserve(struct csr *a, size_t nrows, size_t nnz)
{
	if (nnz > a->alloc) {
		a->indices = xreallocarray(a->indices, nnz, sizeof(*a->indices));
		a->data = xreallocarray(a->data, nnz, sizeof(*a->data));
		a->alloc = nnz;
		/* big matrices: page faults on fresh memory cost as much as filling it */
		mem_advise_huge(a->indices, nnz * sizeof(*a->indices));
		mem_advise_huge(a->data, nnz * sizeof(*a->data));
	}
	if (nrows + 1 > a->rows_alloc) {
		a->indptr = xreallocarray(a->indptr, nrows + 1, sizeof(*a->indptr));
		a->rows_alloc = nrows + 1;
	}
}

void csr_add_row(struct csr *a, size_t n, const uint32_t *idx, const double *val)
{
	ALLOC_GROW(a->indptr, a->nrows + 2, a->rows_alloc);
	csr_grow(a, a->nnz + n);
	if (n) {
		memcpy(a->indices + a->nnz, idx, n * sizeof(*idx));
		memcpy(a->data + a->nnz, val, n * sizeof(*val));
	}
	a->nnz += n;
	a->nrows++;
	a->indptr[a->nrows] = a->nnz;
}

void csr_append(struct csr *a, const struct csr *b)
{
	for (size_t i = 0; i < b->nrows; i++) {
		size_t p = b->indptr[i];
		csr_add_row(a, b->indptr[i + 1] - p, b->indices + p, b->data + p);
	}
}

struct csr_pair {
	uint32_t j;
	double v;
};

static int csr_pair_cmp(const void *x, const void *y)
{
	uint32_t a = ((const struct csr_pair *)x)->j, b = ((const struct csr_pair *)y)->j;
	return (a > b) - (a < b);
}

void csr_sort_indices(struct csr *a)
{
	struct csr_pair *tmp = NULL;
	size_t talloc = 0;
	for (size_t i = 0; i < a->nrows; i++) {
		size_t p = a->indptr[i], n = a->indptr[i + 1] - p;
		int sorted = 1;
		for (size_t q = 1; q < n && sorted; q++)
			sorted = a->indices[p + q - 1] < a->indices[p + q];
		if (sorted)
			continue;
		ALLOC_GROW(tmp, n, talloc);
		for (size_t q = 0; q < n; q++) {
			tmp[q].j = a->indices[p + q];
			tmp[q].v = a->data[p + q];
		}
		qsort(tmp, n, sizeof(*tmp), csr_pair_cmp);
		for (size_t q = 0; q < n; q++) {
			a->indices[p + q] = tmp[q].j;
			a->data[p + q] = tmp[q].v;
		}
	}
	free(tmp);
}

double csr_row_sqnorm(const struct csr *a, size_t i)
{
	size_t p = a->indptr[i], n = a->indptr[i + 1] - p;
	return n ? cblas_ddot((int)n, a->data + p, 1, a->data + p, 1) : 0.0;
}

void csr_normalize_rows_l2(struct csr *a)
{
	for (size_t i = 0; i < a->nrows; i++) {
		size_t p = a->indptr[i], n = a->indptr[i + 1] - p;
		double s = csr_row_sqnorm(a, i);
		if (s > 0)
			cblas_dscal((int)n, 1.0 / sqrt(s), a->data + p, 1);
	}
}

double csr_row_dot(const struct csr *a, size_t i, const double *x)
{
	double s = 0;
	for (size_t p = a->indptr[i]; p < a->indptr[i + 1]; p++)
		s += a->data[p] * x[a->indices[p]];
	return s;
}

void csr_row_axpy(const struct csr *a, size_t i, double alpha, double *y)
{
	for (size_t p = a->indptr[i]; p < a->indptr[i + 1]; p++)
		y[a->indices[p]] += alpha * a->data[p];
}

void csr_matvec(const struct csr *a, const double *x, double *y)
{
	for (size_t i = 0; i < a->nrows; i++)
		y[i] = csr_row_dot(a, i, x);
}

void csr_tmatvec(const struct csr *a, const double *x, double *y)
{
	memset(y, 0, a->ncols * sizeof(*y));
	for (size_t i = 0; i < a->nrows; i++)
		if (x[i] != 0)
			csr_row_axpy(a, i, x[i], y);
}

/* Below this width a BLAS call costs more than the loop it replaces. */
#define CSR_BLAS_MIN_K 32
/* Threads csr_matmul_dense shares rows out to, at most. */
#define CSR_MAX_THREADS 16

/* Rows [first, last) of C = A B. */
struct matmul_job {
	const struct csr *a;
	const double *b;
	size_t k, first, last;
	double *c;
};

static void *matmul_run(void *arg)
{
	const struct matmul_job *J = arg;
	const struct csr *a = J->a;
	size_t k = J->k;
	memset(J->c + J->first * k, 0, (J->last - J->first) * k * sizeof(double));
	for (size_t i = J->first; i < J->last; i++) {
		double *ci = J->c + i * k;
		for (size_t p = a->indptr[i]; p < a->indptr[i + 1]; p++) {
			const double *bj = J->b + (size_t)a->indices[p] * k;
			double v = a->data[p];
			if (k >= CSR_BLAS_MIN_K) {
				cblas_daxpy((int)k, v, bj, 1, ci, 1);
			} else {
				for (size_t c2 = 0; c2 < k; c2++)
					ci[c2] += v * bj[c2];
			}
		}
	}
	return NULL;
}

void csr_matmul_dense(const struct csr *a, const double *b, size_t k, double *c, int threads)
{
	struct matmul_job job[CSR_MAX_THREADS];
	size_t nt = threads > 1 ? (size_t)threads : 1, first = 0;
	if (nt > CSR_MAX_THREADS)
		nt = CSR_MAX_THREADS;
	if (nt > a->nrows)
		nt = a->nrows ? a->nrows : 1;
	/* rows shared out by non-zeros; each row's sums are the same whoever takes them */
	for (size_t t = 0; t < nt; t++) {
		size_t last = first, goal = a->nnz / nt * (t + 1);
		if (t + 1 == nt)
			last = a->nrows;
		else
			while (last < a->nrows && a->indptr[last] < goal)
				last++;
		job[t] = (struct matmul_job){a, b, k, first, last, c};
		first = last;
	}
	par_run(matmul_run, job, sizeof(*job), nt);
}

void csr_transpose(struct csr *dst, const struct csr *src)
{
	size_t n = src->nrows, d = src->ncols, nnz = src->nnz;
	csr_init(dst, n);
	csr_reserve(dst, d, nnz);
	size_t *ptr = dst->indptr;
	memset(ptr, 0, (d + 1) * sizeof(*ptr));
	for (size_t p = 0; p < nnz; p++)
		ptr[src->indices[p] + 1]++;
	for (size_t j = 0; j < d; j++)
		ptr[j + 1] += ptr[j];
	/* rows of src in order: each column's entries come out by increasing row */
	size_t *next = xmallocarray(d ? d : 1, sizeof(*next));
	memcpy(next, ptr, d * sizeof(*next));
	for (size_t i = 0; i < n; i++)
		for (size_t p = src->indptr[i]; p < src->indptr[i + 1]; p++) {
			size_t q = next[src->indices[p]]++;
			dst->indices[q] = (uint32_t)i;
			dst->data[q] = src->data[p];
		}
	free(next);
	dst->nrows = d;
	dst->nnz = nnz;
}

void csr_subset_rows(struct csr *dst, const struct csr *src, const size_t *idx, size_t m)
{
	csr_init(dst, src->ncols);
	for (size_t r = 0; r < m; r++) {
		size_t p = src->indptr[idx[r]];
		csr_add_row(dst, src->indptr[idx[r] + 1] - p, src->indices + p, src->data + p);
	}
}
