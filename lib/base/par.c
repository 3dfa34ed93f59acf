/* Parallel loops (see par.h). */
#include <pthread.h>
#include <stdatomic.h>

#include "base/base.h"
#include "base/blas.h"
#include "base/par.h"

int par_blas_set(int n)
{
	int old = openblas_get_num_threads();
	if (n < 1)
		n = 1;
	/* not written when unchanged: loops nested in a loop's jobs only read it */
	if (n != old)
		openblas_set_num_threads(n);
	return old;
}

void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	pthread_t *th;
	unsigned char *started;
	size_t t;
	int blas;

	if (n == 0)
		return;
	blas = par_blas_set(1);
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
	par_blas_set(blas);
}

struct par_loop {
	atomic_size_t next, done;
	size_t n;
	void (*fn)(void *arg, size_t i, int t);
	void (*progress)(void *arg, size_t done);
	void *arg;
	size_t reported; /* the last done that progress saw (calling thread only) */
};

struct par_worker {
	struct par_loop *loop;
	int t;
};

static void *par_worker_main(void *p)
{
	struct par_worker *w = p;
	struct par_loop *l = w->loop;
	size_t i;
	while ((i = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed)) < l->n) {
		l->fn(l->arg, i, w->t);
		if (!l->progress)
			continue;
		/* acq_rel: the count and what the items wrote travel together */
		size_t done = atomic_fetch_add_explicit(&l->done, 1, memory_order_acq_rel) + 1;
		if (w->t == 0) {
			l->reported = done;
			l->progress(l->arg, done);
		}
	}
	return NULL;
}

int par_threads(size_t n, int threads)
{
	if (threads < 1 || n < 1)
		return 1;
	return (size_t)threads > n ? (int)n : threads;
}

void par_for_progress(size_t n, int threads, void (*fn)(void *arg, size_t i, int t),
		      void (*progress)(void *arg, size_t done), void *arg)
{
	struct par_loop l;
	struct par_worker *w;
	int nt = par_threads(n, threads), t;

	if (n == 0)
		return;
	atomic_init(&l.next, 0);
	atomic_init(&l.done, 0);
	l.n = n;
	l.fn = fn;
	l.progress = progress;
	l.arg = arg;
	l.reported = 0;
	w = xcalloc((size_t)nt, sizeof(*w));
	for (t = 0; t < nt; t++) {
		w[t].loop = &l;
		w[t].t = t;
	}
	/* worker 0 is the calling thread (par_run runs job 0 there), the one that reports */
	par_run(par_worker_main, w, sizeof(*w), (size_t)nt);
	free(w);
	if (progress && l.reported != n)
		progress(arg, n);
}

void par_for(size_t n, int threads, void (*fn)(void *arg, size_t i, int t), void *arg)
{
	par_for_progress(n, threads, fn, NULL, arg);
}
