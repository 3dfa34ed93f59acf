/* Forecasting one series: automatic ETS (by AICc), Theta, seasonal naive and a robust fallback,
 * with prediction intervals; and the accuracy measures of a backtest. */
#ifndef DYN_TS_FORECAST_H
#define DYN_TS_FORECAST_H

#include <stddef.h>

#include "base/err.h"

enum fc_method {
	FC_AUTO = 0, /* ETS by AICc (for periods over 24, e.g. 52 weeks, on the series less a
			smoothed seasonal figure); falls back for short, constant or all-zero
			series */
	FC_ETS,	     /* ETS, model given by fc_opts.ets_model ("ZZZ" = choose by AICc) */
	FC_THETA,
	FC_SNAIVE,
	FC_NAIVE,
	FC_MEAN,
};

/* Parses "auto|ets|theta|snaive|naive|mean"; -1 on anything else. */
int fc_method_parse(const char *s, enum fc_method *m);

#define FC_MAX_LEVELS 8

struct fc_opts {
	enum fc_method method;
	size_t period;	/* seasonal period: 7 daily, 52 weekly, 12 monthly; 1 = none */
	size_t horizon; /* >= 1 */
	size_t nlevels; /* interval levels, e.g. {80, 95} */
	double levels[FC_MAX_LEVELS];
	const char *ets_model; /* for FC_ETS: "ZZZ", "ANN", "MAdM"...; NULL = "ZZZ" */
	int nonnegative;       /* clamp forecasts and bounds at 0 (counts) */
};

/* A forecast. Embedded value: fc_result_init / fc_result_release. */
struct fc_result {
	size_t h, nlevels;
	double *mean;		  /* h */
	double *lo;		  /* nlevels x h, row per level */
	double *hi;		  /* nlevels x h */
	char method[48];	  /* what was fitted, e.g. "ETS(M,Ad,M)", "Theta", "SNaive", "Mean
				     (fallback)" */
	double loglik, aic, aicc; /* NaN where not applicable */
};

void fc_result_init(struct fc_result *r);
void fc_result_release(struct fc_result *r);

/* Forecasts y[0..n) (n >= 1; non-finite values are an error). Never produces NaN: a method
 * that fails or does not fit falls back to a simpler one, and r->method says which. */
int fc_forecast(const double *y, size_t n, const struct fc_opts *o, struct fc_result *r,
		struct err *e);

/* Accuracy of a forecast against the actual values: MASE (scaled by the in-sample seasonal
 * naive MAE of y[0..n) with the given period; lag 1 when n <= period; NaN when that scale is 0
 * and the errors are not all 0), sMAPE (in percent, 0..200; as in M4, 0/0 terms count as 0),
 * and the share of actuals inside the interval of each level. actual has r->h values. */
struct fc_accuracy {
	double mase, smape;
	double coverage[FC_MAX_LEVELS];
};
void fc_accuracy(const double *y, size_t n, size_t period, const double *actual,
		 const struct fc_result *r, struct fc_accuracy *acc);

#endif
