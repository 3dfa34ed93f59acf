/* Unit tests of the parallel loops: par_for hands out every item exactly once whatever the
 * thread count, reports progress on the calling thread, and keeps OpenBLAS to one thread
 * inside its loops, restoring the caller's count after. */
#include <pthread.h>
#include <stdatomic.h>

#include <cblas.h>

#include "base/base.h"
#include "base/par.h"
#include "check.h"

#define MAX_ITEMS 1000

struct loop_check {
	atomic_int seen[MAX_ITEMS];
	atomic_int bad_t, bad_blas, bad_i;
	int threads;	/* the budget given to par_for */
	int want_blas;	/* OpenBLAS's count expected inside the loop */
	pthread_t self; /* the calling thread */
	size_t n;
	/* progress: only ever touched on the calling thread */
	size_t calls, last_done;
	int bad_progress;
};

static void item(void *arg, size_t i, int t)
{
	struct loop_check *c = arg;
	if (i >= c->n) {
		atomic_fetch_add(&c->bad_i, 1);
		return;
	}
	atomic_fetch_add(&c->seen[i], 1);
	if (t < 0 || t >= par_threads(c->n, c->threads) ||
	    (t == 0) != !!pthread_equal(pthread_self(), c->self))
		atomic_fetch_add(&c->bad_t, 1);
	if (openblas_get_num_threads() != c->want_blas)
		atomic_fetch_add(&c->bad_blas, 1);
	/* uneven items, so that the threads take turns unevenly */
	volatile double x = 0;
	for (size_t k = 0; k < (i % 7) * 2000; k++)
		x += (double)k;
	(void)x;
}

static void progress(void *arg, size_t done)
{
	struct loop_check *c = arg;
	if (!pthread_equal(pthread_self(), c->self) || done < c->last_done || done > c->n ||
	    done == 0)
		c->bad_progress++;
	c->last_done = done;
	c->calls++;
}

/* Runs one loop of n items on threads threads and checks it; with_progress: par_for_progress. */
static void run_loop(size_t n, int threads, bool with_progress)
{
	struct loop_check *c = xcalloc(1, sizeof(*c));
	int before = openblas_get_num_threads();
	size_t once = 0;

	c->n = n;
	c->threads = threads;
	c->self = pthread_self();
	c->want_blas = 1;
	if (with_progress)
		par_for_progress(n, threads, item, progress, c);
	else
		par_for(n, threads, item, c);
	for (size_t i = 0; i < n; i++)
		once += atomic_load(&c->seen[i]) == 1;
	check(once == n && atomic_load(&c->bad_i) == 0,
	      "n = %zu, %d threads%s: every item exactly once", n, threads,
	      with_progress ? ", progress" : "");
	check(atomic_load(&c->bad_t) == 0,
	      "n = %zu, %d threads: thread index in range, 0 on the calling thread", n, threads);
	check(atomic_load(&c->bad_blas) == 0,
	      "n = %zu, %d threads: OpenBLAS on %d thread(s) inside the loop", n, threads,
	      c->want_blas);
	check(openblas_get_num_threads() == before,
	      "n = %zu, %d threads: OpenBLAS's count (%d) restored after", n, threads, before);
	if (with_progress) {
		check(c->bad_progress == 0 && c->last_done == n && (n == 0 || c->calls >= 1),
		      "n = %zu, %d threads: progress on the calling thread, never decreasing, "
		      "ends at n (%zu calls, last %zu)",
		      n, threads, c->calls, c->last_done);
		if (threads <= 1)
			check(c->calls == n, "n = %zu, one thread: progress once per item (%zu)", n,
			      c->calls);
	}
	free(c);
}

/* Items handed to a progress hook in order as they finish: the pattern of dyn forecast. */
struct ordered {
	atomic_uchar ready[MAX_ITEMS];
	size_t n, next, out[MAX_ITEMS];
	double value[MAX_ITEMS];
};

static void ordered_item(void *arg, size_t i, int t)
{
	struct ordered *o = arg;
	o->value[i] = (double)i * 0.5;
	atomic_store_explicit(&o->ready[i], 1, memory_order_release);
}

static void ordered_progress(void *arg, size_t done)
{
	struct ordered *o = arg;
	while (o->next < o->n && atomic_load_explicit(&o->ready[o->next], memory_order_acquire)) {
		o->out[o->next] = (size_t)(o->value[o->next] * 2);
		o->next++;
	}
}

struct run_job {
	atomic_int *count;
	int blas;
};

static void *run_job(void *arg)
{
	struct run_job *j = arg;
	atomic_fetch_add(j->count, 1);
	j->blas = openblas_get_num_threads();
	return NULL;
}

int main(void)
{
	static const size_t sizes[] = {0, 1, 2, 7, MAX_ITEMS};
	int blas = openblas_get_num_threads();

	/* a count above 1, so that "one inside the loop" differs from "restored" */
	par_blas_set(3);
	check(openblas_get_num_threads() == 3, "par_blas_set sets OpenBLAS's count");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		for (int t = 1; t <= 8; t++)
			run_loop(sizes[s], t, t % 2 == 0);
	run_loop(3, 8, true);  /* more threads than items */
	run_loop(5, 0, false); /* no budget: the calling thread alone */
	run_loop(5, -3, true);

	check(par_threads(0, 4) == 1 && par_threads(3, 8) == 3 && par_threads(10, 4) == 4 &&
		  par_threads(10, 0) == 1,
	      "par_threads: at least 1, at most the items");

	{
		struct ordered *o = xcalloc(1, sizeof(*o));
		size_t ok = 0;
		o->n = MAX_ITEMS;
		par_for_progress(o->n, 4, ordered_item, ordered_progress, o);
		for (size_t i = 0; i < o->n; i++)
			ok += o->out[i] == i;
		check(o->next == o->n && ok == o->n,
		      "progress hands every result on in item order (%zu of %zu)", ok, o->n);
		free(o);
	}
	{
		atomic_int count;
		struct run_job jobs[4];
		int inside = 1;
		atomic_init(&count, 0);
		for (int k = 0; k < 4; k++)
			jobs[k] = (struct run_job){&count, 0};
		par_run(run_job, jobs, sizeof(jobs[0]), 4);
		for (int k = 0; k < 4; k++)
			inside &= jobs[k].blas == 1;
		check(atomic_load(&count) == 4 && inside && openblas_get_num_threads() == 3,
		      "par_run: every job, OpenBLAS on one thread inside, restored after");
		jobs[0].blas = 0;
		par_run(run_job, jobs, sizeof(jobs[0]), 1);
		check(atomic_load(&count) == 5 && jobs[0].blas == 1 &&
			  openblas_get_num_threads() == 3,
		      "par_run of one job: OpenBLAS on one thread too (results do not depend on "
		      "the number of jobs)");
	}
	check(par_blas_set(blas) == 3 && openblas_get_num_threads() == blas,
	      "par_blas_set returns the count it replaces");
	return check_done();
}
