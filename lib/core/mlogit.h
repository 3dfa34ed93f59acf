/* Multinomial (and binary) logistic regression on a sparse matrix: a trust-region Newton method
 * with preconditioned conjugate gradients, its Hessian-vector products taken over the sparse rows.
 * The objective and optimum of scikit-learn's LogisticRegression (L2, intercepts not penalized). */
#ifndef DYN_CORE_MLOGIT_H
#define DYN_CORE_MLOGIT_H

#include <stddef.h>

#include "base/err.h"
#include "core/sparse.h"

/*
 * For rows x_i with labels y_i in [0, k) and row weights s_i = weight[y_i] (1 without weights),
 * S = sum s_i, the solver minimizes
 *   F(W) = sum_i s_i loss_i / S + ||W||^2 / (2 C S)      (intercepts not in ||W||)
 * scikit-learn's objective C sum s_i loss_i + ||W||^2 / 2 divided by C S: the same minimizer,
 * and a gradient whose size does not grow with n, so tol means the same on any data. loss_i is
 * the softmax cross-entropy of the kp = k scores W_c . [x_i, 1]; for two classes one score
 * (kp = 1), the second class's, and the sigmoid's log-loss.
 *
 * W is kp x (d + 1), row-major, weights then intercept (d = X->ncols).
 */
struct mlogit_opts {
	double C;	      /* > 0 */
	const double *weight; /* k class weights, or NULL for 1 */
	double tol;	      /* converged when max_j |dF/dW_j| <= tol */
	int max_iter;	      /* Newton iterations (each one CG solve) */
	int threads;	      /* for the products; the result does not depend on it */
	/* Optional: called after each Newton iteration. */
	void (*iter_done)(void *arg, int iter);
	void *arg;
	/* From zeros on many rows, the solver starts from a fit of a sample of them (mlogit.c,
	 * ML_SAMPLE_STEP); set to fit every row from the start (for checking). */
	int no_sample;
};

struct mlogit_info {
	int iterations;	   /* Newton iterations taken */
	int cg_iterations; /* Hessian-vector products, all iterations */
	double f;	   /* F at the returned W */
	double f_start;	   /* F where the Newton iterations on all rows started */
	double pg_max;	   /* max |gradient| there */
	int converged;	   /* pg_max <= tol */
	/* the sample fit that gave the starting point: its rows (0 when there was none), its
	 * Newton iterations and products, over its rows and the columns they use */
	size_t sample_rows;
	int sample_iterations, sample_cg_iterations;
};

/* Minimizes F from the point in W (zeros, or a warm start: any finite point) and leaves the
 * minimizer there. y[i] in [0, k), k >= 2. Returns 0, or -1 with e set on bad arguments or a
 * non-finite objective. info may be NULL. The result does not depend on o->threads. */
int mlogit_fit(const struct csr *X, const int *y, size_t k, const struct mlogit_opts *o, double *W,
	       struct mlogit_info *info, struct err *e);

/* F at W, and its gradient into g (same layout as W) when g is not NULL: for checking. */
double mlogit_objective(const struct csr *X, const int *y, size_t k, const struct mlogit_opts *o,
			const double *W, double *g);

/* The product of F's Hessian at W with the direction v into hv (both laid out as W): for
 * checking. */
void mlogit_hessvec(const struct csr *X, const int *y, size_t k, const struct mlogit_opts *o,
		    const double *W, const double *v, double *hv);

#endif
