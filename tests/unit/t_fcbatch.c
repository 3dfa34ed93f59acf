/* Unit tests of lib/ts/fcbatch.c: a queue's series as it is forecast (partial weeks trimmed, a
 * missing week interpolated), and forecasts of many queues on threads: results in queue order
 * on the calling thread, the same for any number of threads, a failing or empty queue not
 * stopping the others. Fixtures are generated into a scratch directory. */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"
#include "base/strbuf.h"
#include "ts/date.h"
#include "ts/fcbatch.h"

static char dir[] = "/tmp/t_fcbatch.XXXXXX";

static const char *fixture(const char *name, const char *text)
{
	static char path[2][256];
	static int k;
	char *p = path[k++ % 2];
	FILE *fp;
	snprintf(p, 256, "%s/%s", dir, name);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	return p;
}

static void add_row(struct strbuf *sb, const char *q, long day, double v)
{
	char date[TS_DATE_LEN];
	ts_date_format(day, date);
	strbuf_addf(sb, "%s,%s,%.0f\n", q, date, v);
}

/* Queues 1 (the root, no rows of its own), 10 and 11 (150 days of weekly pattern and noise),
 * 12 (5 days), 13 (weeks of constant days from a Wednesday, one week without rows). */
static int load(struct ts_data *d)
{
	struct strbuf sb = STRBUF_INIT;
	struct ts_load_opts lo;
	struct err e = ERR_INIT;
	long d0 = ts_days_from_civil(2024, 1, 1); /* a Monday */
	int rc;

	memset(&lo, 0, sizeof(lo));
	strbuf_adds(&sb, "queueId,date,new_tickets\n");
	for (long i = 0; i < 150; i++) {
		add_row(&sb, "10", d0 + i, 20 + 8 * (i % 7 == 5) + (double)((i * 37) % 11));
		add_row(&sb, "11", d0 + i, 50 + 3 * (double)(i % 7) + (double)((i * 53) % 17));
	}
	for (long i = 0; i < 5; i++)
		add_row(&sb, "12", d0 + i, 3);
	/* Wednesday 2024-01-03 to Wednesday 2024-03-20; week w (from Monday 2024-01-08) has days
	 * of w + 1, and week 4 (2024-02-05..11) no rows */
	for (long day = d0 + 2; day <= d0 + 79; day++) {
		long w = (day - (d0 + 7)) / 7;
		if (day >= d0 + 7 && w == 4)
			continue;
		add_row(&sb, "13", day, day < d0 + 7 ? 1 : (double)(w + 1));
	}
	ts_data_init(d);
	rc = ts_data_load(d,
			  fixture("q.csv", "id,name,level,parent_id\n1,Root,1,\n10,A,2,1\n11,B,2,"
					   "1\n12,C,2,1\n13,D,2,1\n"),
			  (char *[]){(char *)fixture("t.csv", sb.buf)}, 1, &lo, &e);
	if (rc < 0)
		printf("# %s\n", e.msg);
	strbuf_release(&sb);
	return rc;
}

static void test_series(const struct ts_data *d)
{
	struct fc_batch_opts o;
	struct ts_series s;
	long d0 = ts_days_from_civil(2024, 1, 1);
	int ok = 1;

	memset(&o, 0, sizeof(o));
	o.gran = TS_WEEK;
	o.missing = TS_MISSING_SKIP;
	o.from = LONG_MIN / 2;
	o.to = LONG_MAX / 2;
	fc_batch_series(d, (size_t)ts_data_find(d, "13"), &o, &s, NULL);
	check(s.n == 10 && s.start[0] == d0 + 7 && s.start[9] == d0 + 7 + 63,
	      "weekly series: the partial first and last weeks trimmed (%zu weeks)", s.n);
	for (size_t i = 0; i < s.n && i < 10; i++)
		ok &= s.v[i] == 7.0 * (double)(i + 1);
	check(ok && s.n > 4 && s.v[4] == 35, "the week without rows interpolated (%g)",
	      s.n > 4 ? s.v[4] : NAN);
	ts_series_release(&s);

	o.missing = TS_MISSING_ZERO;
	fc_batch_series(d, (size_t)ts_data_find(d, "13"), &o, &s, NULL);
	check(s.n == 10 && s.v[4] == 0, "with missing days as zero the week is 0");
	ts_series_release(&s);

	o.gran = TS_DAY;
	fc_batch_series(d, (size_t)ts_data_find(d, "1"), &o, &s, NULL);
	check(s.n == 0, "a parent without rows (no rollup): an empty series");
	ts_series_release(&s);
	o.rollup = true;
	fc_batch_series(d, (size_t)ts_data_find(d, "1"), &o, &s, NULL);
	check(s.n == 150, "with rollup its children's days (%zu)", s.n);
	ts_series_release(&s);
	check(ts_gran_period(TS_DAY) == 7 && ts_gran_period(TS_WEEK) == 52 &&
		  ts_gran_period(TS_MONTH) == 12,
	      "seasonal periods 7, 52, 12");
}

/* What the callback saw: copies of the results, in the order of the calls. */
struct seen {
	pthread_t self;
	size_t calls, next_i;
	int bad_order, bad_thread;
	size_t qi[8];
	int rc[8];
	bool empty[8];
	char msg[8][sizeof(((struct err *)0)->msg)];
	double mean[8][7], lo[8][14], hi[8][14];
	long dates[8][7];
	double mase[8];
};

static void on_done(void *arg, size_t i, const struct fc_batch_item *it)
{
	struct seen *s = arg;
	if (i != s->next_i++ || i >= 8) {
		s->bad_order++;
		return;
	}
	if (!pthread_equal(pthread_self(), s->self))
		s->bad_thread++;
	s->calls++;
	s->qi[i] = it->qi;
	s->rc[i] = it->rc;
	s->empty[i] = it->empty;
	snprintf(s->msg[i], sizeof(s->msg[i]), "%s", it->rc ? it->err.msg : "");
	if (!it->rc && !it->empty) {
		memcpy(s->mean[i], it->fc.mean, 7 * sizeof(double));
		memcpy(s->lo[i], it->fc.lo, 14 * sizeof(double));
		memcpy(s->hi[i], it->fc.hi, 14 * sizeof(double));
		if (it->dates)
			memcpy(s->dates[i], it->dates, 7 * sizeof(long));
		s->mase[i] = it->acc.mase;
	}
}

static void run(const struct ts_data *d, const size_t *ix, size_t n, bool backtest, int threads,
		struct seen *s)
{
	struct fc_batch_opts o;
	memset(&o, 0, sizeof(o));
	memset(s, 0, sizeof(*s));
	s->self = pthread_self();
	o.fc.method = FC_AUTO;
	o.fc.horizon = 7;
	o.fc.period = 7;
	o.fc.nlevels = 2;
	o.fc.levels[0] = 80;
	o.fc.levels[1] = 95;
	o.fc.nonnegative = 1;
	o.gran = TS_DAY;
	o.from = LONG_MIN / 2;
	o.to = LONG_MAX / 2;
	o.backtest = backtest;
	o.threads = threads;
	fc_batch_run(d, ix, n, &o, on_done, s);
}

static void test_run(const struct ts_data *d)
{
	const char *ids[] = {"11", "12", "1", "10", "13"};
	size_t ix[5], n = 5;
	long last = ts_days_from_civil(2024, 1, 1) + 149;
	struct seen *one = xcalloc(1, sizeof(*one)), *many = xcalloc(1, sizeof(*many));

	for (size_t i = 0; i < n; i++)
		ix[i] = (size_t)ts_data_find(d, ids[i]);
	run(d, ix, n, false, 1, one);
	check(one->calls == n && !one->bad_order && !one->bad_thread,
	      "one thread: every queue handed on once, in order, on the calling thread");
	check(one->qi[0] == ix[0] && one->qi[3] == ix[3] && one->qi[4] == ix[4],
	      "items carry their queue");
	check(one->rc[0] == 0 && one->rc[1] == 0 && one->rc[3] == 0 && !one->empty[0] &&
		  one->empty[2],
	      "forecasts for the queues with rows; the parent without rows empty, not failed");
	check(one->dates[0][0] == last + 1 && one->dates[0][6] == last + 7,
	      "forecast dates follow the last day of history");
	check(one->lo[0][7] <= one->lo[0][0] && one->lo[0][0] <= one->mean[0][0] &&
		  one->mean[0][0] <= one->hi[0][0] && one->hi[0][0] <= one->hi[0][7],
	      "95%% interval around the 80%% one around the mean");

	for (int t = 2; t <= 6; t += 4) {
		run(d, ix, n, false, t, many);
		check(many->calls == n && !many->bad_order && !many->bad_thread &&
			  !memcmp(one->mean, many->mean, sizeof(one->mean)) &&
			  !memcmp(one->lo, many->lo, sizeof(one->lo)) &&
			  !memcmp(one->hi, many->hi, sizeof(one->hi)) &&
			  !memcmp(one->dates, many->dates, sizeof(one->dates)),
		      "%d threads: in order on the calling thread, the same results to the bit", t);
	}

	run(d, ix, n, true, 3, many);
	check(many->calls == n && many->rc[1] == DYN_EDATA &&
		  strstr(many->msg[1], "queue \"12\": 5 periods of history") != NULL,
	      "backtest: a queue too short fails with its name (%s)", many->msg[1]);
	check(many->rc[0] == 0 && many->rc[3] == 0 && many->mase[0] > 0 && many->mase[3] > 0,
	      "the other queues are backtested all the same (MASE %g, %g)", many->mase[0],
	      many->mase[3]);

	run(d, ix, 0, false, 4, many);
	check(many->calls == 0 && !many->bad_order, "no queues: no calls");
	free(one);
	free(many);
}

int main(void)
{
	struct ts_data d;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (load(&d) == 0) {
		test_series(&d);
		test_run(&d);
	} else {
		check(0, "fixture loads");
	}
	ts_data_release(&d);
	unlink(fixture("q.csv", ""));
	unlink(fixture("t.csv", ""));
	rmdir(dir);
	return check_done();
}
