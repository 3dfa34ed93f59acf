/* Fork-join over threads (see par.h). */
#include <pthread.h>

#include "base/base.h"
#include "base/par.h"

void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	pthread_t *th;
	unsigned char *started;
	size_t t;

	if (n == 0)
		return;
	th = xcalloc(n, sizeof(*th));
	started = xcalloc(n, 1);
	for (t = 1; t < n; t++)
		started[t] = pthread_create(&th[t], NULL, fn, (char *)jobs + t * size) == 0;
	fn(jobs);
	for (t = 1; t < n; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			fn((char *)jobs + t * size); /* no thread to spare: do its share here */
	}
	free(th);
	free(started);
}
