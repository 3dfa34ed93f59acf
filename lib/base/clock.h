/* Seconds on the monotonic clock: the one timer of progress bars, traces, training logs and
 * transactions that commit on time. Only differences of two readings mean anything. */
#ifndef DYN_BASE_CLOCK_H
#define DYN_BASE_CLOCK_H

double clock_monotonic(void);

#endif
