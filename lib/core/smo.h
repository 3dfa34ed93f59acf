/* The SMO solver of the C-SVC dual (binary, labels +-1, per-class C), as in libsvm: second-order
 * working-set selection (Fan, Chen & Lin 2005), shrinking with gradient reconstruction. */
#ifndef DYN_CORE_SMO_H
#define DYN_CORE_SMO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/kernel.h"

/* min 1/2 a'Qa - e'a  s.t.  y'a = 0, 0 <= a_i <= (y_i > 0 ? Cp : Cn), Q_ij = y_i y_j K(x_i, x_j).
 * Borrowed pointers. */
struct smo_problem {
	size_t n, d;
	const double *X;      /* n x d, row-major */
	const signed char *y; /* n labels, +1 or -1 */
	struct kernel kernel;
	double Cp, Cn;
	double tol;	    /* stop when m(a) - M(a) <= tol (libsvm's -e) */
	size_t cache_bytes; /* kernel cache budget */
	bool shrinking;
};

struct smo_result {
	double *alpha; /* n multipliers, in the problem's row order; owned by the caller (free) */
	double rho;    /* decision f(x) = sum_i y_i alpha_i K(x_i, x) - rho */
	double obj;    /* dual objective at the solution */
	long iter;
	bool max_iter_reached;
};

/* Solves p; fills r (r->alpha allocated here). Never fails on valid input (n >= 1). */
void smo_solve(const struct smo_problem *p, struct smo_result *r);

#endif
