/* Parallel loops (see par.h). */
#include <pthread.h>
#include <stdatomic.h>

#include "base/base.h"
#include "base/par.h"

/* OpenBLAS's thread count, declared here rather than through cblas.h so that lib/base does not
 * depend on BLAS headers (the symbols are in libopenblas, which every dyn binary links). */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

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

struct par_loop {
	atomic_size_t next;
	size_t n;
	void (*fn)(void *arg, size_t i, int t);
	void *arg;
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
	while ((i = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed)) < l->n)
		l->fn(l->arg, i, w->t);
	return NULL;
}

int par_threads(size_t n, int threads)
{
	if (threads < 1 || n < 1)
		return 1;
	return (size_t)threads > n ? (int)n : threads;
}

void par_for(size_t n, int threads, void (*fn)(void *arg, size_t i, int t), void *arg)
{
	struct par_loop l;
	struct par_worker *w;
	int nt = par_threads(n, threads), blas, t;

	if (n == 0)
		return;
	if (nt == 1) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i, 0);
		return;
	}
	atomic_init(&l.next, 0);
	l.n = n;
	l.fn = fn;
	l.arg = arg;
	w = xcalloc((size_t)nt, sizeof(*w));
	for (t = 0; t < nt; t++) {
		w[t].loop = &l;
		w[t].t = t;
	}
	blas = openblas_get_num_threads();
	openblas_set_num_threads(1);
	par_run(par_worker_main, w, sizeof(*w), (size_t)nt);
	openblas_set_num_threads(blas);
	free(w);
}
