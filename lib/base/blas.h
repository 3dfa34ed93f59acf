/* The BLAS functions dyn calls (OpenBLAS's CBLAS), through libopenblas loaded on first use:
 * linked, its relocations cost every dyn command 10 ms of start-up, more than a mark or a
 * one-row predict takes (bench/RESULTS.md, dyn mark). Include this instead of <cblas.h>: the
 * cblas_* and openblas_* names below become calls through pointers that load the library at
 * the first call. */
#ifndef DYN_BASE_BLAS_H
#define DYN_BASE_BLAS_H

#include <cblas.h>

#include "base/lazylib.h"

#define BLAS_FUNCS(X)                                                                              \
	X(cblas_daxpy)                                                                             \
	X(cblas_ddot)                                                                              \
	X(cblas_dgemm)                                                                             \
	X(cblas_dgemv)                                                                             \
	X(cblas_dnrm2)                                                                             \
	X(cblas_dscal)                                                                             \
	X(cblas_idamax)                                                                            \
	X(cblas_sgemm)                                                                             \
	X(openblas_get_corename)                                                                   \
	X(openblas_get_num_threads)                                                                \
	X(openblas_set_num_threads)

struct blas_fns {
	BLAS_FUNCS(LAZYLIB_MEMBER)
};

/* The functions, OpenBLAS loaded by the first call (any thread; a failure to load it calls
 * lazylib_fatal). On an AMD processor with AVX-512, unless OPENBLAS_CORETYPE is set, the first
 * call sets it to SkylakeX (blas.c says why). */
const struct blas_fns *blas_fns(void);

#ifndef BLAS_NO_MACROS
#define cblas_daxpy		 (blas_fns()->cblas_daxpy)
#define cblas_ddot		 (blas_fns()->cblas_ddot)
#define cblas_dgemm		 (blas_fns()->cblas_dgemm)
#define cblas_dgemv		 (blas_fns()->cblas_dgemv)
#define cblas_dnrm2		 (blas_fns()->cblas_dnrm2)
#define cblas_dscal		 (blas_fns()->cblas_dscal)
#define cblas_idamax		 (blas_fns()->cblas_idamax)
#define cblas_sgemm		 (blas_fns()->cblas_sgemm)
#define openblas_get_corename	 (blas_fns()->openblas_get_corename)
#define openblas_get_num_threads (blas_fns()->openblas_get_num_threads)
#define openblas_set_num_threads (blas_fns()->openblas_set_num_threads)
#endif

#endif
