/* Unit tests of lib/ts/stats.c against numpy 1.24 (np.quantile's default linear method,
 * np.std with ddof=0):
 *   x = [3.5,1,4,1,5,9,2,6,5,3,5,8,9,7,9,3,2,3,8,4]
 *   np.quantile(x, .9) = 9.0, .95 -> 9.0, .33 -> 3.1350000000000002, np.median = 4.5,
 *   np.std = 2.616653396993954, np.mean = 4.875
 *   y = [0,0,0,0,0,7]: np.quantile(y, .9) = 3.5, .95 -> 5.25, np.std = 2.6087459737497545 */
#include "check.h"
#include "base/base.h"
#include "ts/stats.h"

int main(void)
{
	double x[] = {3.5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
	double y[] = {0, 0, 0, 0, 0, 7};
	double m[] = {5, NAN, 1, NAN, 3};
	double s[64], big[10001];
	struct ts_describe d;

	ts_describe(x, ARRAY_SIZE(x), s, &d);
	check(d.n == 20, "n");
	check_close(d.mean, 4.875, 1e-15, "mean");
	check_close(d.std, 2.616653396993954, 1e-14, "population std");
	check_close(d.median, 4.5, 0, "median");
	check_close(d.p90, 9.0, 0, "p90");
	check_close(d.p95, 9.0, 0, "p95");
	check(d.min == 1 && d.argmin == 1 && d.max == 9 && d.argmax == 5,
	      "min/max and their first index");
	memcpy(s, x, sizeof(x));
	check_close(ts_quantile(s, ARRAY_SIZE(x), 0.33), 3.1350000000000002, 1e-15,
		    "q33 interpolates");

	ts_describe(y, ARRAY_SIZE(y), s, &d);
	check_close(d.p90, 3.5, 1e-15, "p90 between 0 and 7");
	check_close(d.p95, 5.25, 1e-15, "p95 between 0 and 7");
	check_close(d.std, 2.6087459737497545, 1e-14, "std of mostly zeros");
	check(d.median == 0, "median of mostly zeros");

	ts_describe(m, ARRAY_SIZE(m), s, &d);
	check(d.n == 3 && d.total == 9 && d.median == 3, "NaN (missing) values are skipped");
	check(d.argmin == 2 && d.argmax == 0, "indices refer to the input with its NaNs");

	ts_describe(m + 1, 1, s, &d);
	check(d.n == 0 && isnan(d.mean), "all missing: NaN statistics");

	/* Many ties and sorted input stay correct (and linear: Hoare partition). */
	for (size_t i = 0; i < ARRAY_SIZE(big); i++)
		big[i] = (double)(i % 3 == 0 ? 0 : i);
	check(ts_quantile(big, ARRAY_SIZE(big), 0.0) == 0, "q0 is the minimum");
	for (size_t i = 0; i < ARRAY_SIZE(big); i++)
		big[i] = (double)i;
	check(ts_quantile(big, ARRAY_SIZE(big), 0.95) == 9500, "p95 of 0..10000");
	check(ts_quantile(big, ARRAY_SIZE(big), 1.0) == 10000, "q1 is the maximum");
	return check_done();
}
