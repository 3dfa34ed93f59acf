/* Unit tests of the linear SVM solver's warm start (linsvm_opts.alpha) on small synthetic
 * sparse data: started from the duals of a fit on part of the rows it reaches the cold fit's
 * solution in fewer passes, bad starting values count as 0, threads do not change it. (The
 * solutions against scikit-learn's are checked in t_text_model.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/linsvm.h"
#include "base/base.h"

#include "core/rng.h"

/* n rows of 12 non-zeros of d = 300 columns (16 k + 16 if more), l2-normalized, k classes:
 * each class has columns of its own that its rows draw half their terms from (16 columns, so
 * that a row always finds 6 free ones), the rest at random; 10% of the labels
 * flipped, so that many rows keep a dual variable > 0 (the problem is not separable). */
static void make_data(struct csr *X, int *y, size_t n, size_t k, uint64_t seed)
{
	const size_t d = 16 * k + 16 > 300 ? 16 * k + 16 : 300, nnz = 12;
	struct rng r;
	rng_init(&r, seed);
	csr_init(X, d);
	for (size_t i = 0; i < n; i++) {
		uint32_t idx[12];
		double val[12];
		size_t c = (size_t)rng_below(&r, k), q = 0;
		while (q < nnz) {
			uint32_t j = q % 2 ? (uint32_t)(c * 16 + rng_below(&r, 16))
					   : (uint32_t)rng_below(&r, d);
			size_t t;
			for (t = 0; t < q && idx[t] != j; t++)
				;
			if (t < q)
				continue; /* no duplicates in a row */
			idx[q] = j;
			val[q++] = 0.2 + rng_uniform(&r);
		}
		csr_add_row(X, nnz, idx, val);
		y[i] = (int)(rng_uniform(&r) < 0.1 ? rng_below(&r, k) : c);
	}
	csr_normalize_rows_l2(X);
}

/* The class of the largest decision value of every row agree between W and V. */
static int same_predictions(const struct csr *X, size_t k, const double *W, const double *V)
{
	size_t D1 = X->ncols + 1;
	for (size_t i = 0; i < X->nrows; i++) {
		size_t bw = 0, bv = 0;
		double fw = -INFINITY, fv = -INFINITY;
		for (size_t c = 0; c < k; c++) {
			double a = csr_row_dot(X, i, W + c * D1) + W[c * D1 + X->ncols];
			double b = csr_row_dot(X, i, V + c * D1) + V[c * D1 + X->ncols];
			if (a > fw)
				fw = a, bw = c;
			if (b > fv)
				fv = b, bv = c;
		}
		if (bw != bv)
			return 0;
	}
	return 1;
}

static double max_diff(const double *a, const double *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs(a[i] - b[i]));
	return m;
}

/* The warm start of k classes (kp dual variables a row): from a fit on 3/4 of the rows, from
 * bad values, with 1 and 3 threads. */
static void test_warm(size_t k)
{
	const size_t n = 1200;
	size_t kp = k == 2 ? 1 : k;
	struct csr X, Xs;
	int *y = xmallocarray(n, sizeof(*y));
	struct err e = ERR_INIT;
	make_data(&X, y, n, k, 7 + k);
	size_t D1 = X.ncols + 1;
	struct linsvm_opts o = {.C = 1, .tol = 1e-6, .max_iter = 3000, .seed = 5, .threads = 1};
	struct linsvm_info cold_info, sub_info, warm_info;
	double *Wc = xmallocarray(k * D1, sizeof(double)),
	       *Ww = xmallocarray(k * D1, sizeof(double));
	double *W = xmallocarray(k * D1, sizeof(double));
	float *ac = xcalloc(n * kp, sizeof(float)), *aw = xcalloc(n * kp, sizeof(float));
	float *a = xmallocarray(n * kp, sizeof(float)), *bad = xmallocarray(n * kp, sizeof(float));

	/* cold: without alpha, and with a zero alpha, which also returns the solution's duals */
	uint32_t *cols = xmallocarray(X.nnz, sizeof(*cols));
	double *vals = xmallocarray(X.nnz, sizeof(*vals));
	memcpy(cols, X.indices, X.nnz * sizeof(*cols));
	memcpy(vals, X.data, X.nnz * sizeof(*vals));
	int ok = linsvm_fit(&X, y, k, &o, Wc, &cold_info, &e) == 0;
	check(ok && !memcmp(cols, X.indices, X.nnz * sizeof(*cols)) &&
		  !memcmp(vals, X.data, X.nnz * sizeof(*vals)),
	      "k=%zu: X as it was after the fit (its columns renumbered while it ran)", k);
	free(cols);
	free(vals);
	o.alpha = ac;
	ok = ok && linsvm_fit(&X, y, k, &o, W, NULL, &e) == 0;
	check(ok && cold_info.unconverged == 0 && !memcmp(W, Wc, k * D1 * sizeof(double)),
	      "k=%zu: a zero start is the cold fit, to the bit (%d passes)", k,
	      cold_info.max_iter_used);
	/* the returned duals are the solution's: w = sum alpha_i y_i x_i, and none is < 0 */
	double *Wa = xcalloc(D1, sizeof(double));
	int nonneg = 1;
	size_t ncls = k == 2 ? 1 : k, positive = 0;
	for (size_t c = 0; c < ncls; c++) {
		size_t cc = k == 2 ? 1 : c; /* two classes: class 1 against class 0 */
		memset(Wa, 0, D1 * sizeof(double));
		for (size_t i = 0; i < n; i++) {
			double al = ac[i * kp + (k == 2 ? 0 : c)], yi = (size_t)y[i] == cc ? 1 : -1;
			nonneg = nonneg && al >= 0 && isfinite(al);
			positive += al > 0;
			csr_row_axpy(&X, i, al * yi, Wa);
			Wa[X.ncols] += al * yi;
		}
		double md = max_diff(Wa, Wc + cc * D1, D1);
		check(md < 1e-5,
		      "k=%zu class %zu: the returned duals give the weights (max diff %.2g)", k, cc,
		      md);
	}
	check(nonneg && positive > n / 10, "k=%zu: the returned duals are >= 0, %zu of them > 0", k,
	      positive);

	/* a fit on the rows i % 4 != 0, its duals placed on their rows, the others at 0 */
	size_t *rows = xmallocarray(n, sizeof(size_t)), ns = 0;
	int *ys = xmallocarray(n, sizeof(int));
	for (size_t i = 0; i < n; i++)
		if (i % 4) {
			ys[ns] = y[i];
			rows[ns++] = i;
		}
	csr_subset_rows(&Xs, &X, rows, ns);
	float *as = xcalloc(ns * kp, sizeof(float));
	o.alpha = as;
	ok = linsvm_fit(&Xs, ys, k, &o, W, &sub_info, &e) == 0;
	memset(aw, 0, n * kp * sizeof(float));
	for (size_t r = 0; r < ns; r++)
		memcpy(aw + rows[r] * kp, as + r * kp, kp * sizeof(float));
	memcpy(a, aw, n * kp * sizeof(float)); /* kept for the checks below */
	o.alpha = aw;
	ok = ok && linsvm_fit(&X, y, k, &o, Ww, &warm_info, &e) == 0;
	double md = max_diff(Ww, Wc, k * D1);
	check(ok && warm_info.unconverged == 0 && md < 1e-3,
	      "k=%zu: warm from a fit on 3/4 of the rows: the cold fit's weights (max diff %.2g)",
	      k, md);
	check(same_predictions(&X, k, Ww, Wc), "k=%zu: warm and cold predict the same classes", k);
	check(warm_info.max_iter_used < cold_info.max_iter_used,
	      "k=%zu: in fewer passes (%d warm, %d cold)", k, warm_info.max_iter_used,
	      cold_info.max_iter_used);

	/* from the solution's own duals: a pass finds it optimal, with the rows it shrank
	 * checked once more and the duals' rounding to float a pass at most */
	memcpy(bad, ac, n * kp * sizeof(float));
	o.alpha = bad;
	ok = linsvm_fit(&X, y, k, &o, W, &warm_info, &e) == 0;
	md = max_diff(W, Wc, k * D1);
	check(ok && warm_info.max_iter_used <= 3 && md < 1e-5,
	      "k=%zu: warm from the solution's duals: %d passes, the same weights (max diff %.2g)",
	      k, warm_info.max_iter_used, md);

	/* bad values where the start is 0: negative, NaN, infinite, taken as 0 to the bit */
	memcpy(bad, a, n * kp * sizeof(float));
	static const float junk[] = {-1.0f, NAN, INFINITY, -INFINITY, -0.0f, -1e30f};
	for (size_t i = 0, q = 0; i < n; i += 4)
		for (size_t c = 0; c < kp; c++)
			bad[i * kp + c] = junk[q++ % ARRAY_SIZE(junk)];
	o.alpha = bad;
	ok = linsvm_fit(&X, y, k, &o, W, NULL, &e) == 0;
	check(ok && !memcmp(W, Ww, k * D1 * sizeof(double)) &&
		  !memcmp(bad, aw, n * kp * sizeof(float)),
	      "k=%zu: negative, NaN and infinite starting values count as 0", k);
	for (size_t q = 0; q < n * kp; q++)
		bad[q] = junk[q % ARRAY_SIZE(junk)];
	ok = linsvm_fit(&X, y, k, &o, W, NULL, &e) == 0;
	check(ok && !memcmp(W, Wc, k * D1 * sizeof(double)),
	      "k=%zu: a start of bad values only is the cold fit, to the bit", k);

	/* the warm start, as the fit, does not depend on the number of threads (3 threads share
	 * out the classes unevenly: a class read from another's duals would show) */
	memcpy(bad, a, n * kp * sizeof(float));
	o.alpha = bad;
	o.threads = 3;
	o.tol = 0.1; /* the default: the solution still depends on the path, and must not */
	ok = linsvm_fit(&X, y, k, &o, W, NULL, &e) == 0;
	o.threads = 1;
	o.alpha = a;
	ok = ok && linsvm_fit(&X, y, k, &o, Ww, NULL, &e) == 0;
	check(ok && !memcmp(W, Ww, k * D1 * sizeof(double)) &&
		  !memcmp(bad, a, n * kp * sizeof(float)),
	      "k=%zu: warm, 1 and 3 threads give the same weights and duals", k);

	free(bad);
	free(as);
	free(ys);
	free(rows);
	free(Wa);
	free(a);
	free(aw);
	free(ac);
	free(W);
	free(Ww);
	free(Wc);
	free(y);
	csr_release(&Xs);
	csr_release(&X);
}

/* The solver takes a row's sums class by class, a group's few classes unrolled, or all of a
 * group's classes as vectors when a quarter or more take part (linsvm.c): each sum in the same
 * order, so the weights are the same bits whichever way the classes are grouped. 24 classes on 1, 2
 * and 3 threads: groups of 24 and 12 (vectors of 16 and 8, and picked classes in late passes) and
 * of 8 (unrolled). */
static void test_paths(void)
{
	const size_t n = 1500, k = 24;
	struct csr X;
	int *y = xmallocarray(n, sizeof(*y));
	struct err e = ERR_INIT;
	make_data(&X, y, n, k, 11);
	size_t D1 = X.ncols + 1;
	struct linsvm_opts o = {.C = 1, .tol = 0.1, .max_iter = 1000, .seed = 3, .threads = 1};
	struct linsvm_info info;
	double *W1 = xmallocarray(k * D1, sizeof(double)),
	       *W = xmallocarray(k * D1, sizeof(double));
	int ok = linsvm_fit(&X, y, k, &o, W1, &info, &e) == 0;
	check(ok && info.unconverged == 0 && info.max_iter_used > 2,
	      "k=%zu, one group: converged in %d passes", k, info.max_iter_used);
	for (int t = 2; t <= 3; t++) {
		o.threads = t;
		ok = linsvm_fit(&X, y, k, &o, W, NULL, &e) == 0;
		check(ok && !memcmp(W, W1, k * D1 * sizeof(double)),
		      "k=%zu: %d groups give the weights of one, to the bit", k, t);
	}
	free(W);
	free(W1);
	free(y);
	csr_release(&X);
}

int main(void)
{
	test_warm(2);
	test_warm(5);
	test_paths();
	return check_done();
}
