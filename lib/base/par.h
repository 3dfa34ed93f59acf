/* Parallel loops: one place that starts worker threads. par_run is fork-join over a fixed set
 * of jobs; par_for deals out n items dynamically to up to T threads. Both run a share on the
 * calling thread and still finish every item when a thread cannot be started.
 *
 * Who owns the threads, when OpenBLAS also runs: dyn's loops or OpenBLAS, never both at once.
 * - The jobs of par_run and par_for call OpenBLAS on one thread, whatever the number of
 *   threads of the loop (they set it, and restore the caller's count after): a loop on several
 *   threads does not also spread OpenBLAS over the cores, and results do not depend on the
 *   loop's thread count (OpenBLAS splits a long dot product differently on more threads).
 * - Work that wants OpenBLAS's threads (one large product) calls BLAS outside the loops
 *   (models/logreg.c, wide problems).
 * - Work that alternates dyn's loops with BLAS calls many times a second (an iterative solver
 *   whose products are dyn's loops and whose vector steps are BLAS calls) keeps OpenBLAS on one
 *   thread for its whole length with par_blas_set: after each call OpenBLAS's threads spin for
 *   a while on the cores that the next loop needs.
 * OpenBLAS's count is process-wide: dyn starts its loops from one thread at a time (loops
 * nested in a loop's jobs find one thread set already and leave it alone). */
#ifndef DYN_BASE_PAR_H
#define DYN_BASE_PAR_H

#include <stddef.h>

/* Runs fn(job) for each of the n jobs at jobs (elements of size bytes): job 0 on the calling
 * thread, the others on threads of their own; a job whose thread cannot be started runs on the
 * calling thread. Returns when all have finished. OpenBLAS runs on one thread meanwhile. */
void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n);

/* Calls fn(arg, i, t) for every i in [0, n), each exactly once, on up to threads threads
 * (threads <= 1: all on the calling thread, in order). Items are handed out one at a time from
 * a shared counter, in increasing order, so long and short items balance; t in [0, threads) is
 * the worker's index (0: the calling thread), for per-thread scratch. Which thread runs an item
 * is not fixed: results must not depend on it (write per item, reduce afterwards in item
 * order). OpenBLAS runs on one thread inside the loop and is restored after. */
void par_for(size_t n, int threads, void (*fn)(void *arg, size_t i, int t), void *arg);

/* par_for that also reports: progress(arg, done) is called on the calling thread each time it
 * finishes an item, and once more at the end if it has not yet seen done == n; done is the
 * number of items finished on any thread so far (it never decreases). progress runs between
 * items, never at the same time as another progress call; it may print, or hand finished
 * results on, but which items are done it must learn from the items themselves (e.g. a flag
 * each item sets with release order), since done counts them without naming them. */
void par_for_progress(size_t n, int threads, void (*fn)(void *arg, size_t i, int t),
		      void (*progress)(void *arg, size_t done), void *arg);

/* A thread budget: threads when it is above 0 (--threads), else the online processors (at most
 * 64). */
int par_cpus(int threads);

/* The number of threads to use for n items with a budget of threads (at least 1, at most n). */
int par_threads(size_t n, int threads);

/* Sets OpenBLAS's thread count to n (>= 1) and returns the count it had, which the caller
 * passes back here when done: for the computations that set it for their whole length. */
int par_blas_set(int n);

#endif
