/* dyn forecast: forecasts of queue load with prediction intervals, for one queue, several or
 * all of them (in parallel threads, rows streamed in a fixed order), with backtests and plots.
 * The work is lib/ts/fcbatch's; this file reads the options and writes the results. */
#include <limits.h>
#include <unistd.h>

#include "cmd.h"
#include "io/output.h"
#include "ts/date.h"
#include "ts/fcbatch.h"
#include "ts/forecast.h"
#include "ts/plot.h"
#include "base/strv.h"
#include "ts/tickets.h"

#define FC_MAX_HORIZON 10000

static struct forecast_args {
	int all, backtest, rollup;
	long horizon;
	const char *gran, *input_gran, *levels, *method, *plot, *shard, *queues;
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
	      "periods ahead, 1 to 10000 (default 28 days, 12 weeks or 6 months)", 1,
	      FC_MAX_HORIZON),
    OPT_STRING_(0, "granularity", &args.gran, "G",
		"day, week or month (default: day, or the input's own period)"),
    OPT_STRING_(0, "level", &args.levels, "L[,L...]",
		"interval levels in percent (default 80,95), or none"),
    OPT_STRING_(0, "method", &args.method, "M",
		"auto (default), ets, theta, snaive, naive or mean"),
    OPT_BOOL_(0, "backtest", &args.backtest,
	      "hold out the last horizon; report MASE, sMAPE and coverage vs seasonal naive"),
    OPT_STRING_(0, "plot", &args.plot, "FILE",
		"draw history, forecast and intervals (.png or .svg)"),
    OPT_GROUP_("Input"),
    OPT_STRING_(0, "from", &args.q.from, "DATE", "first day of history to use (YYYY-MM-DD)"),
    OPT_STRING_(0, "to", &args.q.to, "DATE", "last day of history to use (YYYY-MM-DD)"),
    OPT_STRING_(0, "input-granularity", &args.input_gran, "G",
		"auto (default), day, week or month: one row a day, or a period's total on its "
		"first day"),
    TS_DATA_OPTIONS(args.queues, args.q),
    OPT_END_(),
};

static const char forecast_usage[] = "dyn forecast [OPTIONS] (--queue ID... | --all) [DATA...]";

/* What the output needs besides each queue's result. */
struct fc_out {
	const struct ts_data *d;
	const struct fc_batch_opts *o;
	/* made at the first queue written (or at the end when every queue is empty), so that
	 * a run that fails writes nothing, not a lone header */
	struct out_writer *w;
	int fmt;
	size_t ncols;
	const char *const *cols;
	struct err e;
	int rc;
	size_t written, failed;
	/* queues whose history lost a partial first or last period, and the first such trim */
	size_t ntrim_first, ntrim_last;
	struct fc_trim trim;
};

static struct out_writer *fc_writer(struct fc_out *b)
{
	if (!b->w)
		b->w = out_new(stdout, (enum out_format)b->fmt, b->ncols, b->cols,
			       b->o->backtest ? "backtest" : "forecast");
	return b->w;
}

/* ---- output ---- */

static void out_date(struct out_writer *w, long day)
{
	char buf[TS_DATE_LEN];
	ts_date_format(day, buf);
	out_str(w, buf);
}

static void write_forecast(struct out_writer *w, const struct ts_data *d,
			   const struct fc_batch_item *j)
{
	const char *id = d->q[j->qi].id;
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

static void write_backtest(struct out_writer *w, const struct fc_out *b,
			   const struct fc_batch_item *j)
{
	const struct fc_accuracy *acc[2] = {&j->acc, &j->acc_snaive};
	out_str(w, b->d->q[j->qi].id);
	out_str(w, j->fc.method);
	out_int(w, (long long)(j->hist.n - b->o->fc.horizon));
	out_int(w, (long long)b->o->fc.horizon);
	for (int k = 0; k < 2; k++) {
		out_num(w, acc[k]->mase);
		out_num(w, acc[k]->smape);
		for (size_t l = 0; l < b->o->fc.nlevels; l++)
			out_num(w, acc[k]->coverage[l]);
	}
}

static void level_name(struct strbuf *sb, const char *prefix, double level)
{
	strbuf_adds(sb, prefix);
	strbuf_add_double(sb, level);
}

/* Column names: forecast rows, or backtest rows. Returned strings are owned by cols_sb. */
static size_t columns(const struct fc_batch_opts *b, struct strbuf *names, const char **cols)
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
		for (size_t l = 0; l < b->fc.nlevels; l++) {
			offs[n++] = sb->len;
			level_name(sb, "lo_", b->fc.levels[l]);
			strbuf_addch(sb, '\0');
			offs[n++] = sb->len;
			level_name(sb, "hi_", b->fc.levels[l]);
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
			for (size_t l = 0; l < b->fc.nlevels; l++) {
				offs[n++] = sb->len;
				level_name(sb, m ? "snaive_coverage_" : "coverage_",
					   b->fc.levels[l]);
				strbuf_addch(sb, '\0');
			}
		}
	}
	for (k = 0; k < n; k++)
		cols[k] = sb->buf + offs[k];
	return n;
}

static int write_plot(const struct fc_out *b, const struct fc_batch_item *j, struct err *e)
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
	p.ylabel = b->o->gran == TS_DAY	   ? "tickets per day"
		   : b->o->gran == TS_WEEK ? "tickets per week"
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
	p.levels = b->o->fc.levels;
	ret = ts_plot_write(args.plot, &p, e);
	strbuf_release(&title);
	return ret;
}

/* ---- options ---- */

static int parse_levels(const char *s, struct fc_opts *fo)
{
	const char *p = s;
	fo->nlevels = 0;
	/* no intervals (the service's include_confidence_intervals: false) */
	if (!strcmp(s, "none"))
		return 0;
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

/* Threads: --threads, else the machine's. */
static int nthreads(void)
{
	long t = global.threads;
	if (t <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		t = c > 0 ? c : 1;
	}
	return t > 1024 ? 1024 : (int)t;
}

/* Writes one queue's result (called in queue order, on this thread). */
static void queue_done(void *arg, size_t i, const struct fc_batch_item *j)
{
	struct fc_out *b = arg;
	const struct ts_data *d = b->d;
	if (j->trim.first != LONG_MIN && !b->ntrim_first++) {
		b->trim.first = j->trim.first;
		b->trim.first_days = j->trim.first_days;
	}
	if (j->trim.last != LONG_MIN && !b->ntrim_last++) {
		b->trim.last = j->trim.last;
		b->trim.last_days = j->trim.last_days;
	}
	if (j->rc) {
		/* One queue that cannot be forecast does not stop the batch; the exit code says
		 * that something failed. */
		fprintf(stderr, "dyn: %s\n", j->err.msg);
		if (!b->rc)
			b->rc = j->rc;
		b->failed++;
	} else if (j->empty) {
		/* Under --all, queues without rows (parents without --rollup) are simply not
		 * forecast; a queue asked for is an error. */
		if (!args.all) {
			char a[TS_DATE_LEN] = "", z[TS_DATE_LEN] = "";
			if (d->min_day <= d->max_day) {
				ts_date_format(d->min_day, a);
				ts_date_format(d->max_day, z);
			}
			if (!d->q[j->qi].rows && !b->o->rollup && ts_subtree_rows(d, j->qi))
				fprintf(
				    stderr,
				    "dyn: queue \"%s\" has no tickets of its own: they are in its "
				    "descendants (--rollup forecasts their sum)\n",
				    d->q[j->qi].id);
			else
				fprintf(stderr,
					"dyn: queue \"%s\": no ticket rows in the range (the data "
					"covers %s..%s)\n",
					d->q[j->qi].id, a, z);
			if (!b->rc)
				b->rc = DYN_EDATA;
			b->failed++;
		}
	} else {
		if (b->o->backtest)
			write_backtest(fc_writer(b), b, j);
		else
			write_forecast(fc_writer(b), d, j);
		if (global.verbose)
			fprintf(stderr, "dyn: queue \"%s\": %s on %zu periods\n", d->q[j->qi].id,
				j->fc.method, j->hist.n);
		if (args.plot && !b->rc && write_plot(b, j, &b->e) < 0)
			b->rc = report_err(&b->e);
		b->written++;
	}
}

/* Whether the plot can be written where asked: checked before the forecast is printed, so that
 * a plot that cannot be written fails the command before any output. */
static int plot_writable(const char *path, struct err *e)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int ret = 0;
	if (slash == dir)
		dir[1] = '\0'; /* "/x.png": the root */
	else if (slash)
		*slash = '\0';
	if (access(path, F_OK) == 0 ? access(path, W_OK) < 0
				    : access(slash ? dir : ".", W_OK | X_OK) < 0)
		ret = err_sys(e, "option --plot: \"%s\": cannot be written", path);
	free(dir);
	return ret;
}

static const char *gran_word(enum ts_gran g)
{
	return g == TS_DAY ? "day" : g == TS_WEEK ? "week" : "month";
}

/* "on Mondays", "on the 1st", "on the last day of the month" */
static const char *stamp_words(const struct ts_stamps *st)
{
	static const char *const days[] = {"on Mondays",   "on Tuesdays", "on Wednesdays",
					   "on Thursdays", "on Fridays",  "on Saturdays",
					   "on Sundays"};
	if (st->gran == TS_WEEK)
		return st->weekday < 0 ? "each series on a weekday of its own" : days[st->weekday];
	return st->month_end ? "on the last day of the month" : "on the 1st";
}

/* A partial period at an end is left out of the history (half a week reads as a drop in load):
 * says so, once for all queues, unless -q. */
static void note_trims(const struct fc_out *b)
{
	const char *g = gran_word(b->o->gran);
	char day[TS_DATE_LEN];
	if (global.quiet)
		return;
	if (b->ntrim_last) {
		ts_date_format(b->trim.last, day);
		fprintf(
		    stderr,
		    "dyn: the last %s (from %s: %zu of its %ld days in the data) is incomplete: "
		    "left out of %zu %s history\n",
		    g, day, b->trim.last_days,
		    ts_gran_next(b->o->gran, b->trim.last) - b->trim.last, b->ntrim_last,
		    b->ntrim_last == 1 ? "queue's" : "queues'");
	}
	if (b->ntrim_first && global.verbose) {
		ts_date_format(b->trim.first, day);
		fprintf(stderr,
			"dyn: the first %s (from %s: %zu days in the data) is incomplete: left out "
			"of %zu %s history\n",
			g, day, b->trim.first_days, b->ntrim_first,
			b->ntrim_first == 1 ? "queue's" : "queues'");
	}
}

int cmd_forecast(int argc, char **argv)
{
	struct ts_data d;
	struct ts_load_opts lo;
	struct err e = ERR_INIT;
	struct fc_batch_opts bo;
	struct fc_out fo;
	struct strbuf colnames = STRBUF_INIT;
	const char *cols[64];
	size_t *ix = NULL, nsel = 0, ncols, k;
	long shard_i = 1, shard_n = 1;
	int rc = 0, n, fmt;
	enum ts_gran want_stamps = TS_DAY;

	memset(&args, 0, sizeof(args));
	memset(&bo, 0, sizeof(bo));
	memset(&fo, 0, sizeof(fo));
	ts_data_init(&d);
	args.horizon = -1;
	n = parse_cmd_options(argc, argv, forecast_options, forecast_usage, &rc);
	if (n < 0) {
		/* -h or a usage error, already answered (and stdout closed). */
		strv_release(&args.ids);
		return rc;
	}
	if (ts_query_parse(&args.q, &lo, &bo.missing, &bo.from, &bo.to, &e) < 0) {
		rc = report_err(&e);
		goto out_args;
	}
	bo.gran = TS_DAY;
	if (args.gran && ts_gran_parse(args.gran, &bo.gran) < 0) {
		rc = usage_error("option --granularity: expected day, week or month, got \"%s\"",
				 args.gran);
		goto out_args;
	}
	if (args.input_gran && strcmp(args.input_gran, "auto") &&
	    ts_gran_parse(args.input_gran, &want_stamps) < 0) {
		rc = usage_error(
		    "option --input-granularity: expected auto, day, week or month, got \"%s\"",
		    args.input_gran);
		goto out_args;
	}
	if (args.horizon != -1 && (args.horizon < 1 || args.horizon > FC_MAX_HORIZON)) {
		rc = usage_error("option --horizon: expected an integer from 1 to %d, got %ld",
				 FC_MAX_HORIZON, args.horizon);
		goto out_args;
	}
	bo.fc.nlevels = 2;
	bo.fc.levels[0] = 80;
	bo.fc.levels[1] = 95;
	if (args.levels && (rc = parse_levels(args.levels, &bo.fc)))
		goto out_args;
	bo.fc.method = FC_AUTO;
	if (args.method && fc_method_parse(args.method, &bo.fc.method) < 0) {
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
	if (args.plot && plot_writable(args.plot, &e) < 0) {
		rc = report_err(&e);
		goto out_args;
	}
	bo.rollup = args.rollup;
	bo.backtest = args.backtest;
	fmt = output_format(0);

	if (ts_data_load(&d, args.queues, argv, (size_t)n, &lo, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (ts_data_stamps(
		&d, args.input_gran && strcmp(args.input_gran, "auto") ? (int)want_stamps : -1,
		bo.rollup, &bo.stamps, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (bo.stamps.gran != TS_DAY) {
		/* a week's or a month's total cannot be split into days */
		if (args.gran && bo.gran != bo.stamps.gran) {
			rc = usage_error(
			    "--granularity %s: the data has one row a %s (%s); forecast "
			    "it --granularity %s",
			    args.gran, gran_word(bo.stamps.gran), stamp_words(&bo.stamps),
			    gran_word(bo.stamps.gran));
			goto out;
		}
		bo.gran = bo.stamps.gran;
		if (global.verbose)
			fprintf(stderr, "dyn: the data has one row a %s (%s): a period each\n",
				gran_word(bo.stamps.gran), stamp_words(&bo.stamps));
	}
	if (args.horizon == -1)
		args.horizon = bo.gran == TS_DAY ? 28 : bo.gran == TS_WEEK ? 12 : 6;
	bo.fc.horizon = (size_t)args.horizon;
	bo.fc.period = ts_gran_period(bo.gran);
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
	bo.threads = nthreads();
	/* Load below zero cannot happen for counts and hours; data that has such values (a
	 * balance, a net flow) is forecast unclamped. */
	bo.fc.nonnegative = !d.negative;

	ncols = columns(&bo, &colnames, cols);
	fo.d = &d;
	fo.o = &bo;
	fo.fmt = fmt;
	fo.ncols = ncols;
	fo.cols = cols;
	/* Rows go out in queue order as soon as each queue is done, whatever order the threads
	 * finish in: the output does not depend on --threads. */
	fc_batch_run(&d, ix, nsel, &bo, queue_done, &fo);
	rc = fo.rc;
	note_trims(&fo);
	if (!rc)
		fc_writer(&fo);
	if (fo.w && out_finish(&fo.w, &e) < 0 && !rc)
		rc = report_err(&e);
	summary("%zu queues forecast, %zu failed, horizon %zu", fo.written, fo.failed,
		bo.fc.horizon);
out:
	free(ix);
	strbuf_release(&colnames);
	ts_data_release(&d);
out_args:
	strv_release(&args.ids);
	return finish_stdout(rc);
}
