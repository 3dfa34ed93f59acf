/* fc_forecast and fc_accuracy: Theta, seasonal naive and naive against R, the fallbacks for
 * degenerate series (never NaN, never a crash), nonnegative clamping, errors, accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "ts/forecast.h"
#include "check.h"
#include "ts_reference.h"
#include "ts_testutil.h"

static void opts(struct fc_opts *o, enum fc_method m, size_t period, size_t h)
{
	memset(o, 0, sizeof(*o));
	o->method = m;
	o->period = period;
	o->horizon = h;
	o->nlevels = 2;
	o->levels[0] = 80;
	o->levels[1] = 95;
}

/* thetaf/snaive/naive are deterministic given the same ses() optimum, so 1e-6. */
static void test_against_r(void)
{
	for (size_t k = 0; k < sizeof(ts_refs) / sizeof(ts_refs[0]); k++) {
		const struct ts_ref *ref = &ts_refs[k];
		struct fc_opts o;
		struct fc_result r;
		struct err e = ERR_INIT;
		enum fc_method meth;
		size_t n, i;
		double *y, maxd = 0;
		if (fc_method_parse(ref->kind, &meth))
			continue; /* ETS rows: t_ets */
		y = tsu_load(ref->file, &n);
		check(y != NULL, "load %s", ref->file);
		if (!y)
			continue;
		opts(&o, meth, ref->m, ref->h);
		fc_result_init(&r);
		check(fc_forecast(y, n, &o, &r, &e) == 0, "%s %s: fc_forecast", ref->file,
		      ref->kind);
		for (i = 0; i < ref->h; i++) {
			maxd = fmax(maxd, fabs(r.mean[i] - ref->mean[i]) / fabs(ref->mean[i]));
			maxd = fmax(maxd, fabs(r.lo[i] - ref->lo80[i]) / fabs(ref->lo80[i]));
			maxd =
			    fmax(maxd, fabs(r.hi[ref->h + i] - ref->hi95[i]) / fabs(ref->hi95[i]));
		}
		check(maxd <= 1e-6,
		      "%s %s (%s): mean and 80/95%% bounds within 1e-6 of R (max %.2g)", ref->file,
		      ref->kind, r.method, maxd);
		fc_result_release(&r);
		free(y);
	}
}

static int all_finite(const struct fc_result *r)
{
	for (size_t i = 0; i < r->h; i++)
		if (!isfinite(r->mean[i]))
			return 0;
	for (size_t i = 0; i < r->h * r->nlevels; i++)
		if (!isfinite(r->lo[i]) || !isfinite(r->hi[i]) || r->lo[i] > r->hi[i])
			return 0;
	return 1;
}

static void test_degenerate(void)
{
	static const enum fc_method meths[] = {FC_AUTO,	  FC_ETS,   FC_THETA,
					       FC_SNAIVE, FC_NAIVE, FC_MEAN};
	double zeros[60] = {0}, cst[30], one = 5, spikes[100], tiny[3] = {1, 2, 4}, big[50],
	       neg[40];
	struct {
		const char *name;
		const double *y;
		size_t n;
	} cases[] = {{"all-zero", zeros, 60},	{"constant", cst, 30},	 {"one point", &one, 1},
		     {"three points", tiny, 3}, {"spikes", spikes, 100}, {"huge", big, 50},
		     {"negative", neg, 40}};
	for (int i = 0; i < 30; i++)
		cst[i] = 7;
	for (int i = 0; i < 100; i++)
		spikes[i] = i % 17 == 0 ? 1e6 : 0;
	for (int i = 0; i < 50; i++)
		big[i] = 1e300 * (1 + (i % 3));
	for (int i = 0; i < 40; i++)
		neg[i] = -50 + 10 * sin(i) + (i % 7);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t k = 0; k < sizeof(meths) / sizeof(meths[0]); k++) {
			struct fc_opts o;
			struct fc_result r;
			struct err e = ERR_INIT;
			opts(&o, meths[k], 7, 30);
			fc_result_init(&r);
			check(fc_forecast(cases[c].y, cases[c].n, &o, &r, &e) == 0 &&
				  all_finite(&r),
			      "%s, method %d: finite forecast and ordered bounds (%s)",
			      cases[c].name, (int)meths[k], r.method);
			if (c == 0)
				check(r.mean[29] == 0 && r.lo[29] == 0 && r.hi[59] == 0,
				      "all-zero gives zeros with zero-width intervals");
			if (c == 1 && meths[k] == FC_AUTO)
				check(r.mean[0] == 7 && r.lo[0] == 7 && r.hi[30] == 7 &&
					  strstr(r.method, "Constant"),
				      "constant series gives the constant (%s)", r.method);
			fc_result_release(&r);
		}
}

static void test_fallbacks_and_errors(void)
{
	double y[20], nanv[3] = {1, NAN, 3};
	struct fc_opts o;
	struct fc_result r;
	struct err e = ERR_INIT;
	for (int i = 0; i < 20; i++)
		y[i] = 10 + (i % 7) - 0.9 * i;
	fc_result_init(&r);

	opts(&o, FC_AUTO, 7, 5);
	check(fc_forecast(y, 2, &o, &r, &e) == 0 && !strcmp(r.method, "Naive (fallback)"),
	      "two points: naive fallback (%s)", r.method);
	check(isnan(r.aicc), "fallback has no AICc");
	check(fc_forecast(y, 1, &o, &r, &e) == 0 && r.mean[4] == y[0] && r.lo[4] == y[0],
	      "one point: that value, zero-width intervals (%s)", r.method);
	opts(&o, FC_THETA, 7, 5);
	check(fc_forecast(y, 3, &o, &r, &e) == 0 && !strcmp(r.method, "Naive (fallback)"),
	      "theta on three points falls back to naive (%s)", r.method);
	opts(&o, FC_SNAIVE, 7, 5);
	check(fc_forecast(y, 6, &o, &r, &e) == 0 && !strcmp(r.method, "Naive (fallback)"),
	      "snaive with n <= m falls back to naive (%s)", r.method);
	opts(&o, FC_AUTO, 7, 10);
	o.nonnegative = 1;
	check(fc_forecast(y, 20, &o, &r, &e) == 0, "decreasing series forecast");
	{
		int ok = 1;
		for (size_t i = 0; i < 10; i++)
			ok &= r.mean[i] >= 0 && r.lo[i] >= 0 && r.lo[10 + i] >= 0;
		check(ok, "nonnegative clamps forecasts and bounds at 0");
	}
	o.nonnegative = 0;
	check(fc_forecast(y, 20, &o, &r, &e) == 0 && r.lo[19] < 0,
	      "without the clamp bounds go below 0");

	check(fc_forecast(nanv, 3, &o, &r, &e) < 0 && e.code == DYN_EDATA &&
		  !strcmp(e.msg, "forecast: value 2 is not a finite number"),
	      "NaN input is an error: %s", e.msg);
	o.horizon = 0;
	check(fc_forecast(y, 20, &o, &r, &e) < 0 && e.code == DYN_EUSAGE &&
		  !strcmp(e.msg, "forecast: horizon must be at least 1"),
	      "horizon 0 is a usage error: %s", e.msg);
	o.horizon = 1000000;
	check(fc_forecast(y, 20, &o, &r, &e) < 0 && e.code == DYN_EUSAGE &&
		  !strcmp(e.msg, "forecast: horizon 1000000 is too large (at most 100000)"),
	      "absurd horizon is a usage error: %s", e.msg);
	o.horizon = 3;
	o.levels[1] = 100;
	check(fc_forecast(y, 20, &o, &r, &e) < 0 && e.code == DYN_EUSAGE &&
		  !strcmp(e.msg, "forecast: interval level 100 is not between 0 and 100"),
	      "level 100 is a usage error: %s", e.msg);
	opts(&o, FC_ETS, 7, 3);
	o.ets_model = "XYZ";
	check(fc_forecast(y, 20, &o, &r, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "unknown ETS model \"XYZ\""),
	      "unknown ETS model: %s", e.msg);
	o.ets_model = "MAM";
	y[3] = 0;
	check(fc_forecast(y, 20, &o, &r, &e) == 0 && strstr(r.method, "fallback"),
	      "a multiplicative model on data with a zero falls back (%s)", r.method);
	fc_result_release(&r);

	{
		enum fc_method m;
		check(fc_method_parse("theta", &m) == 0 && m == FC_THETA, "parse theta");
		check(fc_method_parse("auto", &m) == 0 && m == FC_AUTO, "parse auto");
		check(fc_method_parse("arima", &m) < 0, "reject arima");
	}
}

/* Long horizons through every interval formula (classes 1-3), weekly data with m = 52. */
static void test_long_horizons(void)
{
	static const char *specs[] = {"AAdA", "MAdA", "MAdM", "MNM", "ANN", "MAN", "MMN", "MMdM"};
	double y[400];
	for (int i = 0; i < 400; i++)
		y[i] = 50 + 0.05 * i + 10 * sin(2 * M_PI * i / 7) + 3 * sin(i * 1.3) + (i % 3);
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct fc_opts o;
		struct fc_result r;
		struct err e = ERR_INIT;
		int widening = 1;
		opts(&o, FC_ETS, 7, 366);
		o.ets_model = specs[k];
		fc_result_init(&r);
		check(fc_forecast(y, 400, &o, &r, &e) == 0 && all_finite(&r) &&
			  !strncmp(r.method, "ETS", 3),
		      "%s, horizon 366: finite (%s)", specs[k], r.method);
		for (size_t i = 7; i < 366; i += 7)
			widening &= r.hi[366 + i] - r.lo[366 + i] >=
				    r.hi[366 + i - 7] - r.lo[366 + i - 7] - 1e-9;
		if (specs[k][1] != 'M') /* simulated variances are noisy */
			check(widening, "%s: 95%% intervals widen with the horizon", specs[k]);
		fc_result_release(&r);
	}
	{
		struct fc_opts o;
		struct fc_result r;
		struct err e = ERR_INIT;
		opts(&o, FC_AUTO, 52, 60);
		fc_result_init(&r);
		check(fc_forecast(y, 156, &o, &r, &e) == 0 && all_finite(&r) &&
			  !strncmp(r.method, "ETS(", 4) && r.method[strlen(r.method) - 2] == 'N',
		      "weekly data, m = 52: non-seasonal ETS as R (%s)", r.method);
		fc_result_release(&r);
	}
}

static void test_accuracy(void)
{
	/* history 1..10 with period 3: seasonal-naive MAE = 3; forecast errors 1, 3 -> MAE 2 */
	double y[10], act[2] = {11, 12}, mean[2] = {10, 15}, lo[4] = {9, 13, 8, 10},
		      hi[4] = {12, 14, 13, 16};
	struct fc_result r;
	struct fc_accuracy a;
	for (int i = 0; i < 10; i++)
		y[i] = i + 1;
	fc_result_init(&r);
	r.h = 2;
	r.nlevels = 2;
	r.mean = mean;
	r.lo = lo;
	r.hi = hi;
	fc_accuracy(y, 10, 3, act, &r, &a);
	check_close(a.mase, 2.0 / 3.0, 1e-12, "MASE scaled by the seasonal naive MAE");
	check_close(a.smape, (200.0 * 1 / 21 + 200.0 * 3 / 27) / 2, 1e-12, "sMAPE as in M4");
	check_close(a.coverage[0], 0.5, 0, "coverage of level 1");
	check_close(a.coverage[1], 1.0, 0, "coverage of level 2");
	fc_accuracy(y, 3, 3, act, &r, &a);
	check_close(a.mase, 2.0, 1e-12, "n <= m: lag-1 scaling");
	{
		double z[4] = {0}, za[2] = {0, 0}, zm[2] = {0, 0};
		r.mean = zm;
		fc_accuracy(z, 4, 1, za, &r, &a);
		check(a.smape == 0 && a.mase == 0, "0/0 terms of sMAPE count as 0; perfect MASE 0");
	}
}

int main(void)
{
	test_against_r();
	test_degenerate();
	test_fallbacks_and_errors();
	test_long_horizons();
	test_accuracy();
	return check_done();
}
