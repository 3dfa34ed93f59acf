/* dyn forecast: forecasts of queue load with prediction intervals, for one queue, several or
 * all of them (in parallel threads, rows streamed in a fixed order), with backtests and plots. */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "cmd.h"
#include "io/output.h"
#include "ts/date.h"
#include "ts/forecast.h"
#include "ts/plot.h"
#include "base/strv.h"
#include "ts/tickets.h"

#define FC_MAX_HORIZON 10000

static struct forecast_args {
	int all, backtest, rollup;
	long horizon;
	const char *gran, *levels, *method, *plot, *shard, *queues;
	struct ts_query_args q;
	struct strv ids;
} args;

static const struct opt forecast_options[] = {
    OPT_GROUP_("Queues"),
    OPT_CALLBACK_(0, "queue", "ID[,ID...]", "forecast these queues (repeatable)", strv_opt_list,
		  &args.ids, 0),
    OPT_BOOL_(0, "all", &args.all, "forecast every queue that has data"),
    OPT_STRING_(0, "shard", &args.shard, "I/N", "only the I-th of N stable shards of the queues"),
    OPT_BOOL_(0, "rollup", &args.rollup, "a queue's load includes its descendants' load"),
    OPT_GROUP_("Forecast"),
    OPT_LONG_(0, "horizon", &args.horizon, "N",
	      "periods ahead, 1 to 10000 (default 28 days, 12 weeks or 6 months)"),
    OPT_STRING_(0, "granularity", &args.gran, "G", "day (default), week or month"),
    OPT_STRING_(0, "level", &args.levels, "L[,L...]", "interval levels in percent (default 80,95)"),
    OPT_STRING_(0, "method", &args.method, "M",
		"auto (default), ets, theta, snaive, naive or mean"),
    OPT_BOOL_(0, "backtest", &args.backtest,
	      "hold out the last horizon; report MASE, sMAPE and coverage vs seasonal naive"),
    OPT_STRING_(0, "plot", &args.plot, "FILE",
		"draw history, forecast and intervals (.png or .svg)"),
    OPT_GROUP_("Input"),
    OPT_STRING_(0, "from", &args.q.from, "DATE", "first day of history to use (YYYY-MM-DD)"),
    OPT_STRING_(0, "to", &args.q.to, "DATE", "last day of history to use (YYYY-MM-DD)"),
    TS_DATA_OPTIONS(args.queues, args.q),
    OPT_END_(),
};

static const char forecast_usage[] = "dyn forecast [OPTIONS] (--queue ID... | --all) [DATA...]";

/* ---- the work of one queue ---- */

struct job {
	size_t qi;
	int rc;			     /* 0, or the exit code of err */
	struct err err;		     /* when rc != 0 */
	bool skipped;		     /* no data (a parent without --rollup): nothing to print */
	struct ts_series hist;	     /* the series that was forecast (history for the plot) */
	struct fc_result fc, snaive; /* snaive: the benchmark of a backtest */
	struct fc_accuracy acc, acc_snaive;
	double *actual; /* backtest: the held-out values */
	long *dates;	/* the forecast periods' first days */
	bool done;
};

struct batch {
	const struct ts_data *d;
	const size_t *ix;
	size_t n;
	struct job *jobs;
	struct fc_opts fo;
	enum ts_gran gran;
	enum ts_missing missing;
	long from, to;
	bool rollup, backtest;
	size_t next; /* next job to start */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static size_t gran_period(enum ts_gran g)
{
	return g == TS_DAY ? 7 : g == TS_WEEK ? 52 : 12;
}

static long period_len(enum ts_gran g, long start)
{
	return ts_gran_next(g, start) - start;
}

/* The series to forecast: daily counts bucketed into periods, without partial periods at
 * either end (a half week would read as a drop in load), missing periods filled by linear
 * interpolation between their neighbours (only --missing skip leaves any). */
static void prepare(const struct batch *b, size_t qi, struct ts_series *out)
{
	struct ts_series daily, bk;
	size_t lo = 0, hi, i, k;
	ts_series_init(&daily);
	ts_series_init(&bk);
	ts_series_daily(b->d, qi, b->from, b->to, b->rollup, b->missing, &daily);
	ts_series_bucket(&daily, b->gran, &bk);
	hi = bk.n;
	if (b->gran != TS_DAY && hi > 1) {
		if ((long)bk.days[0] < period_len(b->gran, bk.start[0]))
			lo = 1;
		if (hi - lo > 1 && (long)bk.days[hi - 1] < period_len(b->gran, bk.start[hi - 1]))
			hi--;
	}
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

static void run_job(const struct batch *b, struct job *j)
{
	const struct ts_queue *q = &b->d->q[j->qi];
	size_t n, h = b->fo.horizon;
	long day;

	prepare(b, j->qi, &j->hist);
	n = j->hist.n;
	if (!n) {
		j->skipped = true;
		return;
	}
	if (b->backtest) {
		struct fc_opts so = b->fo;
		if (n <= h + 1) {
			err_set(&j->err, DYN_EDATA,
				"queue \"%s\": %zu periods of history, --backtest needs more "
				"than the horizon (%zu) plus one",
				q->id, n, h);
			j->rc = DYN_EDATA;
			return;
		}
		n -= h;
		j->actual = j->hist.v + n;
		so.method = FC_SNAIVE;
		if (fc_forecast(j->hist.v, n, &so, &j->snaive, &j->err) < 0) {
			j->rc = j->err.code ? j->err.code : DYN_EDATA;
			err_prefix(&j->err, "queue \"%s\"", q->id);
			return;
		}
		fc_accuracy(j->hist.v, n, b->fo.period, j->actual, &j->snaive, &j->acc_snaive);
	}
	if (fc_forecast(j->hist.v, n, &b->fo, &j->fc, &j->err) < 0) {
		j->rc = j->err.code ? j->err.code : DYN_EDATA;
		err_prefix(&j->err, "queue \"%s\"", q->id);
		return;
	}
	if (b->backtest) {
		fc_accuracy(j->hist.v, n, b->fo.period, j->actual, &j->fc, &j->acc);
		return;
	}
	j->dates = xmallocarray(h, sizeof(long));
	day = j->hist.start[n - 1];
	for (size_t i = 0; i < h; i++) {
		day = ts_gran_next(b->gran, day);
		j->dates[i] = day;
	}
}

static void release_job(struct job *j)
{
	ts_series_release(&j->hist);
	fc_result_release(&j->fc);
	fc_result_release(&j->snaive);
	FREE_AND_NULL(j->dates);
}

static void *worker(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&b->mu);
		i = b->next < b->n ? b->next++ : b->n;
		pthread_mutex_unlock(&b->mu);
		if (i >= b->n)
			return NULL;
		run_job(b, &b->jobs[i]);
		pthread_mutex_lock(&b->mu);
		b->jobs[i].done = true;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
}

/* ---- output ---- */

static void out_date(struct out_writer *w, long day)
{
	char buf[TS_DATE_LEN];
	ts_date_format(day, buf);
	out_str(w, buf);
}

static void write_forecast(struct out_writer *w, const struct batch *b, const struct job *j)
{
	const char *id = b->d->q[j->qi].id;
	for (size_t i = 0; i < j->fc.h; i++) {
		out_str(w, id);
		out_date(w, j->dates[i]);
		out_num(w, j->fc.mean[i]);
		for (size_t l = 0; l < j->fc.nlevels; l++) {
			out_num(w, j->fc.lo[l * j->fc.h + i]);
			out_num(w, j->fc.hi[l * j->fc.h + i]);
		}
	}
}

static void write_backtest(struct out_writer *w, const struct batch *b, const struct job *j)
{
	const struct fc_accuracy *acc[2] = {&j->acc, &j->acc_snaive};
	out_str(w, b->d->q[j->qi].id);
	out_str(w, j->fc.method);
	out_int(w, (long long)(j->hist.n - b->fo.horizon));
	out_int(w, (long long)b->fo.horizon);
	for (int k = 0; k < 2; k++) {
		out_num(w, acc[k]->mase);
		out_num(w, acc[k]->smape);
		for (size_t l = 0; l < b->fo.nlevels; l++)
			out_num(w, acc[k]->coverage[l]);
	}
}

static void level_name(struct strbuf *sb, const char *prefix, double level)
{
	strbuf_adds(sb, prefix);
	strbuf_add_double(sb, level);
}

/* Column names: forecast rows, or backtest rows. Returned strings are owned by cols_sb. */
static size_t columns(const struct batch *b, struct strbuf *names, const char **cols)
{
	size_t n = 0, offs[64], k;
	struct strbuf *sb = names;
	const char *fixed_fc[] = {"queue_id", "date", "value"};
	const char *fixed_bt[] = {"queue_id", "method", "n", "horizon"};
	const char *const *fixed = b->backtest ? fixed_bt : fixed_fc;
	size_t nfixed = b->backtest ? 4 : 3;
	for (k = 0; k < nfixed; k++) {
		offs[n++] = sb->len;
		strbuf_adds(sb, fixed[k]);
		strbuf_addch(sb, '\0');
	}
	if (!b->backtest) {
		for (size_t l = 0; l < b->fo.nlevels; l++) {
			offs[n++] = sb->len;
			level_name(sb, "lo_", b->fo.levels[l]);
			strbuf_addch(sb, '\0');
			offs[n++] = sb->len;
			level_name(sb, "hi_", b->fo.levels[l]);
			strbuf_addch(sb, '\0');
		}
	} else {
		for (int m = 0; m < 2; m++) {
			const char *p = m ? "snaive_" : "";
			offs[n++] = sb->len;
			strbuf_addf(sb, "%smase", p);
			strbuf_addch(sb, '\0');
			offs[n++] = sb->len;
			strbuf_addf(sb, "%ssmape", p);
			strbuf_addch(sb, '\0');
			for (size_t l = 0; l < b->fo.nlevels; l++) {
				offs[n++] = sb->len;
				level_name(sb, m ? "snaive_coverage_" : "coverage_",
					   b->fo.levels[l]);
				strbuf_addch(sb, '\0');
			}
		}
	}
	for (k = 0; k < n; k++)
		cols[k] = sb->buf + offs[k];
	return n;
}

static int write_plot(const struct batch *b, const struct job *j, struct err *e)
{
	struct ts_plot p;
	const struct ts_queue *q = &b->d->q[j->qi];
	struct strbuf title = STRBUF_INIT;
	/* Enough history to see the pattern, not so much that the forecast is a sliver. */
	size_t keep = j->fc.h * 4 < 120 ? 120 : j->fc.h * 4, off;
	int ret;
	if (keep > j->hist.n)
		keep = j->hist.n;
	off = j->hist.n - keep;
	strbuf_addf(&title, "queue %s%s%s - %s", q->id, q->name ? " " : "", q->name ? q->name : "",
		    j->fc.method);
	memset(&p, 0, sizeof(p));
	p.title = title.buf;
	p.ylabel = b->gran == TS_DAY	? "tickets per day"
		   : b->gran == TS_WEEK ? "tickets per week"
					: "tickets per month";
	p.hist_day = j->hist.start + off;
	p.hist = j->hist.v + off;
	p.nhist = keep;
	p.fc_day = j->dates;
	p.mean = j->fc.mean;
	p.lo = j->fc.lo;
	p.hi = j->fc.hi;
	p.h = j->fc.h;
	p.nlevels = j->fc.nlevels;
	p.levels = b->fo.levels;
	ret = ts_plot_write(args.plot, &p, e);
	strbuf_release(&title);
	return ret;
}

/* ---- options ---- */

static int parse_levels(const char *s, struct fc_opts *fo)
{
	const char *p = s;
	fo->nlevels = 0;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		double v;
		if (fo->nlevels == FC_MAX_LEVELS)
			return usage_error("option --level: at most %d levels", FC_MAX_LEVELS);
		if (parse_double(p, len, &v, false) < 0 || v <= 0 || v >= 100)
			return usage_error("option --level: expected percentages between 0 and 100 "
					   "(e.g. 80,95), got \"%s\"",
					   s);
		fo->levels[fo->nlevels++] = v;
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: stable across hosts and builds */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int parse_shard(const char *s, long *i, long *n)
{
	const char *slash = strchr(s, '/');
	struct strbuf a = STRBUF_INIT;
	int bad;
	if (!slash)
		return -1;
	strbuf_add(&a, s, (size_t)(slash - s));
	bad = parse_long(a.buf, i) < 0 || parse_long(slash + 1, n) < 0 || *n < 1 || *n > 1000000 ||
	      *i < 1 || *i > *n;
	strbuf_release(&a);
	return bad ? -1 : 0;
}

static long nthreads(size_t njobs)
{
	long t = global.threads;
	if (t <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		t = c > 0 ? c : 1;
	}
	if ((size_t)t > njobs)
		t = (long)(njobs ? njobs : 1);
	return t;
}

int cmd_forecast(int argc, char **argv)
{
	struct ts_data d;
	struct ts_load_opts lo;
	struct err e = ERR_INIT;
	struct batch b;
	struct out_writer *w = NULL;
	struct strbuf colnames = STRBUF_INIT;
	const char *cols[64];
	size_t *ix = NULL, nsel = 0, ncols, k, written = 0, failed = 0;
	pthread_t *th = NULL;
	long shard_i = 1, shard_n = 1, nt = 0;
	int rc = 0, n, fmt;

	memset(&args, 0, sizeof(args));
	memset(&b, 0, sizeof(b));
	ts_data_init(&d);
	args.horizon = -1;
	n = parse_cmd_options(argc, argv, forecast_options, forecast_usage, &rc);
	if (n < 0) {
		/* -h or a usage error, already answered (and stdout closed). */
		strv_release(&args.ids);
		return rc;
	}
	if (ts_query_parse(&args.q, &lo, &b.missing, &b.from, &b.to, &e) < 0) {
		rc = report_err(&e);
		goto out_args;
	}
	b.gran = TS_DAY;
	if (args.gran && ts_gran_parse(args.gran, &b.gran) < 0) {
		rc = usage_error("option --granularity: expected day, week or month, got \"%s\"",
				 args.gran);
		goto out_args;
	}
	if (args.horizon == -1)
		args.horizon = b.gran == TS_DAY ? 28 : b.gran == TS_WEEK ? 12 : 6;
	if (args.horizon < 1 || args.horizon > FC_MAX_HORIZON) {
		rc = usage_error("option --horizon: expected an integer from 1 to %d, got %ld",
				 FC_MAX_HORIZON, args.horizon);
		goto out_args;
	}
	b.fo.horizon = (size_t)args.horizon;
	b.fo.period = gran_period(b.gran);
	b.fo.nonnegative = 1;
	b.fo.nlevels = 2;
	b.fo.levels[0] = 80;
	b.fo.levels[1] = 95;
	if (args.levels && (rc = parse_levels(args.levels, &b.fo)))
		goto out_args;
	b.fo.method = FC_AUTO;
	if (args.method && fc_method_parse(args.method, &b.fo.method) < 0) {
		rc = usage_error(
		    "option --method: expected auto, ets, theta, snaive, naive or mean, "
		    "got \"%s\"",
		    args.method);
		goto out_args;
	}
	if (args.shard && parse_shard(args.shard, &shard_i, &shard_n) < 0) {
		rc = usage_error(
		    "option --shard: expected I/N with 1 <= I <= N (e.g. 2/4), got \"%s\"",
		    args.shard);
		goto out_args;
	}
	if (args.all && args.ids.n) {
		rc = usage_error("options --all and --queue: choose one");
		goto out_args;
	}
	if (args.plot && ts_plot_format_ok(args.plot) < 0) {
		rc = usage_error("option --plot: expected a file name ending in .png or .svg, got "
				 "\"%s\"",
				 args.plot);
		goto out_args;
	}
	if (args.plot && (args.all || args.ids.n != 1 || args.backtest)) {
		rc = usage_error(
		    "option --plot: draws one queue's forecast (use --queue ID, without "
		    "--all or --backtest)");
		goto out_args;
	}
	b.rollup = args.rollup;
	b.backtest = args.backtest;
	fmt = output_format(0);

	if (ts_data_load(&d, args.queues, argv, (size_t)n, &lo, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (!args.all && !args.ids.n && d.nq != 1) {
		rc = usage_error("the data has %zu queues: name them with --queue ID or use --all",
				 d.nq);
		goto out;
	}
	if (ts_data_select(&d, (const char *const *)args.ids.v, args.ids.n, &ix, &nsel, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (shard_n > 1) {
		size_t m = 0;
		for (k = 0; k < nsel; k++)
			if ((long)(id_hash(d.q[ix[k]].id) % (uint64_t)shard_n) == shard_i - 1)
				ix[m++] = ix[k];
		nsel = m;
	}
	b.d = &d;
	b.ix = ix;
	b.n = nsel;
	b.jobs = xcalloc(nsel ? nsel : 1, sizeof(*b.jobs));
	for (k = 0; k < nsel; k++) {
		b.jobs[k].qi = ix[k];
		ts_series_init(&b.jobs[k].hist);
		fc_result_init(&b.jobs[k].fc);
		fc_result_init(&b.jobs[k].snaive);
	}
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	nt = nthreads(nsel);
	th = xcalloc((size_t)nt, sizeof(*th));
	for (long t = 0; t < nt; t++)
		if (pthread_create(&th[t], NULL, worker, &b) != 0) {
			nt = t;
			break;
		}
	if (!nt)
		worker(&b); /* no thread could start: do the work here */

	ncols = columns(&b, &colnames, cols);
	w = out_new(stdout, (enum out_format)fmt, ncols, cols,
		    b.backtest ? "backtest" : "forecast");
	/* Rows go out in queue order as soon as each queue is done, whatever order the threads
	 * finish in: the output does not depend on --threads. */
	for (k = 0; k < nsel; k++) {
		struct job *j = &b.jobs[k];
		pthread_mutex_lock(&b.mu);
		while (!j->done)
			pthread_cond_wait(&b.cv, &b.mu);
		pthread_mutex_unlock(&b.mu);
		if (j->rc) {
			/* One queue that cannot be forecast does not stop the batch; the exit
			 * code says that something failed. */
			fprintf(stderr, "dyn: %s\n", j->err.msg);
			if (!rc)
				rc = j->rc;
			failed++;
		} else if (j->skipped) {
			/* Under --all, queues without rows (parents without --rollup) are
			 * simply not forecast; a queue asked for is an error. */
			if (!args.all) {
				char a[TS_DATE_LEN] = "", z[TS_DATE_LEN] = "";
				if (d.min_day <= d.max_day) {
					ts_date_format(d.min_day, a);
					ts_date_format(d.max_day, z);
				}
				fprintf(stderr,
					"dyn: queue \"%s\": no ticket rows in the range (the data "
					"covers "
					"%s..%s)\n",
					d.q[j->qi].id, a, z);
				if (!rc)
					rc = DYN_EDATA;
				failed++;
			}
		} else {
			if (b.backtest)
				write_backtest(w, &b, j);
			else
				write_forecast(w, &b, j);
			if (global.verbose)
				fprintf(stderr, "dyn: queue \"%s\": %s on %zu periods\n",
					d.q[j->qi].id, j->fc.method, j->hist.n);
			if (args.plot && !rc && write_plot(&b, j, &e) < 0)
				rc = report_err(&e);
			written++;
		}
		release_job(j);
	}
	for (long t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	if (out_finish(&w, &e) < 0 && !rc)
		rc = report_err(&e);
	summary("%zu queues forecast, %zu failed, horizon %zu", written, failed, b.fo.horizon);
	pthread_mutex_destroy(&b.mu);
	pthread_cond_destroy(&b.cv);
out:
	free(th);
	free(b.jobs);
	free(ix);
	strbuf_release(&colnames);
	ts_data_release(&d);
out_args:
	strv_release(&args.ids);
	return finish_stdout(rc);
}
