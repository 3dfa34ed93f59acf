/* Descriptive statistics of a series as numpy defines them: population standard deviation
 * (ddof=0) and quantiles by linear interpolation (numpy's default "linear" method). */
#ifndef DYN_TS_STATS_H
#define DYN_TS_STATS_H

#include <stddef.h>

/* The q-quantile (0 <= q <= 1) of x[0..n), n >= 1, by linear interpolation between the order
 * statistics at (n-1)q. Reorders x (selection, not a full sort: O(n) expected). */
double ts_quantile(double *x, size_t n, double q);

struct ts_describe {
	size_t n;
	double total, mean, min, max, median, std, p90, p95;
	size_t argmin, argmax; /* index of the first minimum and maximum in the input order */
};

/* Describes x[0..n) (n >= 1), skipping NaN (missing) values; d->n counts the others and the
 * statistics are NaN when there are none. scratch holds n doubles (its contents are lost). */
void ts_describe(const double *x, size_t n, double *scratch, struct ts_describe *d);

#endif
