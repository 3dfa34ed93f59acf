#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/trace.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static int trace_on = -1; /* -1: environment not read yet */
static double trace_last;

void trace_perf(const char *phase)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_on < 0) {
		const char *v = getenv("DYN_TRACE_PERF");
		trace_on = v && *v && !(v[0] == '0' && !v[1]);
		trace_last = clock_monotonic();
	}
	if (trace_on) {
		double t = clock_monotonic();
		fprintf(stderr, "dyn: trace: %-24s %8.3f s\n", phase, t - trace_last);
		trace_last = t;
	}
	pthread_mutex_unlock(&trace_lock);
}
