#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/trace.h"

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static int trace_on = -1; /* -1: environment not read yet; 2: with CPU time */
static double trace_last, trace_last_cpu;

void trace_perf(const char *phase)
{
	pthread_mutex_lock(&trace_lock);
	if (trace_on < 0) {
		const char *v = getenv("DYN_TRACE_PERF");
		trace_on = v && *v && !(v[0] == '0' && !v[1]);
		if (trace_on && !strcmp(v, "cpu"))
			trace_on = 2;
		trace_last = clock_monotonic();
		trace_last_cpu = clock_process_cpu();
	}
	if (trace_on == 1) {
		double t = clock_monotonic();
		fprintf(stderr, "dyn: trace: %-24s %8.3f s\n", phase, t - trace_last);
		trace_last = t;
	} else if (trace_on == 2) {
		/* on a loaded machine the wall time is mostly waiting: the process's CPU time
		 * (all threads) says what the phase cost */
		double t = clock_monotonic(), c = clock_process_cpu();
		fprintf(stderr, "dyn: trace: %-24s %8.3f s %8.3f s cpu\n", phase, t - trace_last,
			c - trace_last_cpu);
		trace_last = t;
		trace_last_cpu = c;
	}
	pthread_mutex_unlock(&trace_lock);
}
