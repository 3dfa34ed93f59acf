/* Stand-in for "dyn forecast --all --backtest" until that command exists: reads the long CSV
 * of bench/gen_series.py, forecasts the last H days of every series from the rest with
 * fc_forecast (automatic ETS, period 7) on T threads, prints the mean MASE and sMAPE.
 * Usage: fc_bench FILE.csv H THREADS [METHOD]
 * (env: FC_BENCH_PERIOD seasonal period, default 7; FC_BENCH_REPEAT N forecasts every series
 * N times and prints the CPU seconds of one pass, reading excluded) */
#include <time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "ts/forecast.h"

struct series {
	double *y;
	size_t n, cap;
	double mase, smape, cov95;
	char method[48];
};

static struct series *all;
static size_t nseries, next_series, horizon, period = 7;
static enum fc_method method = FC_AUTO;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		size_t k;
		struct series *s;
		struct fc_opts o = {0};
		struct fc_result r;
		struct fc_accuracy a;
		struct err e = ERR_INIT;
		pthread_mutex_lock(&lock);
		k = next_series++;
		pthread_mutex_unlock(&lock);
		if (k >= nseries)
			return NULL;
		s = &all[k];
		o.method = method;
		o.period = period;
		o.horizon = horizon;
		o.nlevels = 2;
		o.levels[0] = 80;
		o.levels[1] = 95;
		o.nonnegative = 1; /* as dyn forecast: clamped when the history has no negative */
		for (size_t i = 0; i < s->n - horizon; i++)
			if (s->y[i] < 0)
				o.nonnegative = 0;
		fc_result_init(&r);
		if (fc_forecast(s->y, s->n - horizon, &o, &r, &e)) {
			fprintf(stderr, "series %zu: %s\n", k + 1, e.msg);
			exit(1);
		}
		fc_accuracy(s->y, s->n - horizon, period, s->y + s->n - horizon, &r, &a);
		s->mase = a.mase;
		s->smape = a.smape;
		s->cov95 = a.coverage[1];
		memcpy(s->method, r.method, sizeof(s->method));
		fc_result_release(&r);
	}
}

int main(int argc, char **argv)
{
	char line[256], last[64] = "";
	long repeat = 1;
	double cpu;
	struct timespec t0, t1;
	int nth;
	FILE *f;
	pthread_t th[64];
	double mase = 0, smape = 0, cov = 0;
	if (argc < 4)
		return 2;
	horizon = (size_t)strtoul(argv[2], NULL, 10);
	nth = (int)strtol(argv[3], NULL, 10);
	if (argc > 4 && fc_method_parse(argv[4], &method))
		return 2;
	if (nth < 1 || nth > 64)
		nth = 1;
	f = fopen(argv[1], "r");
	if (!f)
		return 1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p, *end, id[64];
		size_t idlen = strcspn(line, ",");
		struct series *s;
		p = strrchr(line, ',');
		if (!p || idlen >= sizeof(id))
			continue;
		memcpy(id, line, idlen);
		id[idlen] = 0;
		if (strcmp(id, last)) {
			all = xrealloc(all, (nseries + 1) * sizeof(*all));
			memset(&all[nseries], 0, sizeof(*all));
			nseries++;
			memcpy(last, id, idlen + 1);
		}
		s = &all[nseries - 1];
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 1024;
			s->y = xrealloc(s->y, s->cap * sizeof(double));
		}
		s->y[s->n++] = strtod(p + 1, &end);
	}
	fclose(f);
	if (getenv("FC_BENCH_PERIOD"))
		period = (size_t)strtoul(getenv("FC_BENCH_PERIOD"), NULL, 10);
	if (getenv("FC_BENCH_REPEAT"))
		repeat = strtol(getenv("FC_BENCH_REPEAT"), NULL, 10);
	if (repeat < 1)
		repeat = 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (long rep = 0; rep < repeat; rep++) {
		next_series = 0;
		for (int i = 0; i < nth; i++)
			pthread_create(&th[i], NULL, worker, NULL);
		for (int i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	cpu = ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec)) /
	      (double)repeat;
	for (size_t k = 0; k < nseries; k++) {
		mase += all[k].mase;
		smape += all[k].smape;
		cov += all[k].cov95;
		if (getenv("FC_BENCH_VERBOSE"))
			printf("%zu,%s,%.6f\n", k + 1, all[k].method, all[k].mase);
		free(all[k].y);
	}
	printf("series %zu mean_mase %.6f mean_smape %.4f coverage95 %.4f cpu_per_pass %.6f\n",
	       nseries, mase / (double)nseries, smape / (double)nseries, cov / (double)nseries,
	       cpu);
	free(all);
	return 0;
}
