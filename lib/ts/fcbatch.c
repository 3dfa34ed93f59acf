/* Forecasts of many queues on threads (see fcbatch.h). */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>

#include "base/base.h"
#include "base/par.h"
#include "ts/fcbatch.h"

size_t ts_gran_period(enum ts_gran g)
{
	return g == TS_DAY ? 7 : g == TS_WEEK ? 52 : 12;
}

static long period_len(enum ts_gran g, long start)
{
	return ts_gran_next(g, start) - start;
}

/* Stamped data: the daily series' values on its stamps, one period each. */
static void stamped_periods(const struct ts_series *daily, const struct ts_stamps *st,
			    struct ts_series *out)
{
	size_t n = 0;
	for (size_t i = 0; i < daily->n; i++)
		n += ts_is_stamp(st, daily->start[0], daily->start[i]);
	ts_series_init(out);
	out->v = xmallocarray(n ? n : 1, sizeof(double));
	out->start = xmallocarray(n ? n : 1, sizeof(long));
	out->days = xmallocarray(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < daily->n; i++)
		if (ts_is_stamp(st, daily->start[0], daily->start[i])) {
			out->v[out->n] = daily->v[i];
			out->start[out->n] = daily->start[i];
			out->days[out->n++] =
			    (size_t)(ts_stamp_next(st, daily->start[i]) - daily->start[i]);
		}
}

void fc_batch_series(const struct ts_data *d, size_t qi, const struct fc_batch_opts *o,
		     struct ts_series *out, struct fc_trim *trim)
{
	struct ts_series daily, bk;
	size_t lo = 0, hi, i, k;
	struct fc_trim tr = {LONG_MIN, LONG_MIN, 0, 0};
	ts_series_init(&daily);
	ts_series_init(&bk);
	ts_series_daily(d, qi, o->from, o->to, o->rollup, o->missing, &daily);
	if (o->stamps.gran != TS_DAY)
		stamped_periods(&daily, &o->stamps, &bk);
	else
		ts_series_bucket(&daily, o->gran, &bk);
	hi = bk.n;
	if (o->stamps.gran == TS_DAY && o->gran != TS_DAY && hi > 1) {
		if ((long)bk.days[0] < period_len(o->gran, bk.start[0])) {
			tr.first = bk.start[0];
			tr.first_days = bk.days[0];
			lo = 1;
		}
		if (hi - lo > 1 && (long)bk.days[hi - 1] < period_len(o->gran, bk.start[hi - 1])) {
			tr.last = bk.start[hi - 1];
			tr.last_days = bk.days[hi - 1];
			hi--;
		}
	}
	if (trim)
		*trim = tr;
	while (lo < hi && isnan(bk.v[lo]))
		lo++;
	while (hi > lo && isnan(bk.v[hi - 1]))
		hi--;
	ts_series_init(out);
	out->n = hi - lo;
	out->v = xmallocarray(out->n ? out->n : 1, sizeof(double));
	out->start = xmallocarray(out->n ? out->n : 1, sizeof(long));
	out->days = xmallocarray(out->n ? out->n : 1, sizeof(size_t));
	for (i = 0; i < out->n; i++) {
		out->v[i] = bk.v[lo + i];
		out->start[i] = bk.start[lo + i];
		out->days[i] = bk.days[lo + i];
	}
	for (i = 0; i < out->n; i = k) {
		k = i + 1;
		if (!isnan(out->v[i]))
			continue;
		while (k < out->n && isnan(out->v[k]))
			k++;
		/* i-1 and k are known (the ends were trimmed). */
		for (size_t j = i; j < k; j++)
			out->v[j] = out->v[i - 1] + (out->v[k] - out->v[i - 1]) *
							(double)(j - i + 1) / (double)(k - i + 1);
	}
	ts_series_release(&daily);
	ts_series_release(&bk);
}

/* Forecasts one queue into its item. */
static void forecast_one(const struct ts_data *d, const struct fc_batch_opts *o,
			 struct fc_batch_item *it)
{
	const struct ts_queue *q = &d->q[it->qi];
	size_t n, h = o->fc.horizon;
	const double *actual;
	long day;

	fc_batch_series(d, it->qi, o, &it->hist, &it->trim);
	n = it->hist.n;
	if (!n) {
		it->empty = true;
		return;
	}
	if (o->backtest) {
		struct fc_opts so = o->fc;
		if (n <= h + 1) {
			err_set(&it->err, DYN_EDATA,
				"queue \"%s\": %zu periods of history, --backtest needs more "
				"than the horizon (%zu) plus one",
				q->id, n, h);
			it->rc = DYN_EDATA;
			return;
		}
		n -= h;
		actual = it->hist.v + n;
		so.method = FC_SNAIVE;
		if (fc_forecast(it->hist.v, n, &so, &it->snaive, &it->err) < 0)
			goto fail;
		fc_accuracy(it->hist.v, n, o->fc.period, actual, &it->snaive, &it->acc_snaive);
		if (fc_forecast(it->hist.v, n, &o->fc, &it->fc, &it->err) < 0)
			goto fail;
		fc_accuracy(it->hist.v, n, o->fc.period, actual, &it->fc, &it->acc);
		return;
	}
	if (fc_forecast(it->hist.v, n, &o->fc, &it->fc, &it->err) < 0)
		goto fail;
	it->dates = xmallocarray(h, sizeof(long));
	day = it->hist.start[n - 1];
	for (size_t i = 0; i < h; i++) {
		day = o->stamps.gran != TS_DAY ? ts_stamp_next(&o->stamps, day)
					       : ts_gran_next(o->gran, day);
		it->dates[i] = day;
	}
	return;
fail:
	it->rc = it->err.code ? it->err.code : DYN_EDATA;
	err_prefix(&it->err, "queue \"%s\"", q->id);
}

static void item_release(struct fc_batch_item *it)
{
	ts_series_release(&it->hist);
	fc_result_release(&it->fc);
	fc_result_release(&it->snaive);
	FREE_AND_NULL(it->dates);
}

struct fc_batch {
	const struct ts_data *d;
	const struct fc_batch_opts *o;
	struct fc_batch_item *items;
	atomic_uchar *ready; /* set (release) when an item is finished */
	size_t n, next;	     /* next: the first item not yet handed to done */
	void (*done)(void *arg, size_t i, const struct fc_batch_item *it);
	void *arg;
};

static void batch_item(void *arg, size_t i, int t)
{
	struct fc_batch *b = arg;
	forecast_one(b->d, b->o, &b->items[i]);
	atomic_store_explicit(&b->ready[i], 1, memory_order_release);
}

/* On the calling thread, between its items: hands on the finished run at the head. */
static void batch_flush(void *arg, size_t ndone)
{
	struct fc_batch *b = arg;
	while (b->next < b->n && atomic_load_explicit(&b->ready[b->next], memory_order_acquire)) {
		b->done(b->arg, b->next, &b->items[b->next]);
		item_release(&b->items[b->next]);
		b->next++;
	}
}

void fc_batch_run(const struct ts_data *d, const size_t *ix, size_t n,
		  const struct fc_batch_opts *o,
		  void (*done)(void *arg, size_t i, const struct fc_batch_item *it), void *arg)
{
	struct fc_batch b = {.d = d, .o = o, .n = n, .done = done, .arg = arg};

	b.items = xcalloc(n ? n : 1, sizeof(*b.items));
	b.ready = xcalloc(n ? n : 1, sizeof(*b.ready));
	for (size_t i = 0; i < n; i++) {
		struct fc_batch_item *it = &b.items[i];
		it->qi = ix[i];
		ts_series_init(&it->hist);
		fc_result_init(&it->fc);
		fc_result_init(&it->snaive);
		atomic_init(&b.ready[i], 0);
	}
	par_for_progress(n, o->threads, batch_item, batch_flush, &b);
	free(b.items);
	free(b.ready);
}
