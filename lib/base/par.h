/* Parallel loops: one place that starts worker threads. par_run is fork-join over a fixed set
 * of jobs; par_for deals out n items dynamically to up to T threads. Both run a share on the
 * calling thread and still finish every item when a thread cannot be started.
 *
 * Who owns the threads: a parallel loop of dyn's and OpenBLAS never both spread over the
 * cores. Inside par_for's workers (T > 1) OpenBLAS is kept to one thread (par_blas_threads
 * says so to a caller); a caller that wants OpenBLAS's own threads calls BLAS outside the loop,
 * or runs par_for with T = 1. */
#ifndef DYN_BASE_PAR_H
#define DYN_BASE_PAR_H

#include <stddef.h>

/* Runs fn(job) for each of the n jobs at jobs (elements of size bytes): job 0 on the calling
 * thread, the others on threads of their own; a job whose thread cannot be started runs on the
 * calling thread. Returns when all have finished. */
void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n);

/* Calls fn(arg, i, t) for every i in [0, n), each exactly once, on up to threads threads
 * (threads <= 1: all on the calling thread, in order). Items are handed out one at a time from
 * a shared counter, in increasing order, so long and short items balance; t in [0, threads) is
 * the worker's index (0: the calling thread), for per-thread scratch. Which thread runs an item
 * is not fixed: results must not depend on it (write per item, reduce afterwards in item
 * order). OpenBLAS runs on one thread inside the loop when threads > 1 and is restored after. */
void par_for(size_t n, int threads, void (*fn)(void *arg, size_t i, int t), void *arg);

/* The number of threads to use for n items with a budget of threads (at least 1, at most n). */
int par_threads(size_t n, int threads);

#endif
