/* Unit tests of the L-BFGS / OWL-QN optimizer on problems with known minimizers. */
#include <math.h>

#include "base/base.h"
#include "core/lbfgs.h"
#include "check.h"

static double rosenbrock(void *arg, const double *x, double *g)
{
	size_t n = *(const size_t *)arg;
	double f = 0;

	memset(g, 0, n * sizeof(*g));
	for (size_t i = 0; i + 1 < n; i++) {
		double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
		f += 100 * a * a + b * b;
		g[i] += -400 * x[i] * a - 2 * b;
		g[i + 1] += 200 * a;
	}
	return f;
}

/* 0.5 * sum a_j (x_j - c_j)^2 with a_j spanning six orders of magnitude. */
struct quad {
	size_t n;
	const double *a, *c;
	int calls;
};

static double quadratic(void *arg, const double *x, double *g)
{
	struct quad *q = arg;
	double f = 0;

	q->calls++;
	for (size_t j = 0; j < q->n; j++) {
		double r = x[j] - q->c[j];
		f += 0.5 * q->a[j] * r * r;
		g[j] = q->a[j] * r;
	}
	return f;
}

/* Finite only for x[0] < 1: the line search must step back from infinities. */
static double barrier(void *arg, const double *x, double *g)
{
	(void)arg;
	if (x[0] >= 1)
		return INFINITY;
	g[0] = -1 + 1 / (1 - x[0]) * 0.5;
	return -x[0] - 0.5 * log(1 - x[0]);
}

int main(void)
{
	struct lbfgs_opts o;
	struct lbfgs_result r;

	{
		size_t n = 10;
		double x[10];
		struct lbfgs_fn fn = {rosenbrock, &n, NULL};

		for (size_t i = 0; i < n; i++)
			x[i] = i % 2 ? 1.2 : -1.2;
		lbfgs_opts_init(&o);
		o.max_iter = 1000;
		o.gtol = 1e-9;
		o.ftol = 0;
		lbfgs_minimize(n, x, &fn, &o, &r);
		check(r.status == LBFGS_CONVERGED, "rosenbrock converges (%s, %d iterations)",
		      lbfgs_status_name(r.status), r.iterations);
		double err = 0;
		for (size_t i = 0; i < n; i++)
			err = fmax(err, fabs(x[i] - 1));
		check(err < 1e-7, "rosenbrock minimizer is all ones (max error %g)", err);
		check(r.f < 1e-14, "rosenbrock minimum is 0 (%g)", r.f);
	}
	{
		double a[6] = {1e-3, 1e-2, 1e-1, 1, 10, 1e3}, c[6] = {1, -2, 3, -4, 5, -6},
		       x[6] = {0};
		struct quad q = {6, a, c, 0};
		struct lbfgs_fn fn = {quadratic, &q, NULL};

		lbfgs_opts_init(&o);
		o.gtol = 1e-12;
		o.ftol = 0;
		lbfgs_minimize(6, x, &fn, &o, &r);
		double err = 0;
		for (int j = 0; j < 6; j++)
			err = fmax(err, fabs(x[j] - c[j]));
		check(r.status == LBFGS_CONVERGED && err < 1e-8,
		      "ill-conditioned quadratic solved (%d iterations, error %g)", r.iterations,
		      err);
		check(r.evaluations == q.calls, "evaluations counted (%d)", r.evaluations);

		/* Starting at the minimizer: zero iterations. */
		lbfgs_minimize(6, x, &fn, &o, &r);
		check(r.iterations == 0 && r.status == LBFGS_CONVERGED,
		      "start at optimum: 0 iterations");

		/* max_iter reached is reported, not hidden. */
		double x2[6] = {0};
		o.max_iter = 2;
		lbfgs_minimize(6, x2, &fn, &o, &r);
		check(r.status == LBFGS_MAX_ITER && r.iterations == 2, "max_iter status (%s)",
		      lbfgs_status_name(r.status));
	}
	{
		/* OWL-QN on a separable problem: the solution is the soft threshold
		 * x_j = sign(c_j) max(|c_j| - l1 / a_j, 0). Coordinate 5 is not penalized. */
		double a[6] = {0.5, 1, 2, 4, 1, 3}, c[6] = {0.1, -2, 0.3, -4, 0.5, 0.2}, x[6] = {0};
		unsigned char mask[6] = {1, 1, 1, 1, 1, 0};
		struct quad q = {6, a, c, 0};
		struct lbfgs_fn fn = {quadratic, &q, NULL};
		double l1 = 0.8, want[6];

		for (int j = 0; j < 6; j++) {
			double t = mask[j] ? l1 / a[j] : 0;
			want[j] = fabs(c[j]) > t ? (c[j] > 0 ? 1 : -1) * (fabs(c[j]) - t) : 0;
		}
		lbfgs_opts_init(&o);
		o.l1 = l1;
		o.l1_mask = mask;
		o.gtol = 1e-10;
		o.ftol = 0;
		o.max_iter = 500;
		lbfgs_minimize(6, x, &fn, &o, &r);
		double err = 0;
		int zeros_ok = 1;
		for (int j = 0; j < 6; j++) {
			err = fmax(err, fabs(x[j] - want[j]));
			if ((want[j] == 0) != (x[j] == 0))
				zeros_ok = 0;
		}
		check(r.status == LBFGS_CONVERGED, "owl-qn converges (%s, %d iterations)",
		      lbfgs_status_name(r.status), r.iterations);
		check(err < 1e-9, "owl-qn matches the soft threshold (max error %g)", err);
		check(zeros_ok, "owl-qn zeros exactly the thresholded coordinates");
		double fwant = 0;
		for (int j = 0; j < 6; j++)
			fwant += 0.5 * a[j] * (want[j] - c[j]) * (want[j] - c[j]) +
				 (mask[j] ? l1 * fabs(want[j]) : 0);
		check_close(r.f, fwant, 1e-12, "owl-qn objective includes the l1 term (%.15g)",
			    r.f);
	}
	{
		/* Minimum of -x - 0.5 log(1 - x) at x = 0.5; the first trial steps past 1. */
		double x[1] = {0};
		struct lbfgs_fn fn = {barrier, NULL, NULL};

		lbfgs_opts_init(&o);
		o.gtol = 1e-10;
		o.ftol = 0;
		lbfgs_minimize(1, x, &fn, &o, &r);
		check(r.status == LBFGS_CONVERGED && fabs(x[0] - 0.5) < 1e-8,
		      "line search recovers from infinite values (x = %.12g)", x[0]);
	}
	{
		/* Threaded vector operations: a long quadratic (several chunks of LB_CHUNK), the
		 * same minimizer as with plain BLAS calls, and to the bit the same iterates with 1
		 * and 3 threads. */
		size_t n = 70001;
		double *a = xmallocarray(n, sizeof(double)), *c = xmallocarray(n, sizeof(double));
		double *x0 = xcalloc(n, sizeof(double)), *x1 = xcalloc(n, sizeof(double)),
		       *x3 = xcalloc(n, sizeof(double));
		for (size_t j = 0; j < n; j++) {
			a[j] = 1 + (double)(j % 7) * 3;
			c[j] = sin((double)j);
		}
		struct quad q = {n, a, c, 0};
		struct lbfgs_fn fn = {quadratic, &q, NULL};
		struct lbfgs_result r1, r3;
		lbfgs_opts_init(&o);
		o.gtol = 1e-10;
		o.ftol = 0;
		lbfgs_minimize(n, x0, &fn, &o, &r);
		o.threads = 1;
		lbfgs_minimize(n, x1, &fn, &o, &r1);
		o.threads = 3;
		lbfgs_minimize(n, x3, &fn, &o, &r3);
		double err = 0;
		for (size_t j = 0; j < n; j++)
			err = fmax(err, fmax(fabs(x0[j] - c[j]), fabs(x1[j] - c[j])));
		check(
		    r.status == LBFGS_CONVERGED && r1.status == LBFGS_CONVERGED && err < 1e-9,
		    "long quadratic: plain and threaded reach the minimizer (max error %g; %d and "
		    "%d iterations)",
		    err, r.iterations, r1.iterations);
		check(r1.iterations == r3.iterations && r1.f == r3.f &&
			  !memcmp(x1, x3, n * sizeof(double)),
		      "long quadratic: 1 and 3 threads, the same iterates to the bit");
		free(a);
		free(c);
		free(x0);
		free(x1);
		free(x3);
	}
	return check_done();
}
