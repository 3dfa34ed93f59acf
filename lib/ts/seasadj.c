/* ETS for seasonal periods too long for a seasonal ETS model (m > ETS_MAX_M, e.g. 52 weeks a
 * year): additive seasonal adjustment by a smoothed classical decomposition, non-seasonal
 * ETS on the adjusted series, the seasonal figure added back to the forecasts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ts/ets.h"

/* Harmonics of the seasonal figure tried; m/2 (all of them) is the figure itself. A yearly
 * pattern seen in weekly data is usually smooth, and each raw weekly index is the mean of
 * only as many values as there are years, so a few harmonics often carry the signal with a
 * fraction of the noise: the information criterion decides, 0 (no seasonality) included. */
static const size_t sa_harmonics[] = {1, 2, 3, 4, 6, 8, 12};

void ts_fourier_smooth(const double *fig, size_t m, size_t k, double *out)
{
	size_t i, j;
	for (i = 0; i < m; i++)
		out[i] = 0;
	if (2 * k >= m) {
		memcpy(out, fig, m * sizeof(*out));
		return;
	}
	for (j = 1; j <= k; j++) {
		double a = 0, b = 0, w = 2 * M_PI * (double)j / (double)m;
		for (i = 0; i < m; i++) {
			a += fig[i] * cos(w * (double)i);
			b += fig[i] * sin(w * (double)i);
		}
		a *= 2 / (double)m;
		b *= 2 / (double)m;
		for (i = 0; i < m; i++)
			out[i] += a * cos(w * (double)i) + b * sin(w * (double)i);
	}
}

/* AICc of an ETS fit to the adjusted series plus the seasonal parameters. The adjustment is
 * a shift, so the fit's likelihood is also that of the original series, and the criteria
 * of different adjustments (same n) compare. */
static double sa_aicc(const struct ets_model *f, size_t n, size_t nseas)
{
	double k = (double)f->npar + 1 + (double)nseas, nn = (double)n;
	double lik = -2 * f->loglik;
	if (nn - k - 1 <= 0)
		return INFINITY;
	return lik + 2 * k + 2 * k * (k + 1) / (nn - k - 1);
}

int ets_seasadj_auto(const double *y, size_t n, size_t m, struct ets_model *best, double *fig,
		     size_t *nharm)
{
	double *raw = NULL, *s = NULL, *x = NULL, best_ic = INFINITY;
	struct ets_model fit;
	size_t c, t;
	int ret = -1;

	if (m < 2 || n < 2 * m)
		return -1;
	raw = xmallocarray(m, sizeof(*raw));
	s = xmallocarray(m, sizeof(*s));
	x = xmallocarray(n, sizeof(*x));
	if (ts_decompose(y, n, m, 0, raw))
		goto out;
	for (c = 0; c <= sizeof(sa_harmonics) / sizeof(sa_harmonics[0]) + 1; c++) {
		/* c = 0: no adjustment; then the harmonics; last, the whole figure */
		size_t k = c == 0 ? 0
			   : c <= sizeof(sa_harmonics) / sizeof(sa_harmonics[0])
			       ? sa_harmonics[c - 1]
			       : m / 2;
		size_t nseas = 2 * k >= m ? m - 1 : 2 * k;
		double ic;
		if (c > 0 && c <= sizeof(sa_harmonics) / sizeof(sa_harmonics[0]) && 2 * k >= m)
			continue;
		ts_fourier_smooth(raw, m, k, s);
		for (t = 0; t < n; t++)
			x[t] = y[t] - s[t % m];
		if (ets_auto(x, n, 1, ETS_Z, ETS_Z, ETS_N, -1, 0, &fit))
			continue;
		ic = sa_aicc(&fit, n, nseas);
		if (ic < best_ic) {
			best_ic = ic;
			*best = fit;
			*nharm = k;
			memcpy(fig, s, m * sizeof(*fig));
			ret = 0;
		}
	}
out:
	free(raw);
	free(s);
	free(x);
	return ret;
}
