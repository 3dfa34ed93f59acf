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

/* Adds harmonic j of the figure to out[0..m). */
static void sa_add_harmonic(const double *fig, size_t m, size_t j, double *out)
{
	double a = 0, b = 0, w = 2 * M_PI * (double)j / (double)m;
	size_t i;
	for (i = 0; i < m; i++) {
		a += fig[i] * cos(w * (double)i);
		b += fig[i] * sin(w * (double)i);
	}
	a *= 2 / (double)m;
	b *= 2 / (double)m;
	for (i = 0; i < m; i++)
		out[i] += a * cos(w * (double)i) + b * sin(w * (double)i);
}

void ts_fourier_smooth(const double *fig, size_t m, size_t k, double *out)
{
	if (2 * k >= m) {
		memcpy(out, fig, m * sizeof(*out));
		return;
	}
	for (size_t i = 0; i < m; i++)
		out[i] = 0;
	for (size_t j = 1; j <= k; j++)
		sa_add_harmonic(fig, m, j, out);
}

/* The detrended series d[t] = y[t] - trend[t] for t in [m/2, n - m/2), trend the centred
 * moving average of order m (2 x m for even m) as in R's decompose(); other d[t] are NaN.
 * Then the additive seasonal figure: per-position means of d, centred to sum 0. */
static int sa_detrend(const double *y, size_t n, size_t m, double *d, double *fig)
{
	size_t k = m / 2, i, j;
	double tot = 0;
	for (i = 0; i < m; i++)
		fig[i] = 0;
	for (i = 0; i < n; i++)
		d[i] = i < k || i + k >= n ? NAN : y[i] - ts_centred_ma(y, i, m);
	for (i = 0; i < m; i++) {
		size_t cnt = 0;
		for (j = i; j < n; j += m)
			if (!isnan(d[j])) {
				fig[i] += d[j];
				cnt++;
			}
		if (!cnt)
			return -1;
		fig[i] /= (double)cnt;
		tot += fig[i];
	}
	for (i = 0; i < m; i++) {
		fig[i] -= tot / (double)m;
		if (!isfinite(fig[i]))
			return -1;
	}
	return 0;
}

int ets_seasadj_auto(const double *y, size_t n, size_t m, struct ets_model *best, double *fig,
		     size_t *nharm)
{
	const size_t nk = sizeof(sa_harmonics) / sizeof(sa_harmonics[0]);
	double *raw = NULL, *s = NULL, *d = NULL, *x = NULL, best_ic = INFINITY;
	size_t c, t, nd = n - 2 * (m / 2), best_k = 0, have = 0;
	int ret = -1;

	if (m < 2 || n < 2 * m)
		return -1;
	raw = xmallocarray(m, sizeof(*raw));
	s = xmallocarray(m, sizeof(*s));
	d = xmallocarray(n, sizeof(*d));
	x = xmallocarray(n, sizeof(*x));
	if (sa_detrend(y, n, m, d, raw))
		goto out;
	/* the smoothing by AICc of the detrended series on the smoothed figure: a closed form,
	 * where choosing it by the ETS fits of every adjusted series cost 9 times the fits */
	for (t = 0; t < m; t++)
		s[t] = 0;
	for (c = 0; c <= nk + 1; c++) {
		size_t k = c == 0 ? 0 : c <= nk ? sa_harmonics[c - 1] : m / 2;
		double p = 2 * k >= m ? (double)(m - 1) : (double)(2 * k), rss = 0, ic;
		const double *sk = 2 * k >= m ? raw : s;
		if (c > 0 && c <= nk && 2 * k >= m)
			continue;
		/* s holds harmonics 1..have: add the next ones as ts_fourier_smooth would */
		while (2 * k < m && have < k)
			sa_add_harmonic(raw, m, ++have, s);
		for (t = 0; t < n; t++)
			if (!isnan(d[t]))
				rss += (d[t] - sk[t % m]) * (d[t] - sk[t % m]);
		if ((double)nd - p - 1 <= 0)
			continue;
		ic = (double)nd * log(rss > 0 ? rss / (double)nd : 1e-300) + 2 * p +
		     2 * p * (p + 1) / ((double)nd - p - 1);
		if (ic < best_ic) {
			best_ic = ic;
			best_k = k;
		}
	}
	ts_fourier_smooth(raw, m, best_k, s);
	for (t = 0; t < n; t++)
		x[t] = y[t] - s[t % m];
	if (ets_auto(x, n, 1, ETS_Z, ETS_Z, ETS_N, -1, 0, best))
		goto out;
	*nharm = best_k;
	memcpy(fig, s, m * sizeof(*fig));
	ret = 0;
out:
	free(raw);
	free(s);
	free(d);
	free(x);
	return ret;
}
