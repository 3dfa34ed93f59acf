/* Limited-memory BFGS minimization of a smooth f(w), and its orthant-wise variant (OWL-QN,
 * Andrew and Gao 2007) for f(w) + l1 * sum |w_j|, used by the linear models.
 *
 * Stopping (checked after every iteration, in this order):
 *   1. max_j |pg_j| <= gtol, where pg is the gradient (the pseudo-gradient of the L1 objective
 *      for OWL-QN) -> LBFGS_CONVERGED; also checked at the starting point (0 iterations);
 *   2. (F_prev - F) / max(|F_prev|, |F|, 1) <= ftol for the full objective F
 *      -> LBFGS_CONVERGED (like L-BFGS-B's factr test; ftol = 0 disables it);
 *   3. max_iter iterations done -> LBFGS_MAX_ITER;
 *   4. the line search finds no decrease even from the steepest-descent direction (the
 *      objective is flat at machine precision, or f and its gradient disagree)
 *      -> LBFGS_LINESEARCH_FAILED.
 * The same test as scikit-learn's lbfgs solver (scipy's L-BFGS-B with gtol = tol), applied to
 * whatever objective the caller passes; the linear models pass one normalized by the number
 * of rows so that tol does not depend on n. */
#ifndef DYN_CORE_LBFGS_H
#define DYN_CORE_LBFGS_H

#include <stddef.h>

/* Smooth part of the objective: returns f(w) and stores its gradient in g (both of length n
 * given to lbfgs_minimize). May return a non-finite value for a w it cannot evaluate (the
 * line search then steps back). */
struct lbfgs_fn {
	double (*eval)(void *arg, const double *w, double *g);
	void *arg;
	/* Optional (may be NULL): called after each iteration with the objective reached. */
	void (*iter_done)(void *arg, int iter, double f);
};

struct lbfgs_opts {
	size_t m;     /* correction pairs kept (default 10) */
	int max_iter; /* iterations (default 100) */
	double gtol;  /* default 1e-5 */
	double ftol;  /* default 2.220446049250313e-09 (scipy's factr 1e7 * eps) */
	double l1;    /* weight of the L1 term; 0 (default) for plain L-BFGS */
	/* Coordinates the L1 term covers (non-zero entries); NULL (default) means all. */
	const unsigned char *l1_mask;
	int max_linesearch; /* objective evaluations per line search (default 40) */
	/* 0 (default): vector operations by plain BLAS calls; >= 1: by fixed chunks on that many
	 * threads, for long vectors (the result is the same for any number) */
	int threads;
};

enum lbfgs_status {
	LBFGS_CONVERGED,
	LBFGS_MAX_ITER,
	LBFGS_LINESEARCH_FAILED,
};

struct lbfgs_result {
	int iterations;
	int evaluations; /* calls of fn->eval */
	double f;	 /* full objective at the returned w (L1 term included) */
	double pg_max;	 /* max |(pseudo-)gradient| at the returned w */
	enum lbfgs_status status;
};

void lbfgs_opts_init(struct lbfgs_opts *o);
/* Minimizes from the starting point w[0..n) (overwritten with the best point found). Always
 * returns a point no worse than the start; res says how it ended. */
void lbfgs_minimize(size_t n, double *w, const struct lbfgs_fn *fn, const struct lbfgs_opts *o,
		    struct lbfgs_result *res);
const char *lbfgs_status_name(enum lbfgs_status s);

#endif
