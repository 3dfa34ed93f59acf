/* Long seasonal periods (m = 52): the harmonic smoothing of a seasonal figure against values
 * worked out by hand, and automatic forecasting of weekly series with a yearly pattern. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/rng.h"
#include "ts/ets.h"
#include "ts/forecast.h"
#include "check.h"

#define M 52

static void test_fourier_smooth(void)
{
	double fig[M], out[M], w = 2 * M_PI / M, maxd1 = 0, maxd5 = 0, maxd26 = 0;
	double odd[7] = {1, -2, 0.5, 3, -1, -0.5, -1}, odd_out[7];
	size_t i;
	/* harmonics 1 and 5 of a 52-week figure: K = 1 keeps the first alone, K >= 5 all */
	for (i = 0; i < M; i++)
		fig[i] = 3 * cos(w * (double)i) + 2 * sin(5 * w * (double)i);
	ts_fourier_smooth(fig, M, 1, out);
	for (i = 0; i < M; i++)
		maxd1 = fmax(maxd1, fabs(out[i] - 3 * cos(w * (double)i)));
	check(maxd1 < 1e-12, "fourier K=1 keeps the first harmonic (max diff %g)", maxd1);
	ts_fourier_smooth(fig, M, 5, out);
	for (i = 0; i < M; i++)
		maxd5 = fmax(maxd5, fabs(out[i] - fig[i]));
	check(maxd5 < 1e-12, "fourier K=5 keeps both (max diff %g)", maxd5);
	ts_fourier_smooth(fig, M, 26, out);
	for (i = 0; i < M; i++)
		maxd26 = fmax(maxd26, fabs(out[i] - fig[i]));
	check(maxd26 == 0, "fourier K=m/2 copies the figure");
	ts_fourier_smooth(fig, M, 0, out);
	check(out[0] == 0 && out[13] == 0, "fourier K=0 is no seasonality");
	/* odd period, sum 0: the three harmonics of m = 7 rebuild it exactly */
	ts_fourier_smooth(odd, 7, 3, odd_out);
	check(fabs(odd_out[3] - 3) < 1e-12 && fabs(odd_out[1] + 2) < 1e-12,
	      "fourier m=7 K=3 copies the figure");
	/* by hand: the first harmonic of a spike (1 at 0, -1 at 26) is (2 * 2/52) cos */
	memset(fig, 0, sizeof(fig));
	fig[0] = 1;
	fig[26] = -1;
	ts_fourier_smooth(fig, M, 1, out);
	check(fabs(out[0] - 4.0 / 52) < 1e-12 && fabs(out[13]) < 1e-12 &&
		  fabs(out[26] + 4.0 / 52) < 1e-12,
	      "fourier spike K=1: %g %g %g", out[0], out[13], out[26]);
}

/* y = level + slope t + amp sin(2 pi t / 52) + N(0, sd), seeded */
static void weekly(double *y, size_t n, double level, double slope, double amp, double sd,
		   uint64_t seed)
{
	struct rng r;
	rng_init(&r, seed);
	for (size_t t = 0; t < n; t++)
		y[t] = level + slope * (double)t + amp * sin(2 * M_PI * (double)t / M) +
		       sd * rng_normal(&r);
}

static void test_seasadj_fit(void)
{
	double y[260], fig[M], maxd = 0;
	struct ets_model f;
	size_t k = 99, i;
	weekly(y, 260, 50, 0.05, 8, 1, 13);
	check(ets_seasadj_auto(y, 260, M, &f, fig, &k) == 0, "seasadj fits");
	check(k >= 1 && k < M / 2, "a smooth yearly wave is smoothed (K=%zu)", k);
	for (i = 0; i < M; i++)
		maxd = fmax(maxd, fabs(fig[i] - 8 * sin(2 * M_PI * (double)i / M)));
	check(maxd < 1.0, "the figure follows the wave (max diff %g)", maxd);
	check(f.season == ETS_N && f.m == 1, "the ETS part has no season");

	/* white noise: AICc may take a harmonic or two by chance (the 2 parameters of one
	 * pay for themselves 13% of the time), but what it subtracts stays in the noise */
	weekly(y, 260, 50, 0, 0, 1, 14);
	check(ets_seasadj_auto(y, 260, M, &f, fig, &k) == 0 && k <= 4,
	      "white noise: at most a few harmonics (K=%zu)", k);
	maxd = 0;
	for (i = 0; i < M; i++)
		maxd = fmax(maxd, fabs(fig[i]));
	check(maxd < 0.5, "white noise: a small figure (max %g)", maxd);
	check(ets_seasadj_auto(y, 103, M, &f, fig, &k) == -1, "under two years: -1");
}

static void test_forecast_weekly(void)
{
	double y[312], err = 0;
	struct fc_opts o;
	struct fc_result r;
	struct err e = ERR_INIT;
	size_t i, in = 0, n = 260, h = 52;

	memset(&o, 0, sizeof(o));
	o.method = FC_AUTO;
	o.period = M;
	o.horizon = h;
	o.nlevels = 1;
	o.levels[0] = 95;
	/* negative values: the additive adjustment needs no positive data */
	weekly(y, 312, -20, 0.02, 6, 1, 15);
	fc_result_init(&r);
	check(fc_forecast(y, n, &o, &r, &e) == 0, "weekly forecast");
	check(strstr(r.method, "+ season(52,K=") != NULL, "method %s", r.method);
	for (i = 0; i < h; i++) {
		err += fabs(r.mean[i] - y[n + i]);
		in += y[n + i] >= r.lo[i] && y[n + i] <= r.hi[i];
		check(isfinite(r.mean[i]) && r.lo[i] < r.mean[i] && r.mean[i] < r.hi[i],
		      "finite forecast and interval at %zu", i);
	}
	/* the noise alone gives a mean absolute error of 0.8; ignoring the season, ~4 */
	check(err / (double)h < 1.5, "weekly MAE %g", err / (double)h);
	check(in >= 45, "95%% interval holds %zu of 52", in);

	/* under two years of weeks: plain ETS, as R's ets() */
	check(fc_forecast(y, 100, &o, &r, &e) == 0 && !strstr(r.method, "season"),
	      "short weekly series: %s", r.method);
	/* an explicit non-seasonal model is not adjusted */
	o.method = FC_ETS;
	o.ets_model = "AAN";
	check(fc_forecast(y, n, &o, &r, &e) == 0 && !strcmp(r.method, "ETS(A,A,N)"),
	      "ETS AAN stays unadjusted: %s", r.method);
	fc_result_release(&r);
}

int main(void)
{
	test_fourier_smooth();
	test_seasadj_fit();
	test_forecast_weekly();
	return check_done();
}
