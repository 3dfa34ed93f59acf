/* Exponential smoothing state-space models (ETS, Hyndman et al. 2008) fitted by maximum
 * likelihood as R's forecast::ets does; internal to lib/ts (the public face is forecast.h). */
#ifndef DYN_TS_ETS_H
#define DYN_TS_ETS_H

#include <stddef.h>

/* Largest seasonal period of a seasonal ETS model (R's limit: the initial seasonal states
 * are optimized, and beyond 24 there are too many of them). */
#define ETS_MAX_M 24

enum ets_comp {
	ETS_N = 0,
	ETS_A = 1,
	ETS_M = 2,
};

enum ets_crit {
	ETS_CRIT_LIK = 0, /* n log(SSE) (+ 2 sum log|yhat| for multiplicative errors) */
	ETS_CRIT_MSE,	  /* mean squared one-step error, as ses() inside thetaf() */
};

struct ets_model {
	int error, trend, season, damped; /* enum ets_comp; damped 0/1 */
	size_t m;			  /* seasonal period; 1 when season == ETS_N */
	double alpha, beta, gamma, phi;	  /* beta 0 without trend, gamma 0 without season, phi 1
					     when not damped */
	/* States as R orders them: level, trend (if any), then s_1..s_m, s_1 the most recent.
	 * init: at time 0 (after the fit), last: after the last observation. */
	double init[2 + ETS_MAX_M], last[2 + ETS_MAX_M];
	size_t nstate; /* entries used in init/last */
	size_t npar;   /* estimated parameters: smoothing + initial states (m-1 seasonal) */
	double loglik, aic, aicc, bic, sigma2, mse;
	int nevals; /* objective evaluations of the optimizer */
};

/* Parses "ANN", "MAdM", "ZZZ", "AZN"...: each of error/trend/season is N, A, M or Z (any);
 * "d" after the trend letter asks for damping. *damped: 1, 0, or -1 (both, for a Z trend
 * or when not given with a Z). Returns -1 on anything else. */
int ets_spec_parse(const char *s, int *error, int *trend, int *season, int *damped);

/* Writes "ETS(M,Ad,M)" into buf. */
void ets_name(const struct ets_model *f, char *buf, size_t len);

/* Fits one model to y[0..n) with period m (ignored when season == ETS_N). Returns 0, or -1
 * when the model cannot be fitted (too few observations, non-positive data for a
 * multiplicative model, infeasible start). */
int ets_fit(const double *y, size_t n, size_t m, int error, int trend, int season, int damped,
	    enum ets_crit crit, struct ets_model *f);

/* Fits every allowed model matching the spec (components ETS_Z = any) and keeps the one of
 * lowest AICc, with R's default restrictions: no additive error with a multiplicative
 * component, no multiplicative trend unless allow_mult_trend, multiplicative error only
 * for positive data, no seasonality when m == 1, m > ETS_MAX_M or n <= m. Returns 0, -1
 * when no model could be fitted. */
#define ETS_Z (-1)
int ets_auto(const double *y, size_t n, size_t m, int error, int trend, int season, int damped,
	     int allow_mult_trend, struct ets_model *best);

/* Point forecasts mean[0..h) and forecast variances var[0..h) (var may be NULL): analytic
 * for the linear and the multiplicative-error models (R's classes 1-3), simulated with
 * npaths sample paths and a fixed seed for multiplicative trends, in which case var
 * receives the sample variance. */
void ets_forecast(const struct ets_model *f, size_t h, double *mean, double *var);

/* The centred moving average of order m (2 x m for even m) of y at i, as R's decompose() takes
 * the trend: needs m / 2 <= i and i + m / 2 < n. */
double ts_centred_ma(const double *y, size_t i, size_t m);
/* Classical decomposition (R's decompose()): the seasonal figure fig[0..m) of y[0..n)
 * (n >= 2m), fig[i] the index of times i, i+m, ...; additive (sums to 0) or multiplicative
 * (averages 1). Returns -1 when some figure is undefined. */
int ts_decompose(const double *y, size_t n, size_t m, int multiplicative, double *fig);

/* For a period too long for seasonal ETS (m > ETS_MAX_M, e.g. 52 weeks): the additive
 * seasonal figure of a classical decomposition (as ts_decompose), smoothed to its first k
 * harmonics, k in 0 (none), 1, 2, 3, 4, 6, 8, 12 or m/2 (the whole figure) by the lowest AICc
 * of the detrended series against it (2k parameters, m - 1 for the whole figure), is
 * subtracted, and ets_auto fits a non-seasonal model to the adjusted series. *best is that
 * fit, fig[0..m) the figure subtracted (fig[i] for times i, i + m, ...; all 0 when k = 0),
 * *nharm its k. Needs n >= 2m; returns -1 otherwise or when no model could be fitted. */
int ets_seasadj_auto(const double *y, size_t n, size_t m, struct ets_model *best, double *fig,
		     size_t *nharm);

/* The seasonal figure fig[0..m) reduced to its first k harmonics (its discrete Fourier
 * series truncated; the mean term, 0 for an additive figure, is dropped) into out[0..m);
 * 2k >= m copies the figure. */
void ts_fourier_smooth(const double *fig, size_t m, size_t k, double *out);

/* The Theta method as R's forecast::thetaf(): a seasonality test at the 90% level on the
 * lag-m autocorrelation, classical multiplicative adjustment, simple exponential smoothing
 * (fitted by MSE) plus half the slope of the linear trend. mean[0..h) and the standard
 * errors se[0..h). Returns -1 when the series is too short (n < 4). */
int theta_forecast(const double *y, size_t n, size_t m, size_t h, double *mean, double *se);

/* Standard normal quantile, accurate to ~1e-15. */
double ts_qnorm(double p);

/* Least-squares line through (x0 + i, y[i]), i in [0, n): *a intercept, *b slope. */
void ts_linefit(const double *y, size_t n, double x0, double *a, double *b);

#endif
