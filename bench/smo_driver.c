/* Times dyn's SMO solver alone on a dense libsvm-format file (every feature present), for
 * bench/svc.sh: prints nSV, rho, iterations and seconds. usage: smo_driver FILE C GAMMA TOL MB */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/smo.h"

#include "base/base.h"

int main(int argc, char **argv)
{
	if (argc != 6) {
		fputs("usage: smo_driver FILE C GAMMA TOL CACHE_MB\n", stderr);
		return 2;
	}
	FILE *fp = fopen(argv[1], "r");
	if (!fp) {
		perror(argv[1]);
		return 1;
	}
	double *X = NULL;
	signed char *y = NULL;
	size_t n = 0, d = 0, xa = 0, ya = 0, nx = 0;
	char line[1 << 16];
	while (fgets(line, sizeof(line), fp)) {
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		if (!tok)
			continue;
		double lab;
		if (parse_double(tok, (size_t)-1, &lab, false))
			return 1;
		ALLOC_GROW(y, n + 1, ya);
		y[n] = lab > 0 ? 1 : -1;
		size_t j = 0;
		while ((tok = strtok_r(NULL, " \n", &save))) {
			char *colon = strchr(tok, ':');
			double v;
			if (!colon || parse_double(colon + 1, (size_t)-1, &v, false))
				return 1;
			ALLOC_GROW(X, nx + 1, xa);
			X[nx++] = v;
			j++;
		}
		if (n == 0)
			d = j;
		n++;
	}
	fclose(fp);
	double C, g, tol, mb;
	parse_double(argv[2], (size_t)-1, &C, false);
	parse_double(argv[3], (size_t)-1, &g, false);
	parse_double(argv[4], (size_t)-1, &tol, false);
	parse_double(argv[5], (size_t)-1, &mb, false);
	struct smo_problem p = {.n = n,
				.d = d,
				.X = X,
				.y = y,
				.Cp = C,
				.Cn = C,
				.tol = tol,
				.cache_bytes = (size_t)(mb * 1048576),
				.shrinking = true};
	p.kernel.type = KERNEL_RBF;
	p.kernel.gamma = g;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct smo_result r;
	smo_solve(&p, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t nsv = 0, nbsv = 0;
	for (size_t i = 0; i < n; i++) {
		nsv += r.alpha[i] > 0;
		nbsv += r.alpha[i] >= C;
	}
	printf("n=%zu d=%zu nSV=%zu nBSV=%zu rho=%.10g obj=%.10g iter=%ld seconds=%.3f\n", n, d,
	       nsv, nbsv, r.rho, r.obj, r.iter,
	       (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	free(r.alpha);
	free(X);
	free(y);
	return 0;
}
