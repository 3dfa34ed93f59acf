/* L-BFGS with a strong-Wolfe line search (bracketing and cubic-interpolation zoom, Nocedal and
 * Wright, algorithms 3.5 and 3.6), and OWL-QN for an L1 term: pseudo-gradient, direction
 * constrained to the descent orthant, backtracking along the orthant projection. */
#include "base/blas.h"
#include <float.h>
#include <math.h>

#include "base/base.h"
#include "base/par.h"
#include "core/lbfgs.h"

#define C1 1e-4 /* sufficient decrease */
#define C2 0.9	/* curvature (strong Wolfe) */

/* Working state of one minimization. */
struct lb {
	size_t n, m;
	const struct lbfgs_fn *fn;
	const struct lbfgs_opts *o;
	double *S, *Y;	     /* m x n ring of correction pairs */
	double *rho, *alpha; /* m */
	size_t head, len;    /* oldest pair at head, len pairs stored */
	int nfev;
	double *part; /* with o->threads: a partial sum per chunk */
};

void lbfgs_opts_init(struct lbfgs_opts *o)
{
	o->m = 10;
	o->max_iter = 100;
	o->gtol = 1e-5;
	o->ftol = 2.220446049250313e-09;
	o->l1 = 0;
	o->l1_mask = NULL;
	o->max_linesearch = 40;
	o->threads = 0;
}

const char *lbfgs_status_name(enum lbfgs_status s)
{
	switch (s) {
	case LBFGS_CONVERGED:
		return "converged";
	case LBFGS_MAX_ITER:
		return "maximum number of iterations reached";
	case LBFGS_LINESEARCH_FAILED:
		return "line search failed";
	}
	return "unknown";
}

/* Elements a chunk of the threaded vector operations: a dot product is the sum, in order, of
 * its chunks' sums, whatever the number of threads. */
#define LB_CHUNK 32768
/* Threads of the vector operations, at most. */
#define LB_MAX_THREADS 16

enum lb_op { LB_DOT, LB_AXPY, LB_SCAL };

/* Chunks [first, last) of one vector operation. */
struct lb_job {
	enum lb_op op;
	size_t n, first, last;
	double alpha;
	const double *x, *z; /* LB_DOT: x . z */
	double *y, *part;
};

static void *lb_run(void *arg)
{
	const struct lb_job *J = arg;
	for (size_t c = J->first; c < J->last; c++) {
		size_t at = c * LB_CHUNK, len = J->n - at < LB_CHUNK ? J->n - at : LB_CHUNK;
		if (J->op == LB_DOT)
			J->part[c] = cblas_ddot((int)len, J->x + at, 1, J->z + at, 1);
		else if (J->op == LB_AXPY)
			cblas_daxpy((int)len, J->alpha, J->x + at, 1, J->y + at, 1);
		else
			cblas_dscal((int)len, J->alpha, J->y + at, 1);
	}
	return NULL;
}

/* One vector operation of L's size (x . z, y += alpha x or y *= alpha) by chunks on L's
 * threads; returns the dot product. */
static double lb_par(const struct lb *L, enum lb_op op, double alpha, const double *x,
		     const double *z, double *y)
{
	struct lb_job job[LB_MAX_THREADS];
	size_t n = L->n, nch = (n + LB_CHUNK - 1) / LB_CHUNK;
	size_t nt = (size_t)L->o->threads < LB_MAX_THREADS ? (size_t)L->o->threads : LB_MAX_THREADS;
	double sum = 0;
	if (nt > nch)
		nt = nch ? nch : 1;
	for (size_t t = 0; t < nt; t++)
		job[t] = (struct lb_job){op, n, nch * t / nt, nch * (t + 1) / nt, alpha, x,
					 z,  y, L->part};
	par_run(lb_run, job, sizeof(*job), nt);
	if (op == LB_DOT)
		for (size_t c = 0; c < nch; c++)
			sum += L->part[c];
	return sum;
}

static double dot(const struct lb *L, const double *a, const double *b)
{
	if (L->o->threads > 0)
		return lb_par(L, LB_DOT, 0, a, b, NULL);
	return cblas_ddot((int)L->n, a, 1, b, 1);
}

/* y += alpha x */
static void axpy(const struct lb *L, double alpha, const double *x, double *y)
{
	if (L->o->threads > 0)
		lb_par(L, LB_AXPY, alpha, x, NULL, y);
	else
		cblas_daxpy((int)L->n, alpha, x, 1, y, 1);
}

/* x *= alpha */
static void scal(const struct lb *L, double alpha, double *x)
{
	if (L->o->threads > 0)
		lb_par(L, LB_SCAL, alpha, NULL, NULL, x);
	else
		cblas_dscal((int)L->n, alpha, x, 1);
}

static bool l1_on(const struct lb *L, size_t j)
{
	return L->o->l1 > 0 && (!L->o->l1_mask || L->o->l1_mask[j]);
}

static double l1_term(const struct lb *L, const double *x)
{
	double s = 0;

	if (L->o->l1 <= 0)
		return 0;
	for (size_t j = 0; j < L->n; j++)
		if (l1_on(L, j))
			s += fabs(x[j]);
	return L->o->l1 * s;
}

/* Full objective at x; g gets the gradient of the smooth part. */
static double evaluate(struct lb *L, const double *x, double *g)
{
	double f = L->fn->eval(L->fn->arg, x, g);

	L->nfev++;
	if (!isfinite(f))
		return INFINITY;
	return f + l1_term(L, x);
}

/* The minimum-norm subgradient of the L1 objective; returns its max |.|. */
static double pseudo_gradient(const struct lb *L, const double *x, const double *g, double *pg)
{
	double c = L->o->l1, mx = 0;

	for (size_t j = 0; j < L->n; j++) {
		double v = g[j];
		if (l1_on(L, j)) {
			if (x[j] > 0)
				v = g[j] + c;
			else if (x[j] < 0)
				v = g[j] - c;
			else if (g[j] + c < 0)
				v = g[j] + c;
			else if (g[j] - c > 0)
				v = g[j] - c;
			else
				v = 0;
		}
		pg[j] = v;
		if (fabs(v) > mx)
			mx = fabs(v);
	}
	return mx;
}

/* d = -H v by the two-loop recursion over the stored pairs. */
static void two_loop(struct lb *L, const double *v, double *d)
{
	size_t n = L->n;
	double gamma = 1;

	memcpy(d, v, n * sizeof(*d));
	for (size_t k = L->len; k-- > 0;) {
		size_t i = (L->head + k) % L->m;
		L->alpha[i] = L->rho[i] * dot(L, L->S + i * n, d);
		axpy(L, -L->alpha[i], L->Y + i * n, d);
	}
	if (L->len > 0) {
		size_t i = (L->head + L->len - 1) % L->m;
		const double *y = L->Y + i * n;
		/* Initial Hessian scaling s'y / y'y of the newest pair. */
		gamma = 1.0 / (L->rho[i] * dot(L, y, y));
	}
	scal(L, -gamma, d);
	/* d now holds -gamma q; run the second loop on -d and negate at the end. */
	for (size_t k = 0; k < L->len; k++) {
		size_t i = (L->head + k) % L->m;
		double beta = L->rho[i] * dot(L, L->Y + i * n, d);
		/* With d = -q: q += (alpha - beta_q) s, beta_q = -beta. */
		axpy(L, -(L->alpha[i] + beta), L->S + i * n, d);
	}
}

static void push_pair(struct lb *L, const double *s, const double *y, double sy)
{
	size_t i;

	if (L->len < L->m) {
		i = (L->head + L->len) % L->m;
		L->len++;
	} else {
		i = L->head;
		L->head = (L->head + 1) % L->m;
	}
	memcpy(L->S + i * L->n, s, L->n * sizeof(*s));
	memcpy(L->Y + i * L->n, y, L->n * sizeof(*y));
	L->rho[i] = 1.0 / sy;
}

/* The minimizer of the cubic through (a, fa, da) and (b, fb, db), or NAN. */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
	double d1 = da + db - 3 * (fa - fb) / (a - b);
	double disc = d1 * d1 - da * db;
	double d2, t;

	if (!(disc >= 0) || !isfinite(fb))
		return NAN;
	d2 = (b > a ? 1 : -1) * sqrt(disc);
	t = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2);
	return isfinite(t) ? t : NAN;
}

/* One point of the line x + a d: value, gradient (in gt) and slope. */
struct ls_point {
	double a, f, dphi;
};

static void ls_eval(struct lb *L, const double *x, const double *d, double a, double *xt,
		    double *gt, struct ls_point *p)
{
	size_t n = L->n;

	memcpy(xt, x, n * sizeof(*xt));
	axpy(L, a, d, xt);
	p->a = a;
	p->f = evaluate(L, xt, gt);
	p->dphi = isfinite(p->f) ? dot(L, gt, d) : NAN;
}

/* Strong Wolfe conditions, accepting also a point whose value is within rounding of f0 when
 * the slope condition holds: near the optimum, f stops resolving decreases before the gradient
 * is small enough. */
static bool ls_armijo(const struct ls_point *p, double f0, double dphi0)
{
	return p->f <= f0 + C1 * p->a * dphi0;
}

static bool ls_curvature(const struct ls_point *p, double dphi0)
{
	return fabs(p->dphi) <= -C2 * dphi0;
}

static bool ls_approx(const struct ls_point *p, double f0, double dphi0)
{
	return p->f <= f0 + 1e-13 * fabs(f0) && ls_curvature(p, dphi0);
}

/* Strong-Wolfe line search from x (value f0, slope dphi0 < 0 along d), first trial a1. On
 * success xt, gt, *ft hold the accepted point. */
static bool ls_wolfe(struct lb *L, const double *x, double f0, const double *d, double dphi0,
		     double a1, double *xt, double *gt, double *ft)
{
	struct ls_point prev = {0, f0, dphi0}, cur, lo, hi, best = {0, f0, dphi0};
	int evals = 0, maxe = L->o->max_linesearch;
	bool zoom = false;

	cur.a = a1;
	while (evals < maxe) {
		ls_eval(L, x, d, cur.a, xt, gt, &cur);
		evals++;
		if (cur.f < best.f)
			best = cur;
		if (!ls_armijo(&cur, f0, dphi0) || (evals > 1 && cur.f >= prev.f)) {
			if (ls_approx(&cur, f0, dphi0))
				goto accept;
			lo = prev;
			hi = cur;
			zoom = true;
			break;
		}
		if (ls_curvature(&cur, dphi0))
			goto accept;
		if (cur.dphi >= 0) {
			lo = cur;
			hi = prev;
			zoom = true;
			break;
		}
		prev = cur;
		cur.a = cur.a * 2;
	}
	while (zoom && evals < maxe) {
		double w = fabs(hi.a - lo.a),
		       a = cubic_min(lo.a, lo.f, lo.dphi, hi.a, hi.f, hi.dphi);
		double left = fmin(lo.a, hi.a), right = fmax(lo.a, hi.a);

		/* Keep the trial inside the middle 80% so that the bracket shrinks. */
		if (isnan(a) || a < left + 0.1 * w || a > right - 0.1 * w)
			a = 0.5 * (lo.a + hi.a);
		if (w <= DBL_EPSILON * fmax(1.0, right))
			break;
		ls_eval(L, x, d, a, xt, gt, &cur);
		evals++;
		if (cur.f < best.f)
			best = cur;
		if (!ls_armijo(&cur, f0, dphi0) || cur.f >= lo.f) {
			if (ls_approx(&cur, f0, dphi0))
				goto accept;
			hi = cur;
		} else {
			if (ls_curvature(&cur, dphi0))
				goto accept;
			if (cur.dphi * (hi.a - lo.a) >= 0)
				hi = lo;
			lo = cur;
		}
	}
	/* No Wolfe point: still take the best decrease seen, if any, rather than stop. */
	if (best.a > 0 && best.f < f0) {
		if (best.a != cur.a)
			ls_eval(L, x, d, best.a, xt, gt, &cur);
		*ft = cur.f;
		return true;
	}
	return false;
accept:
	*ft = cur.f;
	return true;
}

/* OWL-QN line search: backtracking along the projection onto the orthant of x (or of -pg
 * where x is 0), with sufficient decrease measured by the pseudo-gradient. */
static bool ls_orthant(struct lb *L, const double *x, double f0, const double *pg, const double *d,
		       double a1, double *xt, double *gt, double *ft)
{
	size_t n = L->n;
	double a = a1;

	for (int k = 0; k < L->o->max_linesearch; k++, a *= 0.5) {
		double dec = 0, f;

		for (size_t j = 0; j < n; j++) {
			double v = x[j] + a * d[j];
			if (l1_on(L, j)) {
				double orth = x[j] != 0 ? x[j] : -pg[j];
				if (v * orth <= 0)
					v = 0;
			}
			xt[j] = v;
			dec += pg[j] * (v - x[j]);
		}
		f = evaluate(L, xt, gt);
		if (f <= f0 + C1 * dec) {
			*ft = f;
			return true;
		}
	}
	return false;
}

void lbfgs_minimize(size_t n, double *w, const struct lbfgs_fn *fn, const struct lbfgs_opts *o,
		    struct lbfgs_result *res)
{
	struct lb L = {0};
	bool owl = o->l1 > 0;
	size_t m = o->m ? o->m : 1;
	double *x = w, *g, *d, *xt, *gt, *pg, *s, *y, f, pgmax;
	int iter = 0;

	L.n = n;
	L.m = m;
	L.fn = fn;
	L.o = o;
	L.S = xmallocarray(m * n, sizeof(double));
	L.Y = xmallocarray(m * n, sizeof(double));
	L.rho = xmallocarray(m, sizeof(double));
	L.alpha = xmallocarray(m, sizeof(double));
	L.part = o->threads > 0 ? xmallocarray(n / LB_CHUNK + 1, sizeof(double)) : NULL;
	g = xmallocarray(n, sizeof(double));
	d = xmallocarray(n, sizeof(double));
	xt = xmallocarray(n, sizeof(double));
	gt = xmallocarray(n, sizeof(double));
	s = xmallocarray(n, sizeof(double));
	y = xmallocarray(n, sizeof(double));
	pg = owl ? xmallocarray(n, sizeof(double)) : g;

	res->status = LBFGS_MAX_ITER;
	f = evaluate(&L, x, g);
	pgmax = owl ? pseudo_gradient(&L, x, g, pg) : fabs(g[cblas_idamax((int)n, g, 1)]);
	if (!isfinite(f)) {
		res->status = LBFGS_LINESEARCH_FAILED;
		goto out;
	}
	if (pgmax <= o->gtol) {
		res->status = LBFGS_CONVERGED;
		goto out;
	}
	while (iter < o->max_iter) {
		double dphi0, a1, fnew, sy, *t;
		bool ok;

		two_loop(&L, pg, d);
		/* OWL-QN keeps each penalized coordinate moving against its pseudo-gradient (the
		 * orthant of the step); unpenalized ones (intercepts) move freely. */
		if (owl)
			for (size_t j = 0; j < n; j++)
				if (l1_on(&L, j) && d[j] * pg[j] >= 0)
					d[j] = 0;
		dphi0 = dot(&L, d, pg);
		if (!(dphi0 < 0)) {
			if (L.len == 0) { /* even steepest descent fails: NaN gradient */
				res->status = LBFGS_LINESEARCH_FAILED;
				break;
			}
			/* Not a descent direction (bad curvature information): restart. */
			L.len = 0;
			continue;
		}
		a1 = L.len == 0 ? fmin(1.0, 1.0 / cblas_dnrm2((int)n, d, 1)) : 1.0;
		if (owl)
			ok = ls_orthant(&L, x, f, pg, d, a1, xt, gt, &fnew);
		else
			ok = ls_wolfe(&L, x, f, d, dphi0, a1, xt, gt, &fnew);
		if (!ok) {
			if (L.len > 0) {
				L.len = 0; /* retry once from steepest descent */
				continue;
			}
			res->status = LBFGS_LINESEARCH_FAILED;
			break;
		}
		for (size_t j = 0; j < n; j++) {
			s[j] = xt[j] - x[j];
			y[j] = gt[j] - g[j];
		}
		sy = dot(&L, s, y);
		if (sy > DBL_EPSILON * dot(&L, y, y))
			push_pair(&L, s, y, sy);
		t = x, x = xt, xt = t;
		t = g, g = gt, gt = t;
		iter++;
		if (fn->iter_done)
			fn->iter_done(fn->arg, iter, fnew);
		pgmax = owl ? pseudo_gradient(&L, x, g, pg) : fabs(g[cblas_idamax((int)n, g, 1)]);
		if (pg == gt) /* plain L-BFGS: pg aliases g, which just moved */
			pg = g;
		if (pgmax <= o->gtol) {
			f = fnew;
			res->status = LBFGS_CONVERGED;
			break;
		}
		if (o->ftol > 0 && f - fnew <= o->ftol * fmax(fmax(fabs(f), fabs(fnew)), 1.0)) {
			f = fnew;
			res->status = LBFGS_CONVERGED;
			break;
		}
		f = fnew;
	}
out:
	if (x != w) {
		memcpy(w, x, n * sizeof(*w));
		xt = x; /* the buffer that is not w, freed below */
	}
	res->iterations = iter;
	res->evaluations = L.nfev;
	res->f = f;
	res->pg_max = pgmax;
	free(L.S);
	free(L.Y);
	free(L.rho);
	free(L.alpha);
	free(L.part);
	if (owl)
		free(pg);
	free(g);
	free(gt);
	free(d);
	free(xt);
	free(s);
	free(y);
}
