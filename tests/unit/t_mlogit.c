/* Unit tests of the sparse logistic regression solver (core/mlogit): the optimum against
 * scikit-learn's LogisticRegression, the gradient and Hessian-vector product against finite
 * differences, warm starts, the start from a sample of the rows, and independence from the
 * number of threads. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "core/mlogit.h"
#include "core/rng.h"
#include "core/sparse.h"
#include "check.h"
#include "mlogit_ref.h"

static void load_problem(struct csr *X)
{
	csr_init(X, ML_D);
	for (size_t i = 0; i < ML_N; i++)
		csr_add_row(X, ml_indptr[i + 1] - ml_indptr[i], ml_indices + ml_indptr[i],
			    ml_data + ml_indptr[i]);
}

/* n documents of k classes over d terms, len terms each, shaped like short texts: a few
 * terms from a band of the class's own (keywords, Zipf-like), the rest from 200 common terms that
 * every class uses; one in ten labelled at random. Values tf-idf-like, rows l2-normed. */
static void make_docs(struct csr *X, int *y, size_t n, size_t k, size_t d, size_t len,
		      uint64_t seed)
{
	struct rng r;
	uint32_t idx[64];
	double val[64];
	const size_t common = 200, band = (d - common) / k;
	rng_init(&r, seed);
	csr_init(X, d);
	for (size_t i = 0; i < n; i++) {
		size_t c = (size_t)rng_below(&r, k), m = 0;
		y[i] = rng_below(&r, 10) ? (int)c : (int)rng_below(&r, k);
		for (size_t t = 0; t < len; t++) {
			/* a keyword's rank log-uniform: a few frequent, many rare (Zipf-like) */
			size_t kw = (size_t)pow((double)band, rng_uniform(&r)) - 1;
			uint32_t j =
			    (uint32_t)(t < 3 ? common + c * band + (kw < band ? kw : band - 1)
					     : rng_below(&r, common));
			size_t q = 0;
			while (q < m && idx[q] != j)
				q++;
			if (q == m) {
				idx[m] = j;
				val[m++] = 0;
			}
			val[q] += t < 3 ? 3 : 0.5 + rng_uniform(&r);
		}
		/* sorted columns, as the vectorizer makes them */
		for (size_t a = 1; a < m; a++)
			for (size_t b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
				uint32_t ti = idx[b];
				double tv = val[b];
				idx[b] = idx[b - 1];
				val[b] = val[b - 1];
				idx[b - 1] = ti;
				val[b - 1] = tv;
			}
		double ss = 0;
		for (size_t q = 0; q < m; q++)
			ss += val[q] * val[q];
		for (size_t q = 0; q < m; q++)
			val[q] /= sqrt(ss);
		csr_add_row(X, m, idx, val);
	}
}

/* The start from a sample of the rows (on 16,384 rows, the smallest that take it): the same
 * optimum as fitting every row from zeros, fewer products over all the rows, the same bits
 * on 1 and 3 threads; none from a warm start. */
static void test_sample(void)
{
	const size_t n = 16384, k = 20, d = 20000, nw = k * (d + 1);
	struct csr X;
	int *y = xmallocarray(n, sizeof(*y));
	struct err e = ERR_INIT;
	make_docs(&X, y, n, k, d, 12, 11);
	struct mlogit_opts o = {.C = 1, .tol = 1e-8, .max_iter = 200, .threads = 1};
	struct mlogit_info si, fi, ti;
	double *A = xcalloc(nw, sizeof(double)), *B = xcalloc(nw, sizeof(double)),
	       *T = xcalloc(nw, sizeof(double));
	int ok = mlogit_fit(&X, y, k, &o, A, &si, &e) == 0;
	o.no_sample = 1;
	ok = ok && mlogit_fit(&X, y, k, &o, B, &fi, &e) == 0;
	check(ok && si.converged && fi.converged, "fits with and without the sample converge");
	check(si.sample_rows == n / 4 && si.sample_cg_iterations > 0 && fi.sample_rows == 0,
	      "a quarter of the rows started the fit (%zu rows, %d iterations, %d products)",
	      si.sample_rows, si.sample_iterations, si.sample_cg_iterations);
	double dw = 0;
	for (size_t q = 0; q < nw; q++)
		dw = fmax(dw, fabs(A[q] - B[q]));
	check(fabs(si.f - fi.f) <= 1e-12 * fi.f && dw < 1e-4,
	      "the same optimum (objective %.15g against %.15g, weights within %.2g)", si.f, fi.f,
	      dw);
	/* the start is the sample's optimum put back in the right columns: most of the way from
	 * zeros to the optimum (how many products that saves depends on the data: see
	 * bench/RESULTS.md) */
	check(si.f_start - si.f < 0.25 * (fi.f_start - fi.f),
	      "the sample's start is three quarters of the way or more: objective %.6f there, "
	      "%.6f from zeros, %.6f "
	      "at the optimum (%d products from there, and %d on the sample, against %d)",
	      si.f_start, fi.f_start, fi.f, si.cg_iterations, si.sample_cg_iterations,
	      fi.cg_iterations);
	o.no_sample = 0;
	o.threads = 3;
	ok = mlogit_fit(&X, y, k, &o, T, &ti, &e) == 0;
	check(ok && ti.sample_rows == n / 4 && !memcmp(A, T, nw * sizeof(double)),
	      "with the sample: the same bits on 1 and 3 threads");
	/* from its own optimum, a fit starts where it is: no sample */
	ok = mlogit_fit(&X, y, k, &o, T, &ti, &e) == 0;
	check(ok && ti.sample_rows == 0 && ti.iterations == 0,
	      "a warm start takes no sample (%zu rows, %d iterations)", ti.sample_rows,
	      ti.iterations);
	free(A);
	free(B);
	free(T);
	free(y);
	csr_release(&X);
}

/* Largest |W - ref| over the weights (ref: kp x d coef, kp intercepts). */
static double max_diff(const double *W, const double *coef, const double *icpt, size_t kp)
{
	double m = 0;
	for (size_t c = 0; c < kp; c++) {
		for (size_t j = 0; j < ML_D; j++)
			m = fmax(m, fabs(W[c * (ML_D + 1) + j] - coef[c * ML_D + j]));
		m = fmax(m, fabs(W[c * (ML_D + 1) + ML_D] - icpt[c]));
	}
	return m;
}

/* The weighted mean log-loss of the training rows at W. */
static double logloss(const struct csr *X, const int *y, size_t k, const double *W,
		      const double *cw)
{
	size_t kp = k == 2 ? 1 : k;
	double tot = 0, sum = 0;
	for (size_t i = 0; i < X->nrows; i++) {
		double s[ML_K12], lse = -INFINITY, wi = cw ? cw[y[i]] : 1;
		for (size_t c = 0; c < kp; c++) {
			s[c] = W[c * (ML_D + 1) + ML_D] + csr_row_dot(X, i, W + c * (ML_D + 1));
			lse = fmax(lse, s[c]);
		}
		double l;
		if (kp == 1) {
			l = y[i] == 1 ? log1p(exp(-s[0])) : log1p(exp(s[0]));
		} else {
			double z = 0;
			for (size_t c = 0; c < kp; c++)
				z += exp(s[c] - lse);
			l = lse + log(z) - s[y[i]];
		}
		sum += wi * l;
		tot += wi;
	}
	return sum / tot;
}

static void balanced(const int *y, size_t k, double *cw)
{
	size_t cnt[ML_K] = {0};
	for (size_t i = 0; i < ML_N; i++)
		cnt[y[i]]++;
	for (size_t c = 0; c < k; c++)
		cw[c] = (double)ML_N / ((double)k * (double)cnt[c]);
}

/* Fits from zero at a tight tol and compares with the reference. */
static void against_sklearn(const struct csr *X, const int *y, size_t k, double C, const double *cw,
			    const double *coef, const double *icpt, double ll, const char *name)
{
	size_t kp = k == 2 ? 1 : k, nw = kp * (ML_D + 1);
	struct mlogit_opts o = {.C = C, .weight = cw, .tol = 1e-9, .max_iter = 200, .threads = 2};
	struct mlogit_info info;
	struct err e = ERR_INIT;
	double *W = xcalloc(nw, sizeof(*W));
	check(mlogit_fit(X, y, k, &o, W, &info, &e) == 0, "%s: fits", name);
	check(info.converged, "%s: converged (%d Newton iterations, %d products, max |g| %.2g)",
	      name, info.iterations, info.cg_iterations, info.pg_max);
	double dw = max_diff(W, coef, icpt, kp);
	check(dw < 1e-6, "%s: weights equal scikit-learn's (max diff %.2g)", name, dw);
	double l = logloss(X, y, k, W, cw);
	check_close(l, ll, 1e-8, "%s: training log-loss %.12f equals scikit-learn's %.12f", name, l,
		    ll);
	free(W);
}

int main(void)
{
	struct csr X;
	struct err e = ERR_INIT;
	double cw[ML_K];
	load_problem(&X);

	against_sklearn(&X, ml_y, ML_K, 1.0, NULL, ml_c1_coef, ml_c1_intercept, ml_c1_logloss,
			"multinomial C=1");
	balanced(ml_y, ML_K, cw);
	against_sklearn(&X, ml_y, ML_K, 10.0, cw, ml_c10_bal_coef, ml_c10_bal_intercept,
			ml_c10_bal_logloss, "multinomial C=10 balanced");
	against_sklearn(&X, ml_yb, 2, 1.0, NULL, ml_bin_coef, ml_bin_intercept, ml_bin_logloss,
			"binary C=1");
	/* 12 classes: the conjugate gradients' products run in single precision, the loss and
	 * gradient in double, and the optimum is still scikit-learn's */
	against_sklearn(&X, ml_y12, ML_K12, 1.0, NULL, ml_k12_coef, ml_k12_intercept,
			ml_k12_logloss, "multinomial, 12 classes");

	/* the gradient and the Hessian-vector product against central differences, at a point
	 * away from the optimum and with unequal class weights; with 12 classes the product is
	 * taken in single precision, so it is checked relative to its size */
	static const char *const cases[] = {"multinomial", "binary", "12 classes"};
	for (int cs = 0; cs < 3; cs++) {
		size_t k = cs == 1 ? 2 : cs == 2 ? ML_K12 : ML_K, kp = k == 2 ? 1 : k;
		size_t nw = kp * (ML_D + 1);
		const int *y = cs == 1 ? ml_yb : cs == 2 ? ml_y12 : ml_y;
		const char *name = cases[cs];
		double w8[ML_K12] = {1, 2, 0.5, 1.5, 3, 1, 0.7, 2.5, 1.2, 0.9, 1.1, 2};
		struct mlogit_opts o = {.C = 3, .weight = w8, .threads = 1};
		double *W = xmallocarray(nw, sizeof(double)), *g = xmallocarray(nw, sizeof(double));
		double *v = xmallocarray(nw, sizeof(double)),
		       *hv = xmallocarray(nw, sizeof(double));
		double *gp = xmallocarray(nw, sizeof(double)),
		       *gm = xmallocarray(nw, sizeof(double));
		for (size_t q = 0; q < nw; q++) {
			W[q] = sin(0.7 * (double)q + 1) * 2;
			v[q] = cos(1.3 * (double)q);
		}
		double f = mlogit_objective(&X, y, k, &o, W, g), worst = 0, h = 1e-5;
		check(isfinite(f), "%s: objective finite", name);
		for (size_t q = 0; q < nw; q++) {
			double keep = W[q];
			W[q] = keep + h;
			double fp = mlogit_objective(&X, y, k, &o, W, NULL);
			W[q] = keep - h;
			double fm = mlogit_objective(&X, y, k, &o, W, NULL);
			W[q] = keep;
			worst = fmax(worst, fabs((fp - fm) / (2 * h) - g[q]));
		}
		check(worst < 1e-8, "%s: gradient matches central differences (max diff %.2g)",
		      name, worst);
		mlogit_hessvec(&X, y, k, &o, W, v, hv);
		for (size_t q = 0; q < nw; q++)
			W[q] += h * v[q];
		mlogit_objective(&X, y, k, &o, W, gp);
		for (size_t q = 0; q < nw; q++)
			W[q] -= 2 * h * v[q];
		mlogit_objective(&X, y, k, &o, W, gm);
		worst = 0;
		double size = 0;
		for (size_t q = 0; q < nw; q++) {
			worst = fmax(worst, fabs((gp[q] - gm[q]) / (2 * h) - hv[q]));
			size = fmax(size, fabs(hv[q]));
		}
		check(size > 0.01 && worst < (cs == 2 ? 1e-6 * size : 1e-7),
		      "%s: Hessian-vector product matches differences of gradients "
		      "(max diff %.2g, largest entry %.2g)",
		      name, worst, size);
		free(W);
		free(g);
		free(v);
		free(hv);
		free(gp);
		free(gm);
	}

	/* warm start: from the optimum of four fifths of the rows (a held-out fit before the
	 * refit) the solver reaches the same optimum as from zero, in fewer products; from the
	 * optimum itself it takes no step */
	{
		size_t nw = ML_K * (ML_D + 1);
		struct mlogit_opts o = {.C = 1, .tol = 1e-8, .max_iter = 200, .threads = 1};
		struct mlogit_info cold, warm, again;
		double *W0 = xcalloc(nw, sizeof(double)), *W1 = xcalloc(nw, sizeof(double));
		struct csr Xs;
		size_t idx[ML_N], m = 0;
		int ys[ML_N];
		for (size_t r = 0; r < ML_N; r++)
			if (r % 5) {
				idx[m] = r;
				ys[m++] = ml_y[r];
			}
		csr_subset_rows(&Xs, &X, idx, m);
		check(mlogit_fit(&X, ml_y, ML_K, &o, W0, &cold, &e) == 0, "cold fit");
		check(mlogit_fit(&Xs, ys, ML_K, &o, W1, NULL, &e) == 0,
		      "fit on four fifths of the rows");
		check(mlogit_fit(&X, ml_y, ML_K, &o, W1, &warm, &e) == 0, "warm fit");
		double dw = 0;
		for (size_t q = 0; q < nw; q++)
			dw = fmax(dw, fabs(W0[q] - W1[q]));
		check(warm.converged && dw < 1e-6,
		      "warm start reaches the same optimum (max diff %.2g; %d products against %d "
		      "from zero)",
		      dw, warm.cg_iterations, cold.cg_iterations);
		check(warm.cg_iterations < cold.cg_iterations, "warm start takes fewer products");
		check(mlogit_fit(&X, ml_y, ML_K, &o, W0, &again, &e) == 0 && again.iterations == 0,
		      "from the optimum: no iteration");
		csr_release(&Xs);
		free(W0);
		free(W1);
	}

	/* the same bits on 1 and 3 threads */
	{
		size_t nw = ML_K * (ML_D + 1);
		struct mlogit_opts o = {.C = 1, .tol = 1e-6, .max_iter = 100, .threads = 1};
		double *A = xcalloc(nw, sizeof(double)), *B = xcalloc(nw, sizeof(double));
		mlogit_fit(&X, ml_y, ML_K, &o, A, NULL, &e);
		o.threads = 3;
		mlogit_fit(&X, ml_y, ML_K, &o, B, NULL, &e);
		check(memcmp(A, B, nw * sizeof(double)) == 0, "same result on 1 and 3 threads");
		free(A);
		free(B);
		/* and in single precision (12 classes) */
		nw = ML_K12 * (ML_D + 1);
		A = xcalloc(nw, sizeof(double));
		B = xcalloc(nw, sizeof(double));
		o.threads = 1;
		mlogit_fit(&X, ml_y12, ML_K12, &o, A, NULL, &e);
		o.threads = 3;
		mlogit_fit(&X, ml_y12, ML_K12, &o, B, NULL, &e);
		check(memcmp(A, B, nw * sizeof(double)) == 0,
		      "12 classes: same result on 1 and 3 threads");
		free(A);
		free(B);
	}

	/* bad arguments */
	{
		double W[ML_D + 1] = {0};
		int ybad[ML_N];
		struct mlogit_opts o = {.C = 1, .tol = 1e-4, .max_iter = 10};
		check(mlogit_fit(&X, ml_y, 1, &o, W, NULL, &e) < 0 && e.code == DYN_EDATA,
		      "one class refused: %s", e.msg);
		memcpy(ybad, ml_yb, sizeof(ybad));
		ybad[7] = 2;
		check(mlogit_fit(&X, ybad, 2, &o, W, NULL, &e) < 0 && strstr(e.msg, "row 8"),
		      "label out of range refused: %s", e.msg);
		o.C = 0;
		check(mlogit_fit(&X, ml_yb, 2, &o, W, NULL, &e) < 0 && e.code == DYN_EUSAGE,
		      "C = 0 refused: %s", e.msg);
	}
	csr_release(&X);
	test_sample();
	return check_done();
}
