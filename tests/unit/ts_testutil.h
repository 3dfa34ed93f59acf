/* Helpers shared by the forecasting unit tests: reading a one-column CSV of testdata/ts and a
 * seeded normal generator. */
#ifndef DYN_TESTS_TS_TESTUTIL_H
#define DYN_TESTS_TS_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads ../testdata/ts/NAME (header line, then one number a line); NULL when unreadable.
 * The caller frees the result. */
static inline double *tsu_load(const char *name, size_t *n)
{
	char path[512], line[256];
	size_t cap = 0;
	double *y = NULL;
	FILE *f;
	snprintf(path, sizeof(path), "../testdata/ts/%s", name);
	f = fopen(path, "r");
	*n = 0;
	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *end;
		double v = strtod(line, &end);
		if (end == line)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			y = realloc(y, cap * sizeof(*y));
			if (!y)
				abort();
		}
		y[(*n)++] = v;
	}
	fclose(f);
	return y;
}

static unsigned long long tsu_state = 88172645463325252ULL;

static inline double tsu_unif(void)
{
	tsu_state ^= tsu_state << 13;
	tsu_state ^= tsu_state >> 7;
	tsu_state ^= tsu_state << 17;
	return ((double)(tsu_state >> 11) + 0.5) / 9007199254740992.0;
}

static inline double tsu_gauss(void)
{
	return sqrt(-2 * log(tsu_unif())) * cos(2 * M_PI * tsu_unif());
}

static inline int tsu_rel_close(double a, double b, double tol)
{
	return fabs(a - b) <= tol * fmax(fabs(b), 1e-12);
}

#endif
