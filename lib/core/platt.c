/* Platt scaling and pairwise coupling (see platt.h); written from the papers, checked against
 * libsvm's -b 1 in tests/unit/t_svc.c. */
#include <math.h>

#include "core/platt.h"

#include "base/base.h"
#include "base/par.h"

/* Negative log-likelihood of targets t under the sigmoid, each term in its stable form. */
static double platt_nll(const double *dec, const double *t, size_t n, double A, double B)
{
	double f = 0;
	for (size_t i = 0; i < n; i++) {
		double z = dec[i] * A + B;
		if (z >= 0)
			f += t[i] * z + log1p(exp(-z));
		else
			f += (t[i] - 1) * z + log1p(exp(z));
	}
	return f;
}

void platt_fit(const double *dec, const signed char *y, size_t n, double *A, double *B)
{
	const int max_iter = 100;
	const double min_step = 1e-10, sigma = 1e-12, eps = 1e-5;
	double npos = 0, nneg = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] > 0)
			npos++;
		else
			nneg++;
	}
	/* Platt's targets: the empirical 0/1 pulled towards 1/2 by a Bayes prior, against
	 * overfitting the sigmoid to separable folds. */
	double hi = (npos + 1) / (npos + 2), lo = 1 / (nneg + 2);
	double *t = xmallocarray(n ? n : 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		t[i] = y[i] > 0 ? hi : lo;
	double a = 0, b = log((nneg + 1) / (npos + 1));
	double f = platt_nll(dec, t, n, a, b);
	for (int it = 0; it < max_iter; it++) {
		double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
		for (size_t i = 0; i < n; i++) {
			double z = dec[i] * a + b, p, q;
			if (z >= 0) {
				double e = exp(-z);
				p = e / (1 + e);
				q = 1 / (1 + e);
			} else {
				double e = exp(z);
				p = 1 / (1 + e);
				q = e / (1 + e);
			}
			double d2 = p * q;
			h11 += dec[i] * dec[i] * d2;
			h22 += d2;
			h21 += dec[i] * d2;
			double d1 = t[i] - p;
			g1 += dec[i] * d1;
			g2 += d1;
		}
		if (fabs(g1) < eps && fabs(g2) < eps)
			break;
		double det = h11 * h22 - h21 * h21;
		double da = -(h22 * g1 - h21 * g2) / det;
		double db = -(-h21 * g1 + h11 * g2) / det;
		double gd = g1 * da + g2 * db;
		double step = 1;
		while (step >= min_step) {
			double na = a + step * da, nb = b + step * db;
			double nf = platt_nll(dec, t, n, na, nb);
			if (nf < f + 0.0001 * step * gd) {
				a = na;
				b = nb;
				f = nf;
				break;
			}
			step /= 2;
		}
		if (step < min_step)
			break; /* the line search failed: keep the last good point */
	}
	free(t);
	*A = a;
	*B = b;
}

double platt_prob(double dec, double A, double B)
{
	double z = dec * A + B;
	if (z >= 0) {
		double e = exp(-z);
		return e / (1 + e);
	}
	return 1 / (1 + exp(z));
}

/* Method 2 of Wu, Lin & Weng: minimizes sum_i sum_{j!=i} (r_ji p_i - r_ij p_j)^2 over the
 * simplex by cyclic coordinate updates on the equivalent quadratic p'Qp. */
void platt_couple(const double *r, size_t k, double *p, double *work)
{
	double *Q = work, *Qp = work + k * k;
	size_t max_iter = k > 100 ? k : 100;
	double eps = 0.005 / (double)k;
	for (size_t t = 0; t < k; t++) {
		p[t] = 1.0 / (double)k;
		Q[t * k + t] = 0;
		for (size_t j = 0; j < k; j++) {
			if (j == t)
				continue;
			Q[t * k + t] += r[j * k + t] * r[j * k + t];
			Q[t * k + j] = -r[j * k + t] * r[t * k + j];
		}
	}
	for (size_t it = 0; it < max_iter; it++) {
		double pQp = 0;
		for (size_t t = 0; t < k; t++) {
			Qp[t] = 0;
			for (size_t j = 0; j < k; j++)
				Qp[t] += Q[t * k + j] * p[j];
			pQp += p[t] * Qp[t];
		}
		double maxerr = 0;
		for (size_t t = 0; t < k; t++)
			maxerr = fmax(maxerr, fabs(Qp[t] - pQp));
		if (maxerr < eps)
			break;
		for (size_t t = 0; t < k; t++) {
			double diff = (-Qp[t] + pQp) / Q[t * k + t];
			p[t] += diff;
			pQp = (pQp + diff * (diff * Q[t * k + t] + 2 * Qp[t])) / (1 + diff) /
			      (1 + diff);
			for (size_t j = 0; j < k; j++) {
				Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1 + diff);
				p[j] /= 1 + diff;
			}
		}
	}
}

/* Platt's sigmoid fit (with Lin, Lin and Weng's safeguards) of the training decision values f
 * (n x kp) of every class, pooled, with one-vs-rest targets t_j: minimizes
 * F = sum log1pexp(z_j) - t_j z_j, z_j = A f_j + B, by Newton with backtracking. The sums over
 * the n kp points are taken in blocks of rows, on threads; a block's sum and the order blocks
 * are added in do not depend on the threads, so neither does the fit. The steps depend on F
 * only through the backtracking's comparisons: F's log1p(e^-|z|) terms are summed as the log
 * of a product of the 1 + e^-|z| of a run of points, one log per run instead of a log1p per
 * point (most of the fit's time), which moves F by less than its rounding. */
struct platt_sums {
	double f, h11, h22, h21, g1, g2; /* F, its Hessian and gradient */
};

struct platt_job {
	const double *f;
	const int *y;
	size_t n, kp, rows; /* rows per block */
	size_t first, last; /* this job's blocks */
	size_t stride;	    /* of which those whose index is a multiple of stride */
	double a, b, tp, tn;
	struct platt_sums *sums; /* one per block */
};

/* About this many points per block. */
#define PLATT_BLOCK 4096

/* Points taken at a time: their exps, then their sums; the product of their 1 + e^-|z|, each
 * in (1, 2], stays below the overflow of a double. */
#define PLATT_RUN 512

/* Blocks of the first Newton steps' sample (see platt_fit_pooled), from this many blocks on. */
#define PLATT_SUB     16
#define PLATT_SUB_MIN 64

/* F and its derivatives over the job's blocks at (a, b): one exp per point, the derivatives as
 * mat_sigmoid computes the probabilities. */
static void *platt_run(void *arg)
{
	const struct platt_job *J = arg;
	size_t kp = J->kp;
	double z[PLATT_RUN], e[PLATT_RUN], t[PLATT_RUN];
	/* the first point, A = 0, has z = B everywhere: one exp will do */
	double e0 = J->a == 0 ? exp(-fabs(J->b)) : 0;
	for (size_t blk = J->first; blk < J->last; blk++) {
		if (blk % J->stride)
			continue;
		struct platt_sums S = {0};
		size_t i = blk * J->rows, c = 0;
		size_t j = i * kp,
		       jend = ((blk + 1) * J->rows < J->n ? (blk + 1) * J->rows : J->n) * kp;
		while (j < jend) {
			size_t len = jend - j < PLATT_RUN ? jend - j : PLATT_RUN;
			const double *f = J->f + j;
			double prod = 1;
			/* the exps in a loop of their own: calls in the loop of the sums would keep
			 * the sums in memory */
			for (size_t q = 0; q < len; q++) {
				/* row i's positive: its class, or the one problem's */
				size_t yc = kp == 1 ? (J->y[i] == 1 ? 0 : 1) : (size_t)J->y[i];
				t[q] = c == yc ? J->tp : J->tn;
				z[q] = J->a * f[q] + J->b;
				e[q] = J->a == 0 ? e0 : exp(-fabs(z[q]));
				if (++c == kp) {
					c = 0;
					i++;
				}
			}
			for (size_t q = 0; q < len; q++) {
				double d = 1.0 + e[q], p = (z[q] >= 0 ? 1.0 : e[q]) / d,
				       w = p * (1 - p);
				double x = f[q];
				S.f += (z[q] > 0 ? z[q] : 0) - t[q] * z[q];
				prod *= d;
				S.h11 += x * x * w;
				S.h22 += w;
				S.h21 += x * w;
				S.g1 += x * (p - t[q]);
				S.g2 += p - t[q];
			}
			S.f += log(prod);
			j += len;
		}
		J->sums[blk] = S;
	}
	return NULL;
}

static void platt_eval(struct platt_job *job, size_t nt, size_t nblocks, double a, double b,
		       struct platt_sums *out)
{
	struct platt_sums *bs = job[0].sums;
	size_t stride = job[0].stride;
	for (size_t t = 0; t < nt; t++) {
		job[t].a = a;
		job[t].b = b;
	}
	par_run(platt_run, job, sizeof(*job), nt);
	*out = (struct platt_sums){0, 1e-12, 1e-12, 0, 0, 0};
	for (size_t blk = 0; blk < nblocks; blk += stride) {
		out->f += bs[blk].f;
		out->h11 += bs[blk].h11;
		out->h22 += bs[blk].h22;
		out->h21 += bs[blk].h21;
		out->g1 += bs[blk].g1;
		out->g2 += bs[blk].g2;
	}
}

/* Platt's Newton steps with backtracking from (*a, *b) over the blocks whose index is a multiple
 * of stride, until the gradient is small for that many points. */
static void platt_newton(struct platt_job *job, size_t nt, size_t nblocks, size_t stride, double *A,
			 double *B)
{
	struct platt_sums cur, next;
	double a = *A, b = *B, m = 0;
	for (size_t t = 0; t < nt; t++)
		job[t].stride = stride;
	for (size_t blk = 0; blk < nblocks; blk += stride) {
		size_t i0 = blk * job[0].rows,
		       i1 = i0 + job[0].rows < job[0].n ? i0 + job[0].rows : job[0].n;
		m += (double)((i1 - i0) * job[0].kp);
	}
	/* each trial point's derivatives come with its value: the next Newton step has them */
	platt_eval(job, nt, nblocks, a, b, &cur);
	for (int it = 0; it < 100; it++) {
		if (fabs(cur.g1) < 1e-5 * m && fabs(cur.g2) < 1e-5 * m)
			break;
		double det = cur.h11 * cur.h22 - cur.h21 * cur.h21;
		double da = -(cur.h22 * cur.g1 - cur.h21 * cur.g2) / det;
		double db = -(-cur.h21 * cur.g1 + cur.h11 * cur.g2) / det;
		double gd = cur.g1 * da + cur.g2 * db, step = 1;
		while (step >= 1e-10) {
			double na = a + step * da, nb = b + step * db;
			platt_eval(job, nt, nblocks, na, nb, &next);
			if (next.f < cur.f + 1e-4 * step * gd) {
				a = na, b = nb, cur = next;
				break;
			}
			step /= 2;
		}
		if (step < 1e-10)
			break;
	}
	*A = a;
	*B = b;
}

void platt_fit_pooled(const double *f, const int *y, size_t n, size_t kp, int threads, double *A,
		      double *B)
{
	size_t m = n * kp, rows = PLATT_BLOCK / kp ? PLATT_BLOCK / kp : 1;
	size_t nblocks = (n + rows - 1) / rows, nt = threads > 1 ? (size_t)threads : 1;
	double np = 0, nn;

	for (size_t i = 0; i < n; i++)
		np += kp == 1 ? y[i] == 1 : 1;
	nn = (double)m - np;
	double tp = (np + 1) / (np + 2), tn = 1 / (nn + 2);
	double a = 0, b = log((np + 1) / (nn + 1));

	if (nt > nblocks)
		nt = nblocks ? nblocks : 1;
	struct platt_job *job = xcalloc(nt, sizeof(*job));
	struct platt_sums *bs = xcalloc(nblocks ? nblocks : 1, sizeof(*bs));
	for (size_t t = 0; t < nt; t++) {
		job[t] = (struct platt_job){.f = f,
					    .y = y,
					    .n = n,
					    .kp = kp,
					    .rows = rows,
					    .first = nblocks * t / nt,
					    .last = nblocks * (t + 1) / nt,
					    .stride = 1,
					    .tp = tp,
					    .tn = tn,
					    .sums = bs};
	}
	/* Newton's steps from the usual start on every PLATT_SUB-th block first, then on all of
	 * them from where those ended: the same optimum (the full data's, to the same tolerance)
	 * in 2-4 full evaluations instead of 10-12 on 50,000 texts of 58 classes */
	if (nblocks >= PLATT_SUB_MIN)
		platt_newton(job, nt, nblocks, PLATT_SUB, &a, &b);
	platt_newton(job, nt, nblocks, 1, &a, &b);
	free(job);
	free(bs);
	*A = a;
	*B = b;
}
