/* Seconds on the monotonic clock: the one timer of progress bars, traces, training logs and
 * transactions that commit on time; and the CPU time the process has used (all its threads),
 * which says what a phase cost on a loaded machine, where the wall clock is mostly waiting.
 * Only differences of two readings mean anything. */
#ifndef DYN_BASE_CLOCK_H
#define DYN_BASE_CLOCK_H

double clock_monotonic(void);
double clock_process_cpu(void);

#endif
