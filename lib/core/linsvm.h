/* Linear SVM for sparse data: L2-regularized squared-hinge loss solved in the dual by
 * coordinate descent with shrinking (Hsieh et al., ICML 2008; what liblinear -s 1 and
 * scikit-learn's LinearSVC solve), one-vs-rest for more than two classes. */
#ifndef DYN_CORE_LINSVM_H
#define DYN_CORE_LINSVM_H

#include <stddef.h>

#include "base/err.h"
#include "core/sparse.h"

struct linsvm_opts {
	double C;	      /* > 0 */
	double tol;	      /* stop when the projected-gradient spread is <= tol */
	int max_iter;	      /* passes over the data per binary problem */
	const double *weight; /* k class weights multiplying C, or NULL for 1 */
	unsigned long seed;   /* order of the coordinates */
	int threads;	      /* binary problems solved in parallel; <= 1: serially (the result
			       * is the same for any number of threads) */
	/* NULL, or n x kp dual variables (row-major; kp = 1 for two classes, else k), in and
	 * out: on entry the starting point (zeros for a cold start; any alpha >= 0 is a feasible
	 * start, e.g. a fit on a subset of the rows with the rest at zero, which usually leaves
	 * fewer passes to the same optimum; negative or non-finite values are taken as 0), on
	 * return the solution's. */
	float *alpha;
};

struct linsvm_info {
	int max_iter_used; /* largest number of passes of any binary problem */
	int unconverged;   /* binary problems that hit max_iter */
};

/* Trains on X (n x d) with labels y[i] in [0, k), k >= 2. W (k x (d + 1), row-major, filled
 * here) gets one row per class: the weights and, last, the bias, which is learnt as the weight
 * of an extra feature of constant value 1 and so is regularized (like liblinear's -B 1). For
 * k == 2 the rows are w and -w of one binary problem. decision(x)_c = W_c . [x, 1]. X's column
 * indices are renumbered while the solver runs (not a copy of X) and are as they were when it
 * returns. */
int linsvm_fit(struct csr *X, const int *y, size_t k, const struct linsvm_opts *o, double *W,
	       struct linsvm_info *info, struct err *e);

#endif
