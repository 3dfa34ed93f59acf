/* Compressed sparse row (CSR) matrices of doubles: the feature matrices of text models, built
 * row by row, row-normalized, and multiplied with dense vectors and matrices. */
#ifndef DYN_CORE_SPARSE_H
#define DYN_CORE_SPARSE_H

#include <stddef.h>
#include <stdint.h>

/* nrows x ncols; row i holds indices/data[indptr[i] .. indptr[i+1]): distinct column indices in
 * the order they were added (csr_sort_indices sorts them; nothing here needs it).
 * Embedded value: csr_init / csr_release (frees the arrays it owns). */
struct csr {
	size_t nrows, ncols;
	size_t nnz, alloc;
	size_t *indptr;	   /* nrows + 1 entries */
	uint32_t *indices; /* nnz column indices */
	double *data;	   /* nnz values */
	size_t rows_alloc;
};

void csr_init(struct csr *a, size_t ncols);
void csr_release(struct csr *a);
/* Makes room for nrows rows and nnz non-zeros in all (a hint: adding more still works). */
void csr_reserve(struct csr *a, size_t nrows, size_t nnz);
/* Appends a row of n entries (indices need not be sorted; duplicates are not allowed). */
void csr_add_row(struct csr *a, size_t n, const uint32_t *idx, const double *val);
/* Appends the rows of b (same ncols) to a. */
void csr_append(struct csr *a, const struct csr *b);
/* Sorts the column indices of every row. */
void csr_sort_indices(struct csr *a);
/* Scales every row to unit Euclidean norm (rows of zeros stay zeros). */
void csr_normalize_rows_l2(struct csr *a);
/* Squared Euclidean norm of row i. */
double csr_row_sqnorm(const struct csr *a, size_t i);
/* x . row i, for a dense x of a->ncols entries. */
double csr_row_dot(const struct csr *a, size_t i, const double *x);
/* y += alpha * row i, for a dense y of a->ncols entries. */
void csr_row_axpy(const struct csr *a, size_t i, double alpha, double *y);
/* y = A x (y: nrows, x: ncols). */
void csr_matvec(const struct csr *a, const double *x, double *y);
/* y = A^T x (y: ncols, x: nrows); y is overwritten. */
void csr_tmatvec(const struct csr *a, const double *x, double *y);
/* C = A B for a dense B of ncols x k (row-major) and C of nrows x k (row-major, overwritten),
 * rows shared out to threads threads (the result does not depend on how many). */
void csr_matmul_dense(const struct csr *a, const double *b, size_t k, double *c, int threads);
/* src^T as a new matrix in dst (initialised here): row j holds column j of src, by increasing
 * row of src. A^T B is then csr_matmul_dense(A^T, B), on threads, each sum taken by increasing
 * row of A. */
void csr_transpose(struct csr *dst, const struct csr *src);
/* The rows idx[0..m) of src as a new matrix in dst (initialised here). */
void csr_subset_rows(struct csr *dst, const struct csr *src, const size_t *idx, size_t m);

#endif
