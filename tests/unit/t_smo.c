/* Unit tests of the SMO solver, the kernel-row cache and the Platt helpers (the end-to-end
 * comparison with libsvm is in t_svc.c). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/kernel.h"
#include "core/platt.h"
#include "core/smo.h"

#include "base/base.h"

static uint64_t rs = 42;
static double urand(void)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rs >> 11) / 9007199254740992.0;
}

static double nrand(void)
{
	double u = urand() + 1e-300, v = urand();
	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Two points, hard margin: alpha = 1/2 each, rho = 0, objective -1/2. */
static void check_two_points(void)
{
	double X[2] = {-1, 1};
	signed char y[2] = {-1, 1};
	struct smo_problem p = {.n = 2,
				.d = 1,
				.X = X,
				.y = y,
				.Cp = 100,
				.Cn = 100,
				.tol = 1e-3,
				.cache_bytes = 1 << 20,
				.shrinking = true};
	p.kernel.type = KERNEL_LINEAR;
	struct smo_result r;
	smo_solve(&p, &r);
	check_close(r.alpha[0], 0.5, 1e-9, "two points: alpha0 %g", r.alpha[0]);
	check_close(r.alpha[1], 0.5, 1e-9, "two points: alpha1 %g", r.alpha[1]);
	check(fabs(r.rho) < 1e-9, "two points: rho %g", r.rho);
	check_close(r.obj, -0.5, 1e-9, "two points: objective %g", r.obj);
	free(r.alpha);
}

struct toy {
	size_t n, d;
	double *X;
	signed char *y;
};

static void toy_make(struct toy *t, size_t n, size_t d)
{
	t->n = n;
	t->d = d;
	t->X = xmallocarray(n * d, sizeof(double));
	t->y = xmallocarray(n, 1);
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j < d; j++) {
			t->X[i * d + j] = nrand();
			s += t->X[i * d + j] * t->X[i * d + j];
		}
		/* A ring: not linearly separable, with label noise. */
		t->y[i] = (s > (double)d) ^ (urand() < 0.1) ? 1 : -1;
	}
}

static void toy_free(struct toy *t)
{
	free(t->X);
	free(t->y);
}

/* The KKT conditions of the result, with the gradient recomputed in double from scratch:
 * m(a) - M(a) <= tol (plus slack for the single-precision cache), y'a = 0, box. */
static void check_kkt(const char *name, const struct toy *t, const struct smo_problem *p,
		      const struct smo_result *r)
{
	size_t n = t->n;
	double up = -INFINITY, low = INFINITY, ya = 0;
	bool box = true;
	for (size_t i = 0; i < n; i++) {
		double C = t->y[i] > 0 ? p->Cp : p->Cn;
		box = box && r->alpha[i] >= 0 && r->alpha[i] <= C;
		ya += t->y[i] * r->alpha[i];
		double g = -1;
		for (size_t j = 0; j < n; j++)
			if (r->alpha[j] > 0)
				g +=
				    t->y[i] * t->y[j] * r->alpha[j] *
				    kernel_eval(&p->kernel, t->X + i * t->d, t->X + j * t->d, t->d);
		double yg = -t->y[i] * g;
		bool in_up = t->y[i] > 0 ? r->alpha[i] < C : r->alpha[i] > 0;
		bool in_low = t->y[i] > 0 ? r->alpha[i] > 0 : r->alpha[i] < C;
		if (in_up)
			up = fmax(up, yg);
		if (in_low)
			low = fmin(low, yg);
	}
	check(box, "%s: 0 <= alpha <= C", name);
	check(fabs(ya) < 1e-9, "%s: y'alpha = %.3g", name, ya);
	check(up - low <= p->tol * 1.01 + 1e-5, "%s: KKT violation %.3g <= tol %g", name, up - low,
	      p->tol);
}

static void check_solver(void)
{
	struct toy t;
	toy_make(&t, 400, 5);
	struct smo_problem p = {.n = t.n,
				.d = t.d,
				.X = t.X,
				.y = t.y,
				.Cp = 2,
				.Cn = 0.5,
				.tol = 1e-3,
				.cache_bytes = 100 << 20,
				.shrinking = true};
	p.kernel.type = KERNEL_RBF;
	p.kernel.gamma = 0.2;
	struct smo_result a, b, c;
	smo_solve(&p, &a);
	check_kkt("rbf per-class C", &t, &p, &a);
	/* The smallest cache (two rows) recomputes rows and drops them on swaps: same answer. */
	p.cache_bytes = 1;
	smo_solve(&p, &b);
	size_t nsv_a = 0, nsv_b = 0;
	double maxd = 0;
	for (size_t i = 0; i < t.n; i++) {
		nsv_a += a.alpha[i] > 0;
		nsv_b += b.alpha[i] > 0;
		maxd = fmax(maxd, fabs(a.alpha[i] - b.alpha[i]));
	}
	check(nsv_a == nsv_b && maxd < 1e-6 && fabs(a.rho - b.rho) < 1e-6,
	      "tiny cache: same %zu SVs, alpha diff %.2g", nsv_b, maxd);
	/* Without shrinking the path differs but the optimum is the same to within tol. */
	p.cache_bytes = 100 << 20;
	p.shrinking = false;
	smo_solve(&p, &c);
	check_kkt("no shrinking", &t, &p, &c);
	check(fabs(a.obj - c.obj) <= 1e-3 * fabs(c.obj), "shrinking on/off: objective %.9g vs %.9g",
	      a.obj, c.obj);
	free(a.alpha);
	free(b.alpha);
	free(c.alpha);

	const enum kernel_type types[] = {KERNEL_LINEAR, KERNEL_POLY, KERNEL_SIGMOID};
	const char *names[] = {"linear", "poly", "sigmoid"};
	for (size_t k = 0; k < 3; k++) {
		p.shrinking = true;
		p.kernel.type = types[k];
		p.kernel.gamma = 0.1;
		p.kernel.coef0 = k == 2 ? -0.5 : 1;
		p.kernel.degree = 3;
		p.Cp = p.Cn = 1;
		smo_solve(&p, &a);
		check_kkt(names[k], &t, &p, &a);
		free(a.alpha);
	}
	toy_free(&t);
}

/* Cached rows equal direct kernel evaluations, also after positions are swapped. */
static void check_cache(void)
{
	struct toy t;
	toy_make(&t, 50, 3);
	struct kernel kern = {.type = KERNEL_RBF, .gamma = 0.3};
	struct kcache *c = kcache_new(&kern, t.X, t.y, t.n, t.d, 1 << 20);
	size_t pos[50];
	for (size_t i = 0; i < 50; i++)
		pos[i] = i;
	(void)kcache_row(c, 3, 50);
	(void)kcache_row(c, 7, 20);
	const size_t sw[][2] = {{1, 5}, {3, 40}, {10, 19}, {7, 30}};
	for (size_t s = 0; s < ARRAY_SIZE(sw); s++) {
		kcache_swap(c, sw[s][0], sw[s][1]);
		size_t tmp = pos[sw[s][0]];
		pos[sw[s][0]] = pos[sw[s][1]];
		pos[sw[s][1]] = tmp;
	}
	double maxd = 0;
	const size_t rows[] = {3, 40, 7, 30, 0};
	for (size_t q = 0; q < ARRAY_SIZE(rows); q++) {
		size_t i = rows[q];
		const float *r = kcache_row(c, i, 50);
		for (size_t j = 0; j < 50; j++) {
			double want =
			    t.y[pos[i]] * t.y[pos[j]] *
			    kernel_eval(&kern, t.X + pos[i] * t.d, t.X + pos[j] * t.d, t.d);
			maxd = fmax(maxd, fabs(r[j] - want));
		}
		check(kcache_diag(c)[i] == 1.0, "cache: rbf diagonal is 1 at %zu", i);
	}
	check(maxd < 1e-6, "cache: rows after swaps match kernel_eval (max diff %.2g)", maxd);
	kcache_free(&c);
	check(c == NULL, "cache: freed");
	toy_free(&t);
}

static void check_platt(void)
{
	/* Pairwise probabilities consistent with p recover p. */
	const double p[4] = {0.1, 0.2, 0.3, 0.4};
	double r[16], out[4], work[20];
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++)
			r[i * 4 + j] = p[i] / (p[i] + p[j]);
	platt_couple(r, 4, out, work);
	double maxd = 0, sum = 0;
	for (size_t i = 0; i < 4; i++) {
		maxd = fmax(maxd, fabs(out[i] - p[i]));
		sum += out[i];
	}
	check(maxd < 1e-3 && fabs(sum - 1) < 1e-9, "couple: recovers p (max diff %.2g)", maxd);

	/* Decision values drawn from the sigmoid A=-2, B=0.5: the fit finds them again. */
	size_t n = 20000;
	double *dec = xmallocarray(n, sizeof(double));
	signed char *y = xmallocarray(n, 1);
	for (size_t i = 0; i < n; i++) {
		dec[i] = 3 * nrand();
		y[i] = urand() < 1 / (1 + exp(-2 * dec[i] + 0.5)) ? 1 : -1;
	}
	double A, B;
	platt_fit(dec, y, n, &A, &B);
	check(fabs(A + 2) < 0.15 && fabs(B - 0.5) < 0.15, "platt: A %.3f B %.3f near -2, 0.5", A,
	      B);
	check(platt_prob(1e6, A, B) >= 0 && platt_prob(-1e6, A, B) <= 1 &&
		  fabs(platt_prob(0.3, A, B) - 1 / (1 + exp(0.3 * A + B))) < 1e-15,
	      "platt: probability stable at extremes");
	free(dec);
	free(y);

	/* The pooled fit of a one-vs-rest model (the text svm's) is libsvm's on the same points
	 * flattened, with the opposite sign; enough rows that its first steps run on a sample. */
	size_t rows = 40000, kp = 8, m = rows * kp;
	double *f = xmallocarray(m, sizeof(double));
	int *cls = xmallocarray(rows, sizeof(int));
	signed char *pos = xmallocarray(m, 1);
	for (size_t i = 0; i < rows; i++) {
		cls[i] = (int)(urand() * kp) % (int)kp;
		for (size_t c = 0; c < kp; c++) {
			int yes = (int)c == cls[i];
			f[i * kp + c] = nrand() + (yes ? 1.5 : -1.0);
			pos[i * kp + c] = yes ? 1 : -1;
		}
	}
	double A1, B1, A3, B3;
	platt_fit(f, pos, m, &A, &B);
	platt_fit_pooled(f, cls, rows, kp, 1, &A1, &B1);
	platt_fit_pooled(f, cls, rows, kp, 3, &A3, &B3);
	check(fabs(A1 + A) < 1e-3 && fabs(B1 + B) < 1e-3,
	      "platt pooled: A %.5f B %.5f, libsvm's on the same points %.5f %.5f", A1, B1, -A, -B);
	check(A1 == A3 && B1 == B3, "platt pooled: the same on 1 and 3 threads");
	free(f);
	free(cls);
	free(pos);
}

int main(void)
{
	check_two_points();
	check_solver();
	check_cache();
	check_platt();
	return check_done();
}
