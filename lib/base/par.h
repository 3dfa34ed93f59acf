/* Fork-join over threads: one place that starts workers, runs a share on the calling thread,
 * and still finishes every job when a thread cannot be started. */
#ifndef DYN_BASE_PAR_H
#define DYN_BASE_PAR_H

#include <stddef.h>

/* Runs fn(job) for each of the n jobs at jobs (elements of size bytes): job 0 on the calling
 * thread, the others on threads of their own; a job whose thread cannot be started runs on the
 * calling thread. Returns when all have finished. */
void par_run(void *(*fn)(void *), void *jobs, size_t size, size_t n);

#endif
