/* Descriptive statistics (see stats.h). Quantiles by selection (quickselect with a
 * median-of-three pivot), never a full sort. */
#include <math.h>

#include "base/base.h"
#include "ts/stats.h"

static void swap_d(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* Puts the k-th smallest of x[0..n) at x[k], smaller ones before, larger ones after. */
static void select_kth(double *x, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (hi > lo) {
		size_t mid = lo + (hi - lo) / 2, i, j;
		double pivot;
		/* Median of three keeps sorted and reverse-sorted input linear. */
		if (x[mid] < x[lo])
			swap_d(&x[mid], &x[lo]);
		if (x[hi] < x[lo])
			swap_d(&x[hi], &x[lo]);
		if (x[hi] < x[mid])
			swap_d(&x[hi], &x[mid]);
		pivot = x[mid];
		i = lo;
		j = hi;
		/* Hoare partition: equal keys split evenly, so runs of zeros stay linear. */
		for (;;) {
			while (x[i] < pivot)
				i++;
			while (x[j] > pivot)
				j--;
			if (i >= j)
				break;
			swap_d(&x[i], &x[j]);
			i++;
			j--;
		}
		/* x[lo..j] <= pivot <= x[j+1..hi] */
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
}

static double min_of(const double *x, size_t n)
{
	double m = x[0];
	for (size_t i = 1; i < n; i++)
		if (x[i] < m)
			m = x[i];
	return m;
}

double ts_quantile(double *x, size_t n, double q)
{
	double pos = (double)(n - 1) * q, frac, a, b;
	size_t k = (size_t)floor(pos);
	if (k >= n - 1) {
		select_kth(x, n, n - 1);
		return x[n - 1];
	}
	frac = pos - (double)k;
	select_kth(x, n, k);
	a = x[k];
	if (frac == 0)
		return a;
	/* After the selection, the (k+1)-th smallest is the least of what follows. */
	b = min_of(x + k + 1, n - k - 1);
	/* numpy's _lerp form, exact at both ends. */
	return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

void ts_describe(const double *x, size_t n, double *scratch, struct ts_describe *d)
{
	size_t m = 0, i;
	double sum = 0, ss = 0, mean;
	memset(d, 0, sizeof(*d));
	for (i = 0; i < n; i++) {
		double v = x[i];
		if (isnan(v))
			continue;
		if (!m || v < d->min) {
			d->min = v;
			d->argmin = i;
		}
		if (!m || v > d->max) {
			d->max = v;
			d->argmax = i;
		}
		scratch[m++] = v;
		sum += v;
	}
	d->n = m;
	d->total = sum;
	if (!m) {
		d->mean = d->min = d->max = d->median = d->std = d->p90 = d->p95 = NAN;
		return;
	}
	mean = sum / (double)m;
	for (i = 0; i < m; i++)
		ss += (scratch[i] - mean) * (scratch[i] - mean);
	d->mean = mean;
	d->std = sqrt(ss / (double)m);
	/* Each selection leaves the array partitioned, which makes the next one cheaper. */
	d->median = ts_quantile(scratch, m, 0.5);
	d->p90 = ts_quantile(scratch, m, 0.90);
	d->p95 = ts_quantile(scratch, m, 0.95);
}
