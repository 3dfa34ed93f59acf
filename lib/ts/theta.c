/* The standard Theta method (Assimakopoulos & Nikolopoulos 2000) in the form of R's
 * forecast::thetaf(): simple exponential smoothing with drift on seasonally adjusted data. */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "base/mem.h"
#include "ts/ets.h"

/* Is the lag-m autocorrelation significant at 90% (two-sided), with Bartlett's variance? */
static int theta_seasonal(const double *x, size_t n, size_t m)
{
	double mean = 0, c0 = 0, sum2 = 0, rm = 0, stat;
	size_t i, k;
	for (i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		c0 += (x[i] - mean) * (x[i] - mean);
	if (!(c0 > 0))
		return 0;
	for (k = 1; k <= m; k++) {
		double ck = 0;
		for (i = 0; i + k < n; i++)
			ck += (x[i] - mean) * (x[i + k] - mean);
		if (k < m)
			sum2 += (ck / c0) * (ck / c0);
		else
			rm = ck / c0;
	}
	stat = sqrt((1 + 2 * sum2) / (double)n);
	return fabs(rm) / stat > ts_qnorm(0.95);
}

int theta_forecast(const double *y, size_t n, size_t m, size_t h, double *mean, double *se)
{
	struct ets_model ses;
	double *x = NULL, *fig = NULL, a, b, drift, alpha, s;
	int seasonal = 0, constant = 1, ret = -1;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 1; i < n; i++)
		if (y[i] != y[0])
			constant = 0;
	x = xmallocarray(n, sizeof(*x));
	memcpy(x, y, n * sizeof(*x));
	if (m > 1 && !constant && n > 2 * m && theta_seasonal(y, n, m)) {
		fig = xmallocarray(m, sizeof(*fig));
		seasonal = 1;
		if (ts_decompose(y, n, m, 1, fig))
			seasonal = 0;
		for (i = 0; seasonal && i < m; i++)
			if (fabs(fig[i]) < 1e-4)
				seasonal = 0; /* R warns and uses the non-seasonal method */
		for (i = 0; seasonal && i < n; i++)
			x[i] = y[i] / fig[i % m];
	}
	if (ets_fit(x, n, 1, ETS_A, ETS_N, ETS_N, 0, ETS_CRIT_MSE, &ses))
		goto out;
	ts_linefit(x, n, 0.0, &a, &b);
	drift = b / 2;
	alpha = ses.alpha > 1e-10 ? ses.alpha : 1e-10;
	s = sqrt(ses.sigma2);
	for (i = 0; i < h; i++) {
		mean[i] =
		    ses.last[0] + drift * ((double)i + (1 - pow(1 - alpha, (double)n)) / alpha);
		if (seasonal)
			mean[i] *= fig[(n + i) % m];
		se[i] = s * sqrt((double)i * alpha * alpha + 1);
	}
	ret = 0;
out:
	free(x);
	free(fig);
	return ret;
}
