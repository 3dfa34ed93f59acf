/* ETS models: the state recursion, R's heuristics for starting values, maximum-likelihood
 * fitting by Nelder-Mead, selection by AICc, and forecast means and variances. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/blas.h"

#include "base/base.h"
#include "base/mem.h"
#include "core/neldermead.h"
#include "core/rng.h"
#include "ts/ets.h"

/* Guards of the recursion, as in R's etscalc.c: a near-zero divisor yields a huge value
 * rather than a division by zero. */
#define ETS_TOL	 1.0e-10
#define ETS_HUGE 1.0e10

static const double ets_lower[4] = {1e-4, 1e-4, 1e-4, 0.8};
static const double ets_upper[4] = {0.9999, 0.9999, 0.9999, 0.98};

int ets_spec_parse(const char *s, int *error, int *trend, int *season, int *damped)
{
	int c[3], k = 0;
	*damped = -1;
	for (const char *p = s; *p; p++) {
		int v;
		if (*p == 'd' && k == 2) {
			if (c[1] == ETS_N)
				return -1;
			*damped = 1;
			continue;
		}
		if (k == 3)
			return -1;
		switch (*p) {
		case 'N':
			v = ETS_N;
			break;
		case 'A':
			v = ETS_A;
			break;
		case 'M':
			v = ETS_M;
			break;
		case 'Z':
			v = ETS_Z;
			break;
		default:
			return -1;
		}
		if (k == 0 && v == ETS_N)
			return -1;
		c[k++] = v;
	}
	if (k != 3)
		return -1;
	*error = c[0];
	*trend = c[1];
	*season = c[2];
	if (*damped < 0 && (c[1] == ETS_N || c[1] == ETS_A || c[1] == ETS_M))
		*damped = 0;
	return 0;
}

static char ets_letter(int c)
{
	return c == ETS_A ? 'A' : c == ETS_M ? 'M' : 'N';
}

void ets_name(const struct ets_model *f, char *buf, size_t len)
{
	snprintf(buf, len, "ETS(%c,%c%s,%c)", ets_letter(f->error), ets_letter(f->trend),
		 f->damped ? "d" : "", ets_letter(f->season));
}

/* ---- small numerical helpers ---- */

double ts_qnorm(double p)
{
	/* Acklam's rational approximation, then one Halley step on erfc for full precision. */
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
				   -2.759285104469687e+02, 1.383577518672690e+02,
				   -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
				   -1.556989798598866e+02, 6.680131188771972e+01,
				   -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
				   -2.400758277161838e+00, -2.549732539343734e+00,
				   4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00, 3.754408661907416e+00};
	double q, r, x, e, u;
	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	for (int it = 0; it < 2; it++) {
		e = 0.5 * erfc(-x / sqrt(2.0)) - p;
		u = e * sqrt(2 * M_PI) * exp(x * x / 2);
		x = x - u / (1 + x * u / 2);
	}
	return x;
}

void ts_linefit(const double *y, size_t n, double x0, double *a, double *b)
{
	double mx = x0 + ((double)n - 1) / 2, my = 0, sxy = 0, sxx = 0;
	for (size_t i = 0; i < n; i++)
		my += y[i];
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dx = x0 + (double)i - mx;
		sxy += dx * (y[i] - my);
		sxx += dx * dx;
	}
	*b = sxx > 0 ? sxy / sxx : 0;
	*a = my - *b * mx;
}

double ts_centred_ma(const double *y, size_t i, size_t m)
{
	size_t k = m / 2, j;
	double tr = 0;
	if (m % 2) {
		for (j = i - k; j <= i + k; j++)
			tr += y[j];
	} else {
		tr = 0.5 * (y[i - k] + y[i + k]);
		for (j = i - k + 1; j < i + k; j++)
			tr += y[j];
	}
	return tr / (double)m;
}

int ts_decompose(const double *y, size_t n, size_t m, int multiplicative, double *fig)
{
	/* centred moving average of order m (2xm for even m), then per-position means of the
	 * detrended values, normalized */
	size_t k = m / 2, i;
	double tot = 0;
	int ret = 0;
	double *sum = xcalloc(m, sizeof(*sum));
	size_t *cnt = xcalloc(m, sizeof(*cnt));
	if (m < 2 || n < 2 * m) {
		ret = -1;
		goto out;
	}
	for (i = k; i + k < n; i++) {
		double tr = ts_centred_ma(y, i, m), s;
		s = multiplicative ? y[i] / tr : y[i] - tr;
		if (!isfinite(s))
			continue;
		sum[i % m] += s;
		cnt[i % m]++;
	}
	for (i = 0; i < m; i++) {
		if (!cnt[i]) {
			ret = -1;
			goto out;
		}
		fig[i] = sum[i] / (double)cnt[i];
		tot += fig[i];
	}
	tot /= (double)m;
	for (i = 0; i < m; i++)
		fig[i] = multiplicative ? fig[i] / tot : fig[i] - tot;
	for (i = 0; i < m; i++)
		if (!isfinite(fig[i]))
			ret = -1;
out:
	free(sum);
	free(cnt);
	return ret;
}

/* Least squares for up to 4 regressors by the normal equations (the design is tiny). */
static int ets_small_ls(const double *X, const double *y, size_t n, size_t p, double *coef)
{
	double A[4][5] = {{0}};
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < p; i++) {
			for (size_t j = 0; j < p; j++)
				A[i][j] += X[t * p + i] * X[t * p + j];
			A[i][p] += X[t * p + i] * y[t];
		}
	for (size_t c = 0; c < p; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < p; r++)
			if (fabs(A[r][c]) > fabs(A[piv][c]))
				piv = r;
		if (fabs(A[piv][c]) < 1e-300)
			return -1;
		for (size_t j = 0; j <= p; j++) {
			double t = A[c][j];
			A[c][j] = A[piv][j];
			A[piv][j] = t;
		}
		for (size_t r = 0; r < p; r++) {
			double f;
			if (r == c)
				continue;
			f = A[r][c] / A[c][c];
			for (size_t j = c; j <= p; j++)
				A[r][j] -= f * A[c][j];
		}
	}
	for (size_t i = 0; i < p; i++)
		coef[i] = A[i][p] / A[i][i];
	return 0;
}

/* R's initstate(): starting level, trend and m-1 seasonal states (s_1..s_{m-1} in R's
 * order) from a decomposition of the data. Returns the number of states or -1. */
static int ets_initstate(const double *y, size_t n, size_t m, int trend, int season, double *x)
{
	double seas[ETS_MAX_M + 1], ysa[48], l0, b0 = 0;
	size_t maxn, i, ns = 0;
	double fa = 0, fb = 0; /* Fourier fit: intercept and slope (n < 3m) */
	int fourier = 0;

	if (season != ETS_N) {
		if (n < 4)
			return -1;
		if (n < 3 * m) {
			/* too short for a decomposition: y ~ 1 + t + sin + cos of the period */
			size_t p = m == 2 ? 3 : 4;
			double *X = xmallocarray(n * p, sizeof(*X)), coef[4];
			int rc;
			for (i = 0; i < n; i++) {
				double t = (double)(i + 1), w = 2 * M_PI * t / (double)m;
				X[i * p] = 1;
				X[i * p + 1] = t;
				if (p == 4) {
					X[i * p + 2] = sin(w);
					X[i * p + 3] = cos(w);
				} else {
					X[i * p + 2] = cos(w);
				}
			}
			rc = ets_small_ls(X, y, n, p, coef);
			free(X);
			if (rc)
				return -1;
			fa = coef[0];
			fb = coef[1];
			fourier = 1;
			for (i = 0; i < m; i++) {
				double t = (double)(i + 1);
				seas[i] =
				    season == ETS_A ? y[i] - fa - fb * t : y[i] / (fa + fb * t);
			}
		} else if (ts_decompose(y, n, m, season == ETS_M, seas)) {
			return -1;
		}
	} else {
		m = 1;
	}
	maxn = 2 * m > 10 ? 2 * m : 10;
	if (maxn > n)
		maxn = n;
	for (i = 0; i < maxn; i++) {
		double s;
		if (season == ETS_N) {
			ysa[i] = y[i];
			continue;
		}
		if (fourier) {
			double t = (double)(i + 1);
			s = season == ETS_A ? y[i] - fa - fb * t : y[i] / (fa + fb * t);
		} else {
			s = seas[i % m];
		}
		ysa[i] = season == ETS_A ? y[i] - s : y[i] / (s > 0.01 ? s : 0.01);
	}
	if (trend == ETS_N) {
		l0 = 0;
		for (i = 0; i < maxn; i++)
			l0 += ysa[i];
		l0 /= (double)maxn;
	} else {
		double a, b;
		ts_linefit(ysa, maxn, 1.0, &a, &b);
		if (trend == ETS_A) {
			l0 = a;
			b0 = b;
			if (fabs(l0 + b0) < 1e-8) {
				l0 *= 1 + 1e-3;
				b0 *= 1 - 1e-3;
			}
		} else {
			l0 = a + b;
			if (fabs(l0) < 1e-8)
				l0 = 1e-7;
			b0 = (a + 2 * b) / l0;
			l0 = l0 / b0;
			if (fabs(b0) > 1e10)
				b0 = b0 > 0 ? 1e10 : -1e10;
			if (l0 < 1e-8 || b0 < 1e-8) {
				l0 = ysa[0] > 1e-3 ? ysa[0] : 1e-3;
				b0 = maxn > 1 && ysa[1] / ysa[0] > 1e-3 ? ysa[1] / ysa[0] : 1e-3;
			}
		}
	}
	x[ns++] = l0;
	if (trend != ETS_N)
		x[ns++] = b0;
	if (season != ETS_N) {
		double sum = 0;
		for (i = 0; i + 1 < m; i++) {
			x[ns + i] = seas[m - 1 - i];
			if (season == ETS_M && x[ns + i] < 0.01)
				x[ns + i] = 0.01;
			sum += x[ns + i];
		}
		if (season == ETS_M && sum > (double)m) {
			double d = sum + 0.01 * (double)(m - 1);
			for (i = 0; i + 1 < m; i++)
				x[ns + i] /= d;
		}
		ns += m - 1;
	}
	return (int)ns;
}

/* ---- the recursion ---- */

struct ets_ctx {
	const double *y;
	size_t n, m;
	int error, trend, season, damped;
	enum ets_crit crit;
	size_t nsmooth, nstate; /* optimized smoothing parameters; states incl. the m-th */
};

/* Runs the model over the data from the full initial state x0 (R's order). Returns R's
 * "lik" (or the MSE for ETS_CRIT_MSE), NAN where the recursion breaks down. e (may be
 * NULL) receives the residuals, last (may be NULL) the final state. */
static inline __attribute__((always_inline)) double
ets_run_k(const struct ets_ctx *c, double alpha, double beta, double gamma, double phi,
	  const double *x0, double *e, double *last, int merr, int trend, int season, int mse)
{
	const double *y = c->y;
	size_t n = c->n, m = c->m, i, j = 0, off = trend != ETS_N ? 2 : 1;
	double S[ETS_MAX_M], l = x0[0], b = trend != ETS_N ? x0[1] : 0;
	double sse = 0, ssa = 0, prod = 1, logsum = 0, boa = beta / alpha, a1 = 1 - alpha;
	double pb = phi * (1 - beta);
	int phi1 = fabs(phi - 1.0) < ETS_TOL;

	if (season != ETS_N)
		for (i = 0; i < m; i++)
			S[i] = x0[off + m - 1 - i]; /* S[t % m] is the index of time t */
	for (i = 0; i < n; i++) {
		double q, phib, f, d, err, p, ln, so = 0, yi = y[i];
		switch (trend) {
		case ETS_N:
			q = l;
			phib = 0;
			break;
		case ETS_A:
			phib = phi * b;
			q = l + phib;
			break;
		default:
			if (b < 0)
				return NAN;
			phib = phi1 ? b : pow(b, phi);
			q = l * phib;
			break;
		}
		f = q;
		if (season != ETS_N) {
			so = S[j];
			f = season == ETS_A ? q + so : q * so;
		}
		d = yi - f;
		if (merr) {
			double af = fabs(f);
			err = d / f;
			/* sum of log|f| as a running product, rescaled before it overflows */
			prod *= af;
			if (!(prod < 1e150 && prod > 1e-150)) {
				int ex;
				if (!(af > 0) || !isfinite(af))
					return NAN;
				prod = frexp(prod, &ex);
				logsum += ex;
			}
		} else {
			err = d;
		}
		sse += err * err;
		if (mse)
			ssa += d * d;
		if (e)
			e[i] = err;
		/* state update */
		if (season == ETS_N)
			p = yi;
		else if (season == ETS_A)
			p = yi - so;
		else
			p = fabs(so) < ETS_TOL ? ETS_HUGE : yi / so;
		if (trend != ETS_M) {
			/* R's l + alpha (p - q) and b + beta/alpha (l' - l - phi b), rearranged so
			 * that few operations separate one step's states from the next: this loop
			 * is bound by that chain, and the rearranged form runs it 2.5 times faster
			 * (it differs from R's in the last bits only) */
			ln = a1 * q + alpha * p;
			if (trend == ETS_A)
				b = pb * b + beta * (p - l);
		} else {
			double r;
			ln = q + alpha * (p - q);
			r = fabs(l) < ETS_TOL ? ETS_HUGE : ln / l;
			b = phib + boa * (r - phib);
		}
		if (season != ETS_N) {
			/* s + gamma (t - s) with t - s = y - q - s = d (additive) or y/q - s = d/q
			 * = err s (multiplicative, whose error is multiplicative): one division
			 * less */
			if (season == ETS_A)
				S[j] = so + gamma * d;
			else if (fabs(q) < ETS_TOL)
				S[j] = so + gamma * (ETS_HUGE - so);
			else
				S[j] = so + gamma * (err * so);
			if (++j == m)
				j = 0;
		}
		l = ln;
	}
	if (last) {
		last[0] = l;
		if (trend != ETS_N)
			last[1] = b;
		if (season != ETS_N)
			for (i = 0; i < m; i++) /* s_1 is the state of time n-1 */
				last[off + i] = S[(n - 1 + m - i) % m];
	}
	if (mse)
		return ssa / (double)n;
	{
		double lik = (double)n * log(sse);
		if (merr)
			lik += 2 * (log(prod) + (double)logsum * M_LN2);
		return lik;
	}
}

/* The recursion specialized for each model form (the compiler drops the dead branches of
 * ets_run_k, which matters: this loop is nearly all of the fitting time). */
#define ETS_RUN_CASE(E, T, S)                                                                      \
	case (E)*9 + (T)*3 + (S):                                                                  \
		return ets_run_k(c, alpha, beta, gamma, phi, x0, NULL, NULL, (E), (T), (S), 0)

static double ets_run(const struct ets_ctx *c, double alpha, double beta, double gamma, double phi,
		      const double *x0, double *e, double *last)
{
	int merr = c->error == ETS_M;
	if (e || last || c->crit == ETS_CRIT_MSE)
		return ets_run_k(c, alpha, beta, gamma, phi, x0, e, last, merr, c->trend, c->season,
				 c->crit == ETS_CRIT_MSE);
	switch (merr * 9 + c->trend * 3 + c->season) {
		ETS_RUN_CASE(0, ETS_N, ETS_N);
		ETS_RUN_CASE(0, ETS_N, ETS_A);
		ETS_RUN_CASE(0, ETS_A, ETS_N);
		ETS_RUN_CASE(0, ETS_A, ETS_A);
		ETS_RUN_CASE(1, ETS_N, ETS_N);
		ETS_RUN_CASE(1, ETS_N, ETS_A);
		ETS_RUN_CASE(1, ETS_N, ETS_M);
		ETS_RUN_CASE(1, ETS_A, ETS_N);
		ETS_RUN_CASE(1, ETS_A, ETS_A);
		ETS_RUN_CASE(1, ETS_A, ETS_M);
	default:
		return ets_run_k(c, alpha, beta, gamma, phi, x0, NULL, NULL, merr, c->trend,
				 c->season, 0);
	}
}

/* All roots of the monic polynomial z^d + a[1] z^(d-1) + ... + a[d] within radius r
 * (Schur-Cohn recursion on the polynomial rescaled to the unit circle). */
static int ets_roots_inside(const double *a, size_t d, double r)
{
	double c[ETS_MAX_M + 4], nc[ETS_MAX_M + 4];
	double rk = 1;
	if (d > ETS_MAX_M + 2)
		return 0; /* degree m + 1 at most */
	for (size_t i = 0; i <= d; i++) {
		c[i] = a[i] * rk; /* coefficient of z^(d-i) times r^-i: roots of p(r w) / r^d */
		rk /= r;
	}
	while (d > 0) {
		double k = c[d] / c[0];
		if (!(fabs(k) < 1))
			return 0;
		for (size_t i = 0; i < d; i++)
			nc[i] = c[i] - k * c[d - i];
		memcpy(c, nc, d * sizeof(*c));
		d--;
	}
	return 1;
}

/* R's parameter checks with bounds = "both": the usual region and the admissible
 * (forecastable) region of Hyndman et al. (2008, ch. 10). */
static int ets_params_ok(const struct ets_ctx *c, double alpha, double beta, double gamma,
			 double phi)
{
	int tr = c->trend != ETS_N, se = c->season != ETS_N;
	double m = (double)c->m;
	if (alpha < ets_lower[0] || alpha > ets_upper[0])
		return 0;
	if (tr && (beta < ets_lower[1] || beta > alpha || beta > ets_upper[1]))
		return 0;
	if (c->damped && (phi < ets_lower[3] || phi > ets_upper[3]))
		return 0;
	if (se && (gamma < ets_lower[2] || gamma > 1 - alpha || gamma > ets_upper[2]))
		return 0;
	/* admissible region */
	if (phi < 0 || phi > 1 + 1e-8)
		return 0;
	if (!se) {
		if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi)
			return 0;
		if (tr && (beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha)))
			return 0;
	} else if (c->m > 1) {
		double d = 1 - 1 / phi - alpha, a[ETS_MAX_M + 4];
		size_t i, mm = c->m;
		if (!tr)
			beta = 0;
		if (gamma < (d > 0 ? d : 0) || gamma > 1 + 1 / phi - alpha)
			return 0;
		if (alpha < 1 - 1 / phi - gamma * (1 - m + phi + phi * m) / (2 * phi * m))
			return 0;
		if (beta < -(1 - phi) * (gamma / m + alpha))
			return 0;
		a[0] = 1;
		a[1] = alpha + beta - phi;
		for (i = 0; i + 2 < mm; i++)
			a[2 + i] = alpha + beta - alpha * phi;
		a[mm] = alpha + beta - alpha * phi + gamma - 1;
		a[mm + 1] = phi * (1 - alpha - gamma);
		if (!ets_roots_inside(a, mm + 1, 1 + 1e-10))
			return 0;
	}
	return 1;
}

/* Splits an optimizer vector into smoothing parameters and the full initial state. */
static void ets_unpack(const struct ets_ctx *c, const double *par, double *alpha, double *beta,
		       double *gamma, double *phi, double *x0)
{
	size_t k = 0, ns = c->nstate, i;
	*alpha = par[k++];
	*beta = c->trend != ETS_N ? par[k++] : 0;
	*gamma = c->season != ETS_N ? par[k++] : 0;
	*phi = c->damped ? par[k++] : 1;
	if (c->season == ETS_N) {
		memcpy(x0, par + k, ns * sizeof(*x0));
		return;
	}
	memcpy(x0, par + k, (ns - 1) * sizeof(*x0));
	{
		double sum = 0;
		size_t first = c->trend != ETS_N ? 2 : 1;
		for (i = first; i + 1 < ns; i++)
			sum += x0[i];
		x0[ns - 1] = (c->season == ETS_M ? (double)c->m : 0) - sum;
	}
}

static double ets_objective(const double *par, void *ctx)
{
	const struct ets_ctx *c = ctx;
	double alpha, beta, gamma, phi, x0[2 + ETS_MAX_M], v;
	ets_unpack(c, par, &alpha, &beta, &gamma, &phi, x0);
	if (!ets_params_ok(c, alpha, beta, gamma, phi))
		return INFINITY;
	if (c->season == ETS_M) {
		for (size_t i = c->trend != ETS_N ? 2 : 1; i < c->nstate; i++)
			if (x0[i] < 0)
				return INFINITY;
	}
	v = ets_run(c, alpha, beta, gamma, phi, x0, NULL, NULL);
	if (isnan(v))
		return INFINITY;
	if (v < -1e10)
		v = -1e10; /* a perfect fit would drive the likelihood to -inf */
	return v;
}

#if defined(__x86_64__) || defined(__i386__)
#define ETS_BATCH 1
/* ---- four evaluations at once ----
 * Nelder-Mead evaluates up to four candidate points an iteration (see nm_opts.batch). With
 * AVX2 the four recursions run in the lanes of one vector register, each lane performing
 * exactly the operations of ets_run_k, so the values, and hence the optimizer's path, are
 * the same as one at a time. Multiplicative trends (off by default) stay sequential. */
#define ETS_LANES 4

typedef double ets_v4d __attribute__((vector_size(32)));
typedef long long ets_v4l __attribute__((vector_size(32)));

struct ets_lanes {
	double alpha[ETS_LANES], beta[ETS_LANES], gamma[ETS_LANES], phi[ETS_LANES];
	double x0[ETS_LANES][2 + ETS_MAX_M];
	double out[ETS_LANES];
};

#define ETS_AVX2 __attribute__((target("avx2")))

static inline __attribute__((always_inline)) ETS_AVX2 ets_v4d ets_v4_sel(ets_v4l mask, ets_v4d a,
									 ets_v4d b)
{
	return (ets_v4d)(((ets_v4l)a & mask) | ((ets_v4l)b & ~mask));
}

static inline __attribute__((always_inline)) ETS_AVX2 ets_v4d ets_v4_abs(ets_v4d a)
{
	const ets_v4l m = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL, 0x7fffffffffffffffLL,
			   0x7fffffffffffffffLL};
	return (ets_v4d)((ets_v4l)a & m);
}

static inline __attribute__((always_inline)) ETS_AVX2 void
ets_run4_k(const struct ets_ctx *c, struct ets_lanes *L, int merr, int trend, int season)
{
	const double *y = c->y;
	size_t n = c->n, m = c->m, i, j = 0, off = trend != ETS_N ? 2 : 1;
	ets_v4d S[ETS_MAX_M], b = {0, 0, 0, 0}, sse = {0, 0, 0, 0}, prod = {1, 1, 1, 1};
	ets_v4d alpha = {L->alpha[0], L->alpha[1], L->alpha[2], L->alpha[3]},
		beta = {L->beta[0], L->beta[1], L->beta[2], L->beta[3]},
		gamma = {L->gamma[0], L->gamma[1], L->gamma[2], L->gamma[3]},
		phi = {L->phi[0], L->phi[1], L->phi[2], L->phi[3]},
		l = {L->x0[0][0], L->x0[1][0], L->x0[2][0], L->x0[3][0]}, a1, pb;
	const ets_v4d tol = {ETS_TOL, ETS_TOL, ETS_TOL, ETS_TOL},
		      huge = {ETS_HUGE, ETS_HUGE, ETS_HUGE, ETS_HUGE},
		      hi = {1e150, 1e150, 1e150, 1e150}, lo = {1e-150, 1e-150, 1e-150, 1e-150},
		      one = {1, 1, 1, 1};
	long logsum[ETS_LANES] = {0};
	int bad[ETS_LANES] = {0}, k;

	for (k = 0; k < ETS_LANES; k++) {
		if (trend != ETS_N)
			b[k] = L->x0[k][1];
		if (season != ETS_N)
			for (i = 0; i < m; i++)
				S[i][k] = L->x0[k][off + m - 1 - i];
	}
	a1 = one - alpha;
	pb = phi * (one - beta);
	for (i = 0; i < n; i++) {
		ets_v4d yi = {y[i], y[i], y[i], y[i]}, q, f, d, err, p, so = {0, 0, 0, 0}, ln;
		if (trend == ETS_N)
			q = l;
		else
			q = l + phi * b;
		f = q;
		if (season != ETS_N) {
			so = S[j];
			f = season == ETS_A ? q + so : q * so;
		}
		d = yi - f;
		if (merr) {
			ets_v4d af = ets_v4_abs(f);
			ets_v4l ok;
			err = d / f;
			prod = prod * af;
			ok = (prod < hi) & (prod > lo);
			if (!(ok[0] & ok[1] & ok[2] & ok[3])) {
				for (k = 0; k < ETS_LANES; k++) {
					int ex = 0;
					if (ok[k])
						continue;
					if (!(af[k] > 0) || !isfinite(af[k]))
						bad[k] = 1;
					else
						prod[k] = frexp(prod[k], &ex);
					logsum[k] += ex;
				}
			}
		} else {
			err = d;
		}
		sse = sse + err * err;
		if (season == ETS_N)
			p = yi;
		else if (season == ETS_A)
			p = yi - so;
		else
			p = ets_v4_sel(ets_v4_abs(so) < tol, huge, yi / so);
		ln = a1 * q + alpha * p;
		if (trend == ETS_A)
			b = pb * b + beta * (p - l);
		if (season != ETS_N) {
			if (season == ETS_A)
				S[j] = so + gamma * d;
			else
				S[j] = ets_v4_sel(ets_v4_abs(q) < tol, so + gamma * (huge - so),
						  so + gamma * (err * so));
			if (++j == m)
				j = 0;
		}
		l = ln;
	}
	for (k = 0; k < ETS_LANES; k++) {
		double lik = (double)n * log(sse[k]);
		if (merr)
			lik += 2 * (log(prod[k]) + (double)logsum[k] * M_LN2);
		L->out[k] = bad[k] ? NAN : lik;
	}
}

#define ETS_RUN4_CASE(E, T, S)                                                                     \
	case (E)*9 + (T)*3 + (S):                                                                  \
		ets_run4_k(c, L, (E), (T), (S));                                                   \
		break

static ETS_AVX2 void ets_run4(const struct ets_ctx *c, struct ets_lanes *L)
{
	switch ((c->error == ETS_M) * 9 + c->trend * 3 + c->season) {
		ETS_RUN4_CASE(0, ETS_N, ETS_N);
		ETS_RUN4_CASE(0, ETS_N, ETS_A);
		ETS_RUN4_CASE(0, ETS_A, ETS_N);
		ETS_RUN4_CASE(0, ETS_A, ETS_A);
		ETS_RUN4_CASE(1, ETS_N, ETS_N);
		ETS_RUN4_CASE(1, ETS_N, ETS_A);
		ETS_RUN4_CASE(1, ETS_N, ETS_M);
		ETS_RUN4_CASE(1, ETS_A, ETS_N);
		ETS_RUN4_CASE(1, ETS_A, ETS_A);
		ETS_RUN4_CASE(1, ETS_A, ETS_M);
	default:
		for (int k = 0; k < ETS_LANES; k++)
			L->out[k] = NAN; /* not reached: ets_fit batches only the forms above */
	}
}

static void ets_objective_batch(const double *const *par, size_t np, double *f, void *ctx)
{
	const struct ets_ctx *c = ctx;
	struct ets_lanes L;
	int ok[ETS_LANES] = {0}, first = -1;
	size_t k;
	for (k = 0; k < np && k < ETS_LANES; k++) {
		f[k] = INFINITY;
		ets_unpack(c, par[k], &L.alpha[k], &L.beta[k], &L.gamma[k], &L.phi[k], L.x0[k]);
		if (!ets_params_ok(c, L.alpha[k], L.beta[k], L.gamma[k], L.phi[k]))
			continue;
		ok[k] = 1;
		if (c->season == ETS_M)
			for (size_t i = c->trend != ETS_N ? 2 : 1; i < c->nstate; i++)
				if (L.x0[k][i] < 0)
					ok[k] = 0;
		if (ok[k] && first < 0)
			first = (int)k;
	}
	if (first < 0)
		return;
	for (k = 0; k < ETS_LANES; k++) {
		if (k < np && ok[k])
			continue;
		/* idle lanes repeat a feasible point; their results are dropped */
		L.alpha[k] = L.alpha[first];
		L.beta[k] = L.beta[first];
		L.gamma[k] = L.gamma[first];
		L.phi[k] = L.phi[first];
		memcpy(L.x0[k], L.x0[first], sizeof(L.x0[k]));
	}
	ets_run4(c, &L);
	for (k = 0; k < np && k < ETS_LANES; k++) {
		double v = L.out[k];
		if (!ok[k])
			continue;
		if (isnan(v))
			v = INFINITY;
		else if (v < -1e10)
			v = -1e10;
		f[k] = v;
	}
}
#endif

int ets_fit(const double *y, size_t n, size_t m, int error, int trend, int season, int damped,
	    enum ets_crit crit, struct ets_model *f)
{
	struct ets_ctx c;
	struct nm_opts o;
	double par[4 + 2 + ETS_MAX_M], x0[2 + ETS_MAX_M], alpha, beta, gamma, phi, fmin, lik;
	double *e = NULL;
	size_t k = 0, np, i;
	int ns, ret = -1;

	if (season == ETS_N)
		m = 1;
	if (m > ETS_MAX_M || (season != ETS_N && (m < 2 || n <= m)) || n < 3)
		return -1;
	if (trend == ETS_N)
		damped = 0;
	/* R's restrictions (unstable or forbidden forms) */
	if ((error == ETS_A && (trend == ETS_M || season == ETS_M)) ||
	    (error == ETS_M && trend == ETS_M && season == ETS_A))
		return -1;
	if (error == ETS_M || trend == ETS_M || season == ETS_M)
		for (i = 0; i < n; i++)
			if (!(y[i] > 0))
				return -1;
	memset(f, 0, sizeof(*f));
	c.y = y;
	c.n = n;
	c.m = m;
	c.error = error;
	c.trend = trend;
	c.season = season;
	c.damped = damped;
	c.crit = crit;

	/* starting values: R's initparam() */
	alpha = ets_lower[0] + 0.2 * (ets_upper[0] - ets_lower[0]) / (double)m;
	par[k++] = alpha;
	if (trend != ETS_N) {
		double up = ets_upper[1] < alpha ? ets_upper[1] : alpha;
		beta = ets_lower[1] + 0.1 * (up - ets_lower[1]);
		if (beta < 0 || beta > alpha)
			beta = alpha - 1e-3;
		par[k++] = beta;
	}
	if (season != ETS_N) {
		double up = ets_upper[2] < 1 - alpha ? ets_upper[2] : 1 - alpha;
		gamma = ets_lower[2] + 0.05 * (up - ets_lower[2]);
		if (gamma < 0 || gamma > 1 - alpha)
			gamma = 1 - alpha - 1e-3;
		par[k++] = gamma;
	}
	if (damped)
		par[k++] = ets_lower[3] + 0.99 * (ets_upper[3] - ets_lower[3]);
	c.nsmooth = k;
	ns = ets_initstate(y, n, m, trend, season, par + k);
	if (ns < 0)
		return -1;
	np = k + (size_t)ns;
	c.nstate = (size_t)ns + (season != ETS_N);
	if (np + 1 >= n)
		return -1; /* not enough data to estimate this model */

	nm_opts_default(&o);
	o.maxit = 2000;
#ifdef ETS_BATCH
	/* DYN_ETS_NOSIMD: a test switch, to check that both paths agree */
	if (trend != ETS_M && crit == ETS_CRIT_LIK && __builtin_cpu_supports("avx2") &&
	    !getenv("DYN_ETS_NOSIMD"))
		o.batch = ets_objective_batch;
#endif
	if (nm_minimize(np, par, &fmin, ets_objective, &c, &o, &f->nevals) < 0)
		return -1;
	if (!isfinite(fmin))
		return -1;

	ets_unpack(&c, par, &alpha, &beta, &gamma, &phi, x0);
	e = xmallocarray(n, sizeof(*e));
	{
		struct ets_ctx cl = c;
		cl.crit = ETS_CRIT_LIK;
		lik = ets_run(&cl, alpha, beta, gamma, phi, x0, e, f->last);
	}
	if (!isfinite(lik))
		goto out;
	f->error = error;
	f->trend = trend;
	f->season = season;
	f->damped = damped;
	f->m = m;
	f->alpha = alpha;
	f->beta = beta;
	f->gamma = gamma;
	f->phi = phi;
	f->nstate = c.nstate;
	memcpy(f->init, x0, c.nstate * sizeof(*x0));
	f->npar = np;
	{
		double npp = (double)np + 1, nn = (double)n, sse = 0, sa = 0;
		f->loglik = -0.5 * lik;
		f->aic = lik + 2 * npp;
		f->bic = lik + log(nn) * npp;
		f->aicc = f->aic + 2 * npp * (npp + 1) / (nn - npp - 1);
		for (i = 0; i < n; i++) {
			double d = error == ETS_M ? y[i] - y[i] / (1 + e[i]) : e[i];
			sse += e[i] * e[i];
			sa += d * d;
		}
		f->sigma2 = sse / (nn - (double)np);
		f->mse = sa / nn;
	}
	for (i = 0; i < c.nstate; i++)
		if (!isfinite(f->last[i]))
			goto out;
	if (!isfinite(f->sigma2) || !isfinite(f->aicc))
		goto out;
	ret = 0;
out:
	free(e);
	return ret;
}

int ets_auto(const double *y, size_t n, size_t m, int error, int trend, int season, int damped,
	     int allow_mult_trend, struct ets_model *best)
{
	static const int errs[] = {ETS_A, ETS_M}, trends[] = {ETS_N, ETS_A, ETS_M},
			 seasons[] = {ETS_N, ETS_A, ETS_M}, damps[] = {1, 0};
	int positive = 1, found = 0;
	double best_ic = INFINITY;
	struct ets_model fit;
	size_t i;

	for (i = 0; i < n; i++)
		if (!(y[i] > 0))
			positive = 0;
	if (m <= 1 || n <= m || m > ETS_MAX_M) {
		if (season == ETS_A || season == ETS_M)
			return -1;
		season = ETS_N;
	}
	for (int ie = 0; ie < 2; ie++)
		for (int it = 0; it < 3; it++)
			for (int is = 0; is < 3; is++)
				for (int id = 0; id < 2; id++) {
					int E = errs[ie], T = trends[it], S = seasons[is],
					    D = damps[id];
					if ((error != ETS_Z && error != E) ||
					    (trend != ETS_Z && trend != T) ||
					    (season != ETS_Z && season != S) ||
					    (damped >= 0 && damped != D))
						continue;
					if (T == ETS_M && trend == ETS_Z && !allow_mult_trend)
						continue;
					if (T == ETS_N && D)
						continue;
					if (E == ETS_A && (T == ETS_M || S == ETS_M))
						continue;
					if (E == ETS_M && T == ETS_M && S == ETS_A)
						continue;
					if (!positive && E == ETS_M)
						continue;
					if (ets_fit(y, n, m, E, T, S, D, ETS_CRIT_LIK, &fit))
						continue;
					if (fit.aicc < best_ic) {
						best_ic = fit.aicc;
						*best = fit;
						found = 1;
					}
				}
	return found ? 0 : -1;
}

/* ---- forecasting ---- */

/* Point forecasts by the recursion without noise (R's forecast() in etscalc.c). */
static void ets_point(const struct ets_model *f, size_t h, double *mean)
{
	size_t m = f->m, off = f->trend != ETS_N ? 2 : 1;
	double l = f->last[0], b = f->trend != ETS_N ? f->last[1] : 0, phistar = f->phi;
	for (size_t i = 0; i < h; i++) {
		double v;
		if (f->trend == ETS_N)
			v = l;
		else if (f->trend == ETS_A)
			v = l + phistar * b;
		else
			v = b < 0 ? NAN : l * pow(b, phistar);
		if (f->season != ETS_N) {
			double s = f->last[off + m - 1 - i % m];
			v = f->season == ETS_A ? v + s : v * s;
		}
		mean[i] = v;
		/* phi + phi^2 + ... + phi^(i+2); R's C forecast() adds phi^(i+1) here, but its
		 * interval code (class1) and the model equations use this sum */
		phistar += fabs(f->phi - 1) < ETS_TOL ? 1.0 : pow(f->phi, (double)(i + 2));
	}
}

/* c_j = H F^(j-1) G of the linear model, j = 1..h-1 (cj[j-1]). */
static void ets_cj(const struct ets_model *f, size_t h, double *cj)
{
	double phisum = 0, phij = 1;
	for (size_t j = 1; j < h; j++) {
		double v = f->alpha;
		phij *= f->phi;
		phisum += phij;
		if (f->trend != ETS_N)
			v += f->beta * (f->damped ? phisum : (double)j);
		if (f->season != ETS_N && j % f->m == 0)
			v += f->gamma;
		cj[j - 1] = v;
	}
}

/* R's class3(): mean and variance of a multiplicative-error, multiplicative-season model
 * with additive or no trend, by the moment recursions of Hyndman et al. (2008, ch. 6). */
static void ets_class3(const struct ets_model *f, size_t h, double *mean, double *var)
{
	size_t k = f->trend != ETS_N ? 2 : 1, m = f->m, D = k * m, a, bb, c, d;
	double s2 = f->sigma2, F1[4] = {0}, G1[4] = {0};
	double *F2 = xcalloc(m * m, sizeof(double)), *G2 = xcalloc(m * m, sizeof(double));
	double *F21 = xcalloc(D * D, sizeof(double)), *G21 = xcalloc(D * D, sizeof(double));
	double *K = xcalloc(D * D, sizeof(double)), *V = xcalloc(D * D, sizeof(double));
	double *T1 = xcalloc(D * D, sizeof(double)), *T2 = xcalloc(D * D, sizeof(double));
	double *Vn = xcalloc(D * D, sizeof(double)), *vv = xcalloc(D * D, sizeof(double));
	double *M = xcalloc(D, sizeof(double)), *Mn = xcalloc(D, sizeof(double));

	/* k x k blocks, row-major */
	if (k == 1) {
		F1[0] = 1;
		G1[0] = f->alpha;
	} else {
		F1[0] = 1;
		F1[1] = 1;
		F1[3] = f->damped ? f->phi : 1;
		G1[0] = G1[1] = f->alpha;
		G1[2] = G1[3] = f->beta;
	}
	F2[m - 1] = 1;
	for (a = 1; a < m; a++)
		F2[a * m + a - 1] = 1;
	G2[m - 1] = f->gamma;
	/* Kronecker products A (m x m) (x) B (k x k): index (a*k+b, c*k+d); vec(Mh) is
	 * column-major, so entry (row b, column a) of Mh is M[a*k+b] */
	for (a = 0; a < m; a++)
		for (c = 0; c < m; c++)
			for (bb = 0; bb < k; bb++)
				for (d = 0; d < k; d++) {
					size_t ix = (a * k + bb) * D + c * k + d;
					F21[ix] = F2[a * m + c] * F1[bb * k + d];
					G21[ix] = G2[a * m + c] * G1[bb * k + d];
					K[ix] = G2[a * m + c] * F1[bb * k + d] +
						F2[a * m + c] * G1[bb * k + d];
				}
	for (a = 0; a < m; a++)
		for (bb = 0; bb < k; bb++)
			M[a * k + bb] = f->last[bb] * f->last[k + a];

	for (size_t i = 0; i < h; i++) {
		double mu = 0, hv = 0;
		for (bb = 0; bb < k; bb++)
			mu += M[(m - 1) * k + bb];
		for (bb = 0; bb < k; bb++)
			for (d = 0; d < k; d++)
				hv += V[((m - 1) * k + bb) * D + (m - 1) * k + d];
		mean[i] = mu;
		if (var)
			var[i] = (1 + s2) * hv + s2 * mu * mu;
		if (i + 1 == h)
			break;
		for (a = 0; a < D; a++)
			for (c = 0; c < D; c++)
				vv[a * D + c] = M[a] * M[c];
		/* Vn = F21 V F21' */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)D, (int)D, 1.0,
			    F21, (int)D, V, (int)D, 0.0, T1, (int)D);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D, 1.0,
			    T1, (int)D, F21, (int)D, 0.0, Vn, (int)D);
		/* + s2 (F21 V G21' + G21 V F21') ; T1 still holds F21 V */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D, s2, T1,
			    (int)D, G21, (int)D, 1.0, Vn, (int)D);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D, s2,
			    G21, (int)D, T1, (int)D, 1.0, Vn, (int)D); /* (F21 V G21')' */
		/* + s2 K (V + vv) K' */
		for (a = 0; a < D * D; a++)
			T2[a] = V[a] + vv[a];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)D, (int)D, 1.0,
			    K, (int)D, T2, (int)D, 0.0, T1, (int)D);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D, s2, T1,
			    (int)D, K, (int)D, 1.0, Vn, (int)D);
		/* + s2^2 G21 (3V + 2vv) G21' */
		for (a = 0; a < D * D; a++)
			T2[a] = 3 * V[a] + 2 * vv[a];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)D, (int)D, 1.0,
			    G21, (int)D, T2, (int)D, 0.0, T1, (int)D);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D,
			    s2 * s2, T1, (int)D, G21, (int)D, 1.0, Vn, (int)D);
		memcpy(V, Vn, D * D * sizeof(double));
		/* Mh <- F1 Mh F2' + s2 G1 Mh G2' ; in vec form (F2 (x) F1) vec(Mh) + ... */
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)D, (int)D, 1.0, F21, (int)D, M, 1,
			    0.0, Mn, 1);
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)D, (int)D, s2, G21, (int)D, M, 1, 1.0,
			    Mn, 1);
		memcpy(M, Mn, D * sizeof(double));
	}
	free(F2);
	free(G2);
	free(F21);
	free(G21);
	free(K);
	free(V);
	free(T1);
	free(T2);
	free(Vn);
	free(vv);
	free(M);
	free(Mn);
}

/* A standard normal deviate by Box-Muller, one of the pair: the transform the simulated
 * intervals were fixed with (rng_normal's polar method would change them). */
static double ets_gauss(struct rng *r)
{
	double u = rng_uniform_open(r), v = rng_uniform_open(r);
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Sample-path variance for the models without an analytic one (multiplicative trend). */
static void ets_simulate_var(const struct ets_model *f, size_t h, double *var)
{
	enum { NPATHS = 5000 };
	static const uint64_t seed[4] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL,
					 0x94D049BB133111EBULL, 0x2545F4914F6CDD1DULL};
	struct rng rng;
	size_t m = f->m, off = f->trend != ETS_N ? 2 : 1;
	double *sum = xcalloc(h, sizeof(double)), *sq = xcalloc(h, sizeof(double));
	double sd = sqrt(f->sigma2);
	rng_init_state(&rng, seed);
	for (int p = 0; p < NPATHS; p++) {
		double l = f->last[0], b = f->trend != ETS_N ? f->last[1] : 0, S[ETS_MAX_M];
		size_t j = 0;
		for (size_t i = 0; i < m && f->season != ETS_N; i++)
			S[i] = f->last[off + m - 1 - i];
		for (size_t i = 0; i < h; i++) {
			double q, phib, fc, so = 0, yv, pp, ln, e = sd * ets_gauss(&rng);
			if (f->trend == ETS_N) {
				q = l;
				phib = 0;
			} else if (f->trend == ETS_A) {
				phib = f->phi * b;
				q = l + phib;
			} else {
				phib = b > 0 ? pow(b, f->phi) : 0;
				q = l * phib;
			}
			fc = q;
			if (f->season != ETS_N) {
				so = S[j];
				fc = f->season == ETS_A ? q + so : q * so;
			}
			yv = f->error == ETS_A ? fc + e : fc * (1 + e);
			sum[i] += yv;
			sq[i] += yv * yv;
			if (f->season == ETS_N)
				pp = yv;
			else if (f->season == ETS_A)
				pp = yv - so;
			else
				pp = fabs(so) < ETS_TOL ? ETS_HUGE : yv / so;
			ln = q + f->alpha * (pp - q);
			if (f->trend == ETS_A)
				b = phib + f->beta / f->alpha * (ln - l - phib);
			else if (f->trend == ETS_M)
				b = phib + f->beta / f->alpha *
					       ((fabs(l) < ETS_TOL ? ETS_HUGE : ln / l) - phib);
			if (f->season != ETS_N) {
				double t = f->season == ETS_A
					       ? yv - q
					       : (fabs(q) < ETS_TOL ? ETS_HUGE : yv / q);
				S[j] = so + f->gamma * (t - so);
				if (++j == m)
					j = 0;
			}
			l = ln;
		}
	}
	for (size_t i = 0; i < h; i++) {
		double mu = sum[i] / NPATHS;
		var[i] = (sq[i] - NPATHS * mu * mu) / (NPATHS - 1);
		if (!(var[i] >= 0))
			var[i] = 0;
	}
	free(sum);
	free(sq);
}

void ets_forecast(const struct ets_model *f, size_t h, double *mean, double *var)
{
	double *cj = NULL;
	if (f->error == ETS_M && f->season == ETS_M && f->trend != ETS_M) {
		ets_class3(f, h, mean, var);
		return;
	}
	ets_point(f, h, mean);
	if (!var)
		return;
	if (f->trend == ETS_M) {
		ets_simulate_var(f, h, var);
		return;
	}
	cj = xcalloc(h, sizeof(*cj));
	ets_cj(f, h, cj);
	if (f->error == ETS_A) {
		double acc = 1;
		var[0] = f->sigma2;
		for (size_t i = 1; i < h; i++) {
			acc += cj[i - 1] * cj[i - 1];
			var[i] = f->sigma2 * acc;
		}
	} else {
		/* R's class2(): theta_j = mu_j^2 + s2 sum_i c_i^2 theta_(j-i) */
		double s2 = f->sigma2, *th = xcalloc(h, sizeof(double));
		for (size_t j = 0; j < h; j++) {
			double t = mean[j] * mean[j];
			for (size_t i = 1; i <= j; i++)
				t += s2 * cj[i - 1] * cj[i - 1] * th[j - i];
			th[j] = t;
			var[j] = (1 + s2) * t - mean[j] * mean[j];
		}
		free(th);
	}
	free(cj);
}
