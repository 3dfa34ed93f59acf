/* Seconds on the monotonic and the process CPU clocks (base/clock.h). */
#include <time.h>

#include "base/clock.h"

static double seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double clock_monotonic(void)
{
	return seconds(CLOCK_MONOTONIC);
}

double clock_process_cpu(void)
{
	return seconds(CLOCK_PROCESS_CPUTIME_ID);
}
