#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/trace.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static int trace_on = -1; /* -1: environment not read yet */
static double trace_last;

static double trace_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void trace_perf(const char *phase)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_on < 0) {
		const char *v = getenv("DYN_TRACE_PERF");
		trace_on = v && *v && !(v[0] == '0' && !v[1]);
		trace_last = trace_now();
	}
	if (trace_on) {
		double t = trace_now();
		fprintf(stderr, "dyn: trace: %-24s %8.3f s\n", phase, t - trace_last);
		trace_last = t;
	}
	pthread_mutex_unlock(&trace_lock);
}
