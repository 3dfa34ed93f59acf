/* Platt scaling and pairwise coupling (see platt.h); written from the papers, checked against
 * libsvm's -b 1 in tests/unit/t_svc.c. */
#include <math.h>

#include "core/platt.h"

#include "base/base.h"

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
