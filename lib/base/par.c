/* Parallel loops (see par.h). */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <unistd.h>

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

/* Threads started once and kept, each waiting on its own semaphore for a job: a network's
 * training step runs some 70 loops, and a thread started and joined for each waits a time
 * slice to be scheduled when the machine is busy. A job not yet taken by its thread when the
 * caller has done its own share is taken back and run by the caller, so a loop never waits for
 * a thread that has not started. Loops started while the pool serves another (a loop nested in
 * a job, or one from another thread) start threads of their own. */
enum { JOB_IDLE, JOB_POSTED, JOB_RUNNING, JOB_DONE, JOB_TAKEN_BACK };
#define POOL_MAX 64

struct pool_worker {
	sem_t wake;
	atomic_int state;
	void *(*fn)(void *);
	void *arg;
};

static struct {
	pthread_mutex_t lock; /* creating workers */
	struct pool_worker *w[POOL_MAX];
	int n;
	atomic_int busy;
	sem_t done; /* a post per job finished by a worker */
	int ready;
} pool = {PTHREAD_MUTEX_INITIALIZER, {NULL}, 0, 0, {{0}}, 0};

static void *pool_main(void *p)
{
	struct pool_worker *w = p;
	for (;;) {
		int want = JOB_POSTED;
		if (sem_wait(&w->wake) < 0)
			continue; /* EINTR */
		/* a job taken back by the caller, or a wake-up left over from one: nothing to do */
		if (!atomic_compare_exchange_strong_explicit(
			&w->state, &want, JOB_RUNNING, memory_order_acq_rel, memory_order_acquire))
			continue;
		w->fn(w->arg);
		atomic_store_explicit(&w->state, JOB_DONE, memory_order_release);
		sem_post(&pool.done);
	}
	return NULL;
}

/* In a child of fork the workers are gone: a fresh pool. */
static void pool_after_fork(void)
{
	pool.n = 0;
	atomic_store(&pool.busy, 0);
	sem_init(&pool.done, 0, 0);
	pthread_mutex_init(&pool.lock, NULL);
}

/* Workers 0 .. want - 1 started as far as possible: how many there are. */
static int pool_grow(int want)
{
	pthread_mutex_lock(&pool.lock);
	if (!pool.ready) {
		sem_init(&pool.done, 0, 0);
		pthread_atfork(NULL, NULL, pool_after_fork);
		pool.ready = 1;
	}
	while (pool.n < want && pool.n < POOL_MAX) {
		struct pool_worker *w = pool.w[pool.n];
		pthread_t th;
		pthread_attr_t at;
		int ok;
		if (!w) {
			w = xcalloc(1, sizeof(*w));
			pool.w[pool.n] = w;
		}
		sem_init(&w->wake, 0, 0);
		atomic_init(&w->state, JOB_IDLE);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		ok = pthread_create(&th, &at, pool_main, w) == 0;
		pthread_attr_destroy(&at);
		if (!ok)
			break;
		pool.n++;
	}
	want = pool.n < want ? pool.n : want;
	pthread_mutex_unlock(&pool.lock);
	return want;
}

/* Fork-join on threads of its own: the nested and concurrent case. */
static void run_own_threads(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	pthread_t *th = xcalloc(n, sizeof(*th));
	unsigned char *started = xcalloc(n, 1);
	size_t t;
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

void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
	int blas, have, claimed = 0;
	size_t t;

	if (n == 0)
		return;
	blas = par_blas_set(1);
	if (n == 1) {
		fn(jobs);
	} else if (atomic_exchange(&pool.busy, 1)) {
		run_own_threads(fn, jobs, size, n);
	} else {
		have = pool_grow(n - 1 > POOL_MAX ? POOL_MAX : (int)(n - 1));
		for (t = 1; t < n && (int)t <= have; t++) {
			struct pool_worker *w = pool.w[t - 1];
			w->fn = fn;
			w->arg = (char *)jobs + t * size;
			atomic_store_explicit(&w->state, JOB_POSTED, memory_order_release);
			sem_post(&w->wake);
		}
		fn(jobs);
		/* jobs their threads have not taken yet are the caller's now */
		for (t = 1; t < n; t++) {
			int want = JOB_POSTED;
			if ((int)t > have || atomic_compare_exchange_strong_explicit(
						 &pool.w[t - 1]->state, &want, JOB_TAKEN_BACK,
						 memory_order_acq_rel, memory_order_acquire))
				fn((char *)jobs + t * size);
			else
				claimed++;
		}
		while (claimed > 0)
			if (sem_wait(&pool.done) == 0)
				claimed--;
		for (t = 1; t < n && (int)t <= have; t++)
			atomic_store_explicit(&pool.w[t - 1]->state, JOB_IDLE,
					      memory_order_relaxed);
		atomic_store(&pool.busy, 0);
	}
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

int par_cpus(int threads)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads > 0)
		return threads;
	return cpus > 0 ? (int)(cpus > 64 ? 64 : cpus) : 1;
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
