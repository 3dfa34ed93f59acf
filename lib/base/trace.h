/* Performance trace for developers, like git's GIT_TRACE_PERFORMANCE: with DYN_TRACE_PERF set
 * in the environment, trace_perf("phase") writes to standard error the wall time since the
 * previous call (or since the first), one line per phase; DYN_TRACE_PERF=cpu adds the process's
 * CPU time (all threads) of each phase. Off, it costs one branch. The only output lib/ writes
 * itself: it is a debugging aid, not part of dyn's interface. */
#ifndef DYN_BASE_TRACE_H
#define DYN_BASE_TRACE_H

void trace_perf(const char *phase);

#endif
