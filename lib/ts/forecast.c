/* fc_forecast: method dispatch, the simple benchmark methods, the fallback chain that keeps
 * every output finite, prediction intervals, and the accuracy measures of a backtest. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/mem.h"
#include "ts/ets.h"
#include "ts/forecast.h"

/* Far beyond any useful horizon; guards the allocations against a typo. */
#define FC_MAX_HORIZON 100000

int fc_method_parse(const char *s, enum fc_method *m)
{
	static const struct {
		const char *name;
		enum fc_method m;
	} tab[] = {{"auto", FC_AUTO},	  {"ets", FC_ETS},     {"theta", FC_THETA},
		   {"snaive", FC_SNAIVE}, {"naive", FC_NAIVE}, {"mean", FC_MEAN}};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(s, tab[i].name)) {
			*m = tab[i].m;
			return 0;
		}
	return -1;
}

void fc_result_init(struct fc_result *r)
{
	memset(r, 0, sizeof(*r));
	r->loglik = r->aic = r->aicc = NAN;
}

void fc_result_release(struct fc_result *r)
{
	free(r->mean);
	free(r->lo);
	free(r->hi);
	fc_result_init(r);
}

/* Lag-k random walk (R's snaive for k = m, naive for k = 1): the last k values repeated,
 * standard errors sqrt(MSE * number of periods ahead). Needs n > k. */
static void fc_lagwalk(const double *y, size_t n, size_t k, size_t h, double *mean, double *sd)
{
	double mse = 0;
	for (size_t t = k; t < n; t++)
		mse += (y[t] - y[t - k]) * (y[t] - y[t - k]);
	mse /= (double)(n - k);
	for (size_t i = 0; i < h; i++) {
		mean[i] = y[n - k + i % k];
		sd[i] = sqrt(mse * (double)(i / k + 1));
	}
}

/* Mean of the history; the standard error of a new observation, sd * sqrt(1 + 1/n). R's
 * meanf() uses Student's t quantiles, we use normal ones (a fallback, not a model). */
static void fc_meanf(const double *y, size_t n, size_t h, double *mean, double *sd)
{
	double mu = 0, ss = 0, s;
	for (size_t t = 0; t < n; t++)
		mu += y[t];
	mu /= (double)n;
	for (size_t t = 0; t < n; t++)
		ss += (y[t] - mu) * (y[t] - mu);
	s = n > 1 ? sqrt(ss / (double)(n - 1)) * sqrt(1 + 1 / (double)n) : 0;
	for (size_t i = 0; i < h; i++) {
		mean[i] = mu;
		sd[i] = s;
	}
}

static int fc_all_finite(const double *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

/* ETS by spec; fills the result's name and criteria. */
static int fc_ets(const double *y, size_t n, const struct fc_opts *o, double *mean, double *sd,
		  struct fc_result *r)
{
	const char *spec = o->ets_model ? o->ets_model : "ZZZ";
	int E, T, S, D, rc;
	struct ets_model f;
	size_t m = o->period > 1 ? o->period : 1;

	if (ets_spec_parse(spec, &E, &T, &S, &D))
		return -1;
	if (m > ETS_MAX_M && n >= 2 * m && E == ETS_Z && T == ETS_Z && S == ETS_Z && D < 0) {
		/* automatic choice with a long period: R's ets() would drop the season */
		double *fig = xmallocarray(m, sizeof(*fig));
		size_t k = 0;
		rc = ets_seasadj_auto(y, n, m, &f, fig, &k);
		if (!rc) {
			char name[32], full[96];
			ets_forecast(&f, o->horizon, mean, sd);
			for (size_t i = 0; i < o->horizon; i++)
				mean[i] += fig[(n + i) % m];
			ets_name(&f, name, sizeof(name));
			if (k)
				snprintf(full, sizeof(full), "%s + season(%zu,K=%zu)", name, m, k);
			else
				snprintf(full, sizeof(full), "%s", name);
			snprintf(r->method, sizeof(r->method), "%.47s", full);
		}
		free(fig);
		if (rc)
			return -1;
	} else {
		if (E != ETS_Z && T != ETS_Z && S != ETS_Z && D >= 0)
			rc = ets_fit(y, n, S == ETS_N ? 1 : m, E, T, S, D, ETS_CRIT_LIK, &f);
		else
			rc = ets_auto(y, n, m, E, T, S, D, 0, &f);
		if (rc)
			return -1;
		ets_forecast(&f, o->horizon, mean, sd);
		ets_name(&f, r->method, sizeof(r->method));
	}
	for (size_t i = 0; i < o->horizon; i++)
		sd[i] = sd[i] > 0 ? sqrt(sd[i]) : 0;
	r->loglik = f.loglik;
	r->aic = f.aic;
	r->aicc = f.aicc;
	return 0;
}

int fc_forecast(const double *y, size_t n, const struct fc_opts *o, struct fc_result *r,
		struct err *e)
{
	size_t h = o->horizon, m = o->period > 1 ? o->period : 1, i, l;
	double *mean, *sd = NULL;
	int zero = 1, constant = 1, ok = 0, fallback = 0;
	enum fc_method meth = o->method;

	if (n < 1)
		return err_set(e, DYN_EDATA, "forecast: empty series");
	if (h < 1)
		return err_set(e, DYN_EUSAGE, "forecast: horizon must be at least 1");
	if (h > FC_MAX_HORIZON)
		return err_set(e, DYN_EUSAGE, "forecast: horizon %zu is too large (at most %d)", h,
			       FC_MAX_HORIZON);
	if (o->nlevels > FC_MAX_LEVELS)
		return err_set(e, DYN_EUSAGE, "forecast: at most %d interval levels",
			       FC_MAX_LEVELS);
	for (l = 0; l < o->nlevels; l++)
		if (!(o->levels[l] > 0 && o->levels[l] < 100))
			return err_set(e, DYN_EUSAGE,
				       "forecast: interval level %g is not between 0 and 100",
				       o->levels[l]);
	if (meth == FC_ETS && o->ets_model) {
		int E, T, S, D;
		if (ets_spec_parse(o->ets_model, &E, &T, &S, &D))
			return err_set(e, DYN_EUSAGE,
				       "forecast: unknown ETS model \"%s\" (expected e.g. ANN, "
				       "AAdA, MAM, ZZZ)",
				       o->ets_model);
	}
	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			return err_set(e, DYN_EDATA, "forecast: value %zu is not a finite number",
				       i + 1);
		if (y[i] != 0)
			zero = 0;
		if (y[i] != y[0])
			constant = 0;
	}

	fc_result_release(r);
	r->h = h;
	r->nlevels = o->nlevels;
	r->mean = mean = xcalloc(h, sizeof(*mean));
	r->lo = xcalloc(h * (o->nlevels ? o->nlevels : 1), sizeof(double));
	r->hi = xcalloc(h * (o->nlevels ? o->nlevels : 1), sizeof(double));
	sd = xcalloc(h, sizeof(*sd));

	if (zero || (constant && meth != FC_SNAIVE && meth != FC_NAIVE && meth != FC_MEAN)) {
		/* nothing to model: the value itself, with no uncertainty */
		for (i = 0; i < h; i++)
			mean[i] = y[0];
		snprintf(r->method, sizeof(r->method), "%s",
			 zero ? "Zero (fallback)" : "Constant (fallback)");
		ok = 1;
	}
	if (!ok && (meth == FC_AUTO || meth == FC_ETS)) {
		ok =
		    !fc_ets(y, n, o, mean, sd, r) && fc_all_finite(mean, h) && fc_all_finite(sd, h);
		if (!ok) {
			r->loglik = r->aic = r->aicc = NAN;
			fallback = 1;
		}
	}
	if (!ok && meth == FC_THETA) {
		ok = !theta_forecast(y, n, m, h, mean, sd) && fc_all_finite(mean, h) &&
		     fc_all_finite(sd, h);
		if (ok)
			snprintf(r->method, sizeof(r->method), "Theta");
		else
			fallback = 1;
	}
	if (!ok && meth == FC_SNAIVE) {
		if (m > 1 && n > m) {
			fc_lagwalk(y, n, m, h, mean, sd);
			snprintf(r->method, sizeof(r->method), "SNaive");
			ok = fc_all_finite(mean, h) && fc_all_finite(sd, h);
		}
		fallback |= !ok;
	}
	if (!ok && meth != FC_MEAN && n >= 2) {
		fc_lagwalk(y, n, 1, h, mean, sd);
		snprintf(r->method, sizeof(r->method), "%s",
			 fallback ? "Naive (fallback)" : "Naive");
		ok = fc_all_finite(mean, h) && fc_all_finite(sd, h);
		fallback |= !ok;
	}
	if (!ok) {
		fc_meanf(y, n, h, mean, sd);
		snprintf(r->method, sizeof(r->method), "%s",
			 meth == FC_MEAN && !fallback ? "Mean" : "Mean (fallback)");
		ok = fc_all_finite(mean, h) && fc_all_finite(sd, h);
	}
	if (!ok) {
		/* values near the limits of double overflow every estimate: repeat the last one */
		for (i = 0; i < h; i++) {
			mean[i] = y[n - 1];
			sd[i] = 0;
		}
		snprintf(r->method, sizeof(r->method), "Last value (fallback)");
	}

	for (l = 0; l < o->nlevels; l++) {
		double z = ts_qnorm(0.5 + o->levels[l] / 200);
		for (i = 0; i < h; i++) {
			double lo = mean[i] - z * sd[i], hi = mean[i] + z * sd[i];
			r->lo[l * h + i] = isfinite(lo) ? lo : mean[i];
			r->hi[l * h + i] = isfinite(hi) ? hi : mean[i];
		}
	}
	if (o->nonnegative) {
		for (i = 0; i < h; i++)
			mean[i] = mean[i] > 0 ? mean[i] : 0;
		for (i = 0; i < h * o->nlevels; i++) {
			r->lo[i] = r->lo[i] > 0 ? r->lo[i] : 0;
			r->hi[i] = r->hi[i] > 0 ? r->hi[i] : 0;
		}
	}
	free(sd);
	return 0;
}

void fc_accuracy(const double *y, size_t n, size_t period, const double *actual,
		 const struct fc_result *r, struct fc_accuracy *acc)
{
	size_t lag = period > 1 && n > period ? period : 1, h = r->h, i, l;
	double scale = 0, mae = 0, smape = 0;

	memset(acc, 0, sizeof(*acc));
	for (i = lag; i < n; i++)
		scale += fabs(y[i] - y[i - lag]);
	scale = n > lag ? scale / (double)(n - lag) : 0;
	for (i = 0; i < h; i++) {
		double d = fabs(actual[i] - r->mean[i]), den = fabs(actual[i]) + fabs(r->mean[i]);
		mae += d;
		if (den > 0)
			smape += 200 * d / den;
	}
	mae /= (double)h;
	acc->mase = scale > 0 ? mae / scale : mae == 0 ? 0 : NAN;
	acc->smape = smape / (double)h;
	for (l = 0; l < r->nlevels && l < FC_MAX_LEVELS; l++) {
		size_t in = 0;
		for (i = 0; i < h; i++)
			if (actual[i] >= r->lo[l * h + i] && actual[i] <= r->hi[l * h + i])
				in++;
		acc->coverage[l] = (double)in / (double)h;
	}
}
