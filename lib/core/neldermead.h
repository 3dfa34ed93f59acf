/* Derivative-free minimization by the Nelder-Mead simplex method, following the variant of
 * Nash's "Compact Numerical Methods" that R's optim() and forecast::ets() use. */
#ifndef DYN_CORE_NELDERMEAD_H
#define DYN_CORE_NELDERMEAD_H

#include <stddef.h>

struct nm_opts {
	double abstol; /* stop when the best value is <= abstol (-INFINITY: never) */
	double reltol; /* stop when the simplex values span <= reltol * (|f0| + reltol) */
	double alpha;  /* reflection coefficient (1) */
	double beta;   /* contraction coefficient (0.5) */
	double gamma;  /* expansion coefficient (2) */
	int maxit;     /* maximum number of function evaluations */
	/* Optional: evaluates k <= NM_BATCH points at once (x[i] -> f[i]), cheaper than k calls
	 * when the objective can run them side by side (SIMD). Each iteration then evaluates all
	 * the points it might need (reflection, expansion, both contractions) in one batch; the
	 * path, the result and the evaluation count stay those of the sequential method. */
	void (*batch)(const double *const *x, size_t k, double *f, void *ctx);
};

#define NM_BATCH 4

/* R's defaults: abstol -inf, reltol sqrt(DBL_EPSILON), 1, 0.5, 2, maxit 500; no batch. */
void nm_opts_default(struct nm_opts *o);

/* The objective; a non-finite value marks an infeasible point. */
typedef double (*nm_fn)(const double *x, void *ctx);

/* Minimizes fn from x[0..n) (n >= 1), which receives the best point found; *fmin its value.
 * Returns 0 on convergence, 1 when maxit evaluations were spent, 10 when a shrink failed to
 * reduce the simplex, -1 when fn is not finite at the starting point. *nevals (may be NULL)
 * receives the number of evaluations. Allocates its own workspace. */
int nm_minimize(size_t n, double *x, double *fmin, nm_fn fn, void *ctx, const struct nm_opts *o,
		int *nevals);

#endif
