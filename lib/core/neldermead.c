/* Nelder-Mead simplex minimization. The moves, the initial simplex and the stopping rules are
 * those of Nash's algorithm as used by R's optim(), so that ETS fits land where R's do. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "base/mem.h"
#include "core/neldermead.h"

/* Value given to infeasible points, so that the simplex walks away from them. */
#define NM_BIG 1.0e35

void nm_opts_default(struct nm_opts *o)
{
	o->abstol = -INFINITY;
	o->reltol = sqrt(DBL_EPSILON);
	o->alpha = 1.0;
	o->beta = 0.5;
	o->gamma = 2.0;
	o->maxit = 500;
	o->batch = NULL;
}

static double nm_eval(nm_fn fn, const double *x, void *ctx)
{
	double f = fn(x, ctx);
	return isfinite(f) ? f : NM_BIG;
}

/* Evaluates k points, by batches when the caller offers it. */
static void nm_eval_many(const struct nm_opts *o, nm_fn fn, void *ctx, const double *const *x,
			 size_t k, double *f)
{
	for (size_t i = 0; i < k; i += NM_BATCH) {
		size_t b = k - i < NM_BATCH ? k - i : NM_BATCH;
		if (o->batch) {
			o->batch(x + i, b, f + i, ctx);
			for (size_t j = 0; j < b; j++)
				f[i + j] = isfinite(f[i + j]) ? f[i + j] : NM_BIG;
		} else {
			for (size_t j = 0; j < b; j++)
				f[i + j] = nm_eval(fn, x[i + j], ctx);
		}
	}
}

int nm_minimize(size_t n, double *x, double *fmin, nm_fn fn, void *ctx, const struct nm_opts *o,
		int *nevals)
{
	/* Vertex j is p[j*w .. j*w+n), its value p[j*w+n]; vertex n+1 is the centroid slot. */
	size_t np1 = n + 1, w = np1;
	double *p = xmallocarray((n + 2) * w, sizeof(*p));
	double *trial = xmallocarray(4 * n, sizeof(*trial));
	double *ex = trial + n, *con_h = trial + 2 * n, *con_r = trial + 3 * n;
	const double **pts = xmallocarray(np1 > 4 ? np1 : 4, sizeof(*pts));
	double *vals = xmallocarray(np1 > 4 ? np1 : 4, sizeof(*vals));
	double *cen = p + np1 * w;
	double f, convtol, step, size, oldsize, vl, vh, vr;
	size_t lo = 0, hi, i, j;
	int nf = 0, ret = 0, recompute = 1;

	f = fn(x, ctx);
	nf = 1;
	if (!isfinite(f)) {
		ret = -1;
		*fmin = f;
		goto out;
	}
	convtol = o->reltol * (fabs(f) + o->reltol);
	memcpy(p, x, n * sizeof(*x));
	p[n] = f;
	step = 0.0;
	for (i = 0; i < n; i++)
		if (0.1 * fabs(x[i]) > step)
			step = 0.1 * fabs(x[i]);
	if (step == 0.0)
		step = 0.1;
	size = 0.0;
	for (j = 1; j < np1; j++) {
		double *v = p + j * w, t = step;
		memcpy(v, x, n * sizeof(*x));
		/* grow the step until it actually moves coordinate j-1 at this magnitude */
		while (v[j - 1] == x[j - 1]) {
			v[j - 1] = x[j - 1] + t;
			t *= 10;
		}
		size += t;
	}
	oldsize = size;

	for (;;) {
		if (recompute) {
			size_t k = 0;
			for (j = 0; j < np1; j++)
				if (j != lo)
					pts[k++] = p + j * w;
			nm_eval_many(o, fn, ctx, pts, k, vals);
			for (j = 0, k = 0; j < np1; j++)
				if (j != lo)
					p[j * w + n] = vals[k++];
			nf += (int)np1 - 1;
			recompute = 0;
		}
		vl = vh = p[lo * w + n];
		hi = lo;
		for (j = 0; j < np1; j++) {
			if (j == lo)
				continue;
			f = p[j * w + n];
			if (f < vl) {
				lo = j;
				vl = f;
			}
			if (f > vh) {
				hi = j;
				vh = f;
			}
		}
		if (vh <= vl + convtol || vl <= o->abstol)
			break;

		for (i = 0; i < n; i++) {
			double s = -p[hi * w + i];
			for (j = 0; j < np1; j++)
				s += p[j * w + i];
			cen[i] = s / (double)n;
		}
		for (i = 0; i < n; i++)
			trial[i] = (1.0 + o->alpha) * cen[i] - o->alpha * p[hi * w + i];
		if (o->batch) {
			/* every point this iteration may need, in one batch */
			double fv[4];
			for (i = 0; i < n; i++) {
				ex[i] = o->gamma * trial[i] + (1 - o->gamma) * cen[i];
				con_h[i] = (1 - o->beta) * p[hi * w + i] + o->beta * cen[i];
				con_r[i] = (1 - o->beta) * trial[i] + o->beta * cen[i];
			}
			pts[0] = trial;
			pts[1] = ex;
			pts[2] = con_h;
			pts[3] = con_r;
			nm_eval_many(o, fn, ctx, pts, 4, fv);
			vr = fv[0];
			nf += 2;
			if (vr < vl) {
				if (fv[1] < vr) {
					memcpy(p + hi * w, ex, n * sizeof(*ex));
					p[hi * w + n] = fv[1];
				} else {
					memcpy(p + hi * w, trial, n * sizeof(*trial));
					p[hi * w + n] = vr;
				}
			} else {
				const double *c = con_h;
				f = fv[2];
				if (vr < vh) {
					memcpy(p + hi * w, trial, n * sizeof(*trial));
					p[hi * w + n] = vr;
					c = con_r;
					f = fv[3];
				}
				if (f < p[hi * w + n]) {
					memcpy(p + hi * w, c, n * sizeof(*c));
					p[hi * w + n] = f;
				} else if (vr >= vh) {
					recompute = 1;
				}
			}
		} else {
			vr = nm_eval(fn, trial, ctx);
			nf++;
			if (vr < vl) {
				/* reflection is the new best: try expanding further */
				for (i = 0; i < n; i++)
					ex[i] = o->gamma * trial[i] + (1 - o->gamma) * cen[i];
				f = nm_eval(fn, ex, ctx);
				nf++;
				if (f < vr) {
					memcpy(p + hi * w, ex, n * sizeof(*ex));
					p[hi * w + n] = f;
				} else {
					memcpy(p + hi * w, trial, n * sizeof(*trial));
					p[hi * w + n] = vr;
				}
			} else {
				if (vr < vh) {
					memcpy(p + hi * w, trial, n * sizeof(*trial));
					p[hi * w + n] = vr;
				}
				for (i = 0; i < n; i++)
					con_h[i] = (1 - o->beta) * p[hi * w + i] + o->beta * cen[i];
				f = nm_eval(fn, con_h, ctx);
				nf++;
				if (f < p[hi * w + n]) {
					memcpy(p + hi * w, con_h, n * sizeof(*con_h));
					p[hi * w + n] = f;
				} else if (vr >= vh) {
					recompute = 1;
				}
			}
		}
		if (recompute) {
			/* contraction failed too: shrink everything towards the best vertex */
			size = 0.0;
			for (j = 0; j < np1; j++) {
				if (j == lo)
					continue;
				for (i = 0; i < n; i++) {
					double *v = p + j * w;
					v[i] = o->beta * (v[i] - p[lo * w + i]) + p[lo * w + i];
					size += fabs(v[i] - p[lo * w + i]);
				}
			}
			if (size < oldsize) {
				oldsize = size;
			} else {
				ret = 10;
				break;
			}
		}
		if (nf > o->maxit)
			break;
	}
	*fmin = p[lo * w + n];
	memcpy(x, p + lo * w, n * sizeof(*x));
	if (nf > o->maxit)
		ret = 1;
out:
	if (nevals)
		*nevals = nf;
	free(p);
	free(trial);
	free(pts);
	free(vals);
	return ret;
}
