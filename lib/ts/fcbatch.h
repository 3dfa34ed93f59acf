/* Forecasts of many queues at once: each queue's series prepared (periods, partial ends
 * trimmed, gaps filled) and forecast on threads, results handed back in queue order. */
#ifndef DYN_TS_FCBATCH_H
#define DYN_TS_FCBATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "ts/forecast.h"
#include "ts/tickets.h"

struct fc_batch_opts {
	struct fc_opts fc; /* method, horizon, levels; fc.period: see ts_gran_period */
	enum ts_gran gran;
	struct ts_stamps stamps; /* how the rows are dated; when not daily, gran is stamps.gran
				  * and each stamped row is one period */
	enum ts_missing missing;
	long from, to; /* days of history to use */
	bool rollup;   /* a queue's load includes its descendants' */
	bool backtest; /* hold out the last horizon and measure the forecasts against it */
	int threads;   /* <= 1: the calling thread alone */
};

/* Partial periods left out at the ends of a series: the first day of each (LONG_MIN: none)
 * and the days of it the data has. */
struct fc_trim {
	long first, last;
	size_t first_days, last_days;
};

/* What became of one queue. */
struct fc_batch_item {
	size_t qi;	/* the queue: index into the data */
	int rc;		/* 0, or the DYN_E* code of err */
	struct err err; /* when rc != 0: names the queue */
	bool empty;	/* no data in the range: nothing forecast (not an error here; the caller
			 * decides) */
	struct fc_trim trim;   /* the partial periods left out of hist */
	struct ts_series hist; /* the series forecast; with a backtest the held-out periods end
				* it */
	struct fc_result fc;
	long *dates; /* without a backtest: the fc.h forecast periods' first days */
	/* with a backtest: accuracy of fc and of the seasonal naive benchmark snaive */
	struct fc_result snaive;
	struct fc_accuracy acc, acc_snaive;
};

/* The seasonal period of a granularity: 7 for days, 52 for weeks, 12 for months. */
size_t ts_gran_period(enum ts_gran g);

/* The series of queue qi as it is forecast: daily counts bucketed into o->gran periods,
 * without a partial period at either end (half a week would read as a drop in load: trim, when
 * not NULL, says which were left out) nor missing ones there, missing periods inside filled by
 * linear interpolation between their neighbours (only TS_MISSING_SKIP leaves any). Stamped
 * data (o->stamps) has a period a stamp, all complete. out (embedded value,
 * ts_series_release) may be empty. */
void fc_batch_series(const struct ts_data *d, size_t qi, const struct fc_batch_opts *o,
		     struct ts_series *out, struct fc_trim *trim);

/* Forecasts the queues ix[0..n) of d on up to o->threads threads. done(arg, i, item) is called
 * on the calling thread for i = 0, 1, ..., n - 1 in that order, each as soon as queue ix[i] and
 * those before it are finished, so output can stream in queue order whatever the threads. The
 * item belongs to fc_batch_run and is released when done returns. A queue that fails has its
 * error in its item and does not stop the others. */
void fc_batch_run(const struct ts_data *d, const size_t *ix, size_t n,
		  const struct fc_batch_opts *o,
		  void (*done)(void *arg, size_t i, const struct fc_batch_item *it), void *arg);

#endif
