/* dyn stats: queue load analytics over long-format ticket data (data check, queues by level,
 * series at a granularity, weekday and week-of-year profiles, per-queue statistics). */
#include <limits.h>
#include <math.h>

#include "cmd.h"
#include "io/output.h"
#include "ts/date.h"
#include "ts/stats.h"
#include "base/strv.h"
#include "ts/tickets.h"

static struct stats_args {
	int check, strict, rollup;
	const char *by, *gran, *queues;
	struct ts_query_args q;
	struct strv ids;
} args;

static const struct opt stats_options[] = {
    OPT_GROUP_("Views"),
    OPT_STRING_(0, "by", &args.by, "VIEW",
		"summary (default), level, series, weekday, week or week-of-year"),
    OPT_BOOL_(0, "check", &args.check, "report the data's status (rows, dates, gaps, problems)"),
    OPT_BOOL_(0, "strict", &args.strict, "with --check: exit 1 when problems are found (for cron)"),
    OPT_STRING_(0, "granularity", &args.gran, "G", "day (default), week or month, for --by series"),
    OPT_GROUP_("Selection"),
    OPT_CALLBACK_(0, "queue", "ID[,ID...]", "only these queues (repeatable)", strv_opt_list,
		  &args.ids, 0),
    OPT_STRING_(0, "from", &args.q.from, "DATE", "first day to include (YYYY-MM-DD)"),
    OPT_STRING_(0, "to", &args.q.to, "DATE", "last day to include (YYYY-MM-DD)"),
    OPT_BOOL_(0, "rollup", &args.rollup,
	      "a queue's load includes its descendants' load (default with --by level)"),
    OPT_NEG_(0, "no-rollup", &args.rollup, "a queue's load is its own tickets only"),
    OPT_GROUP_("Input"),
    TS_DATA_OPTIONS(args.queues, args.q),
    OPT_END_(),
};

static const char stats_usage[] = "dyn stats [OPTIONS] [DATA...]";

static void out_date(struct out_writer *w, long day)
{
	char buf[TS_DATE_LEN];
	ts_date_format(day, buf);
	out_str(w, buf);
}

static void out_numq(struct out_writer *w, double v)
{
	if (isnan(v))
		out_null(w);
	else
		out_num(w, v);
}

static void out_parent(struct out_writer *w, const struct ts_data *d, const struct ts_queue *q)
{
	if (q->parent >= 0)
		out_str(w, d->q[q->parent].id);
	else
		out_null(w);
}

static void out_level(struct out_writer *w, const struct ts_queue *q)
{
	if (q->level >= 0)
		out_int(w, q->level);
	else
		out_null(w);
}

/* ---- --check ---- */

static void check_row(struct out_writer *w, const char *item, long long v, const char *detail)
{
	out_str(w, item);
	out_int(w, v);
	if (detail && *detail)
		out_str(w, detail);
	else
		out_null(w);
}

/* The --check report; *problems receives the count of the status row. */
static int view_check(const struct ts_data *d, FILE *fp, enum out_format f, long *nproblems,
		      struct err *e)
{
	static const char *const cols[] = {"check", "value", "detail"};
	struct out_writer *w = out_new(fp, f, 3, cols, "check");
	const struct ts_issues *is = &d->issues;
	struct strbuf sb = STRBUF_INIT, gaps_sb = STRBUF_INIT, late_sb = STRBUF_INIT;
	size_t with_data = 0, gaps = 0, gap_queues = 0, zero_rows = 0, late = 0, empty_leaves = 0;
	size_t *ix = ts_data_sorted(d);
	char a[TS_DATE_LEN], b[TS_DATE_LEN];
	long problems;

	for (size_t k = 0; k < d->nq; k++) {
		const struct ts_queue *q = &d->q[ix[k]];
		size_t qgaps = 0;
		long first_gap = 0;
		if (q->first > q->last) {
			if (!q->nchild)
				empty_leaves++;
			continue;
		}
		with_data++;
		for (long day = q->first; day <= q->last; day++) {
			size_t at = (size_t)(day - q->base);
			if (!q->seen[at]) {
				if (!qgaps++)
					first_gap = day;
			} else if (q->val[at] == 0) {
				zero_rows++;
			}
		}
		if (qgaps) {
			gaps += qgaps;
			if (!gap_queues++) {
				ts_date_format(first_gap, a);
				strbuf_addf(&gaps_sb,
					    "queue \"%s\": %zu day%s without a row, the first %s",
					    q->id, qgaps, qgaps == 1 ? "" : "s", a);
			}
		}
		if (q->first > d->min_day) {
			ts_date_format(q->first, a);
			if (late++ < 5)
				strbuf_addf(&late_sb, "%squeue \"%s\" from %s",
					    late > 1 ? ", " : "", q->id, a);
		}
	}
	if (gap_queues > 1)
		strbuf_addf(&gaps_sb, " (%zu queues have gaps)", gap_queues);
	if (late > 5)
		strbuf_addf(&late_sb, " and %zu more", late - 5);

	check_row(w, "rows", (long long)d->rows, NULL);
	strbuf_reset(&sb);
	if (d->has_tree)
		strbuf_addf(&sb, "%zu queues in %s, %zu leaves without rows", d->nq, d->tree_name,
			    empty_leaves);
	check_row(w, "queues", (long long)with_data, sb.buf);
	out_str(w, "first_date");
	if (d->min_day <= d->max_day) {
		ts_date_format(d->min_day, a);
		ts_date_format(d->max_day, b);
		out_null(w);
		out_str(w, a);
		out_str(w, "last_date");
		out_null(w);
		out_str(w, b);
		check_row(w, "days", d->max_day - d->min_day + 1, NULL);
	} else {
		out_null(w);
		out_null(w);
		out_str(w, "last_date");
		out_null(w);
		out_null(w);
		check_row(w, "days", 0, NULL);
	}
	check_row(w, "gaps", (long long)gaps, gaps_sb.buf);
	check_row(w, "late_starts", (long long)late, late_sb.buf);
	check_row(w, "zero_days", (long long)zero_rows, NULL);
	check_row(w, "duplicates", (long long)is->count[TS_DUPLICATE], is->first[TS_DUPLICATE]);
	check_row(w, "negative", (long long)is->count[TS_NEGATIVE], is->first[TS_NEGATIVE]);
	check_row(w, "non_integer", (long long)is->count[TS_NON_INTEGER],
		  is->first[TS_NON_INTEGER]);
	check_row(w, "bad_dates", (long long)is->count[TS_BAD_DATE], is->first[TS_BAD_DATE]);
	check_row(w, "bad_values", (long long)is->count[TS_BAD_VALUE], is->first[TS_BAD_VALUE]);
	check_row(w, "unknown_queues", (long long)is->count[TS_UNKNOWN_QUEUE],
		  is->first[TS_UNKNOWN_QUEUE]);
	problems = 0;
	for (int k = 0; k < TS_NISSUES; k++)
		problems += (long)is->count[k];
	*nproblems = problems;
	out_str(w, "status");
	out_int(w, problems);
	out_str(w, problems ? "problems found" : "ok");
	free(ix);
	strbuf_release(&sb);
	strbuf_release(&gaps_sb);
	strbuf_release(&late_sb);
	return out_finish(&w, e);
}

/* ---- the per-queue views ---- */

enum view { V_SUMMARY, V_LEVEL, V_SERIES, V_WEEKDAY, V_WEEK, V_WEEK_OF_YEAR };

struct ctx {
	const struct ts_data *d;
	long from, to;
	bool rollup;
	enum ts_missing missing;
	enum ts_gran gran;
	double *scratch;
	size_t nscratch;
};

static void row_summary(struct out_writer *w, struct ctx *c, size_t qi)
{
	const struct ts_queue *q = &c->d->q[qi];
	struct ts_series s;
	struct ts_describe ds;
	double wsum[7] = {0}, wn[7] = {0}, wd_sum = 0, we_sum = 0, wd_n = 0, we_n = 0;
	int best = -1, worst = -1;

	ts_series_init(&s);
	ts_series_daily(c->d, qi, c->from, c->to, c->rollup, c->missing, &s);
	if (s.n > c->nscratch) {
		c->scratch = xreallocarray(c->scratch, s.n, sizeof(double));
		c->nscratch = s.n;
	}
	if (s.n)
		ts_describe(s.v, s.n, c->scratch, &ds);
	else
		memset(&ds, 0, sizeof(ds));
	for (size_t i = 0; i < s.n; i++) {
		int wd;
		if (isnan(s.v[i]))
			continue;
		wd = ts_weekday(s.start[i]);
		wsum[wd] += s.v[i];
		wn[wd]++;
		if (wd >= 5) {
			we_sum += s.v[i];
			we_n++;
		} else {
			wd_sum += s.v[i];
			wd_n++;
		}
	}
	for (int k = 0; k < 7; k++) {
		if (!wn[k])
			continue;
		if (best < 0 || wsum[k] / wn[k] > wsum[best] / wn[best])
			best = k;
		if (worst < 0 || wsum[k] / wn[k] < wsum[worst] / wn[worst])
			worst = k;
	}
	out_str(w, q->id);
	if (q->name)
		out_str(w, q->name);
	else
		out_null(w);
	out_level(w, q);
	out_parent(w, c->d, q);
	out_int(w, (long long)q->nchild);
	out_int(w, (long long)q->ndesc);
	out_int(w, (long long)(q->nleaves ? q->nleaves : 1));
	out_int(w, q->height);
	if (ds.n) {
		out_date(w, s.start[0]);
		out_date(w, s.start[s.n - 1]);
	} else {
		out_null(w);
		out_null(w);
	}
	out_int(w, (long long)ds.n);
	if (ds.n) {
		out_num(w, ds.total);
		out_num(w, ds.mean);
		out_num(w, ds.max);
		out_num(w, ds.min);
		out_num(w, ds.median);
		out_num(w, ds.std);
		out_num(w, ds.p90);
		out_num(w, ds.p95);
		out_date(w, s.start[ds.argmax]);
		out_date(w, s.start[ds.argmin]);
	} else {
		for (int k = 0; k < 10; k++)
			out_null(w);
	}
	if (best >= 0) {
		out_str(w, ts_weekday_name(best));
		out_str(w, ts_weekday_name(worst));
	} else {
		out_null(w);
		out_null(w);
	}
	out_numq(w, wd_n ? wd_sum / wd_n : NAN);
	out_numq(w, we_n ? we_sum / we_n : NAN);
	ts_series_release(&s);
}

static const char *const summary_cols[] = {
    "queue_id",
    "name",
    "level",
    "parent_id",
    "children",
    "descendants",
    "leaves",
    "depth",
    "first_date",
    "last_date",
    "days",
    "total",
    "mean",
    "peak",
    "min",
    "median",
    "std",
    "p90",
    "p95",
    "busiest_day",
    "quietest_day",
    "busiest_weekday",
    "quietest_weekday",
    "weekday_mean",
    "weekend_mean",
};

static void rows_series(struct out_writer *w, struct ctx *c, size_t qi)
{
	struct ts_series s, b;
	ts_series_init(&s);
	ts_series_init(&b);
	ts_series_daily(c->d, qi, c->from, c->to, c->rollup, c->missing, &s);
	ts_series_bucket(&s, c->gran, &b);
	for (size_t i = 0; i < b.n; i++) {
		if (isnan(b.v[i]))
			continue;
		out_str(w, c->d->q[qi].id);
		out_date(w, b.start[i]);
		if (c->gran != TS_DAY)
			out_int(w, (long long)b.days[i]);
		out_num(w, b.v[i]);
	}
	ts_series_release(&s);
	ts_series_release(&b);
}

/* One row per ISO week in time: its label (2023-W01), its number counted from the queue's
 * first week (1..N, consecutive weeks: the ticket service's numbering; a week without known
 * days keeps its number and gives no row), the known days, total and mean daily load. */
static void rows_weeks(struct out_writer *w, struct ctx *c, size_t qi)
{
	struct ts_series s;
	ts_series_init(&s);
	ts_series_daily(c->d, qi, c->from, c->to, c->rollup, c->missing, &s);
	for (size_t i = 0; i < s.n;) {
		long monday = ts_week_start(s.start[i]);
		double total = 0;
		size_t days = 0;
		/* daily series are contiguous: a week is the run of days up to the next Monday */
		for (; i < s.n && ts_week_start(s.start[i]) == monday; i++)
			if (!isnan(s.v[i])) {
				total += s.v[i];
				days++;
			}
		if (days) {
			char label[16];
			int y, wk;
			ts_iso_week(monday, &y, &wk);
			snprintf(label, sizeof(label), "%04d-W%02d", y, wk);
			out_str(w, c->d->q[qi].id);
			out_str(w, label);
			out_int(w, (monday - ts_week_start(s.start[0])) / 7 + 1);
			out_int(w, (long long)days);
			out_num(w, total);
			out_num(w, total / (double)days);
		}
	}
	ts_series_release(&s);
}

/* Mean daily load per weekday (7 rows) or per ISO week number (53 rows). */
static void rows_profile(struct out_writer *w, struct ctx *c, size_t qi, bool weekly)
{
	struct ts_series s;
	double sum[54] = {0}, n[54] = {0};
	size_t nb = weekly ? 53 : 7;
	ts_series_init(&s);
	ts_series_daily(c->d, qi, c->from, c->to, c->rollup, c->missing, &s);
	for (size_t i = 0; i < s.n; i++) {
		int k, y, wk;
		if (isnan(s.v[i]))
			continue;
		if (weekly) {
			ts_iso_week(s.start[i], &y, &wk);
			k = wk - 1;
		} else {
			k = ts_weekday(s.start[i]);
		}
		sum[k] += s.v[i];
		n[k]++;
	}
	for (size_t k = 0; k < nb; k++) {
		if (weekly && !n[k])
			continue;
		out_str(w, c->d->q[qi].id);
		if (weekly)
			out_int(w, (long long)k + 1);
		else
			out_str(w, ts_weekday_name((int)k));
		out_int(w, (long long)n[k]);
		out_num(w, sum[k]);
		out_numq(w, n[k] ? sum[k] / n[k] : NAN);
	}
	ts_series_release(&s);
}

static void row_level(struct out_writer *w, struct ctx *c, size_t qi)
{
	const struct ts_queue *q = &c->d->q[qi];
	struct ts_series s;
	double total = 0;
	size_t n = 0;
	ts_series_init(&s);
	ts_series_daily(c->d, qi, c->from, c->to, c->rollup, c->missing, &s);
	for (size_t i = 0; i < s.n; i++)
		if (!isnan(s.v[i])) {
			total += s.v[i];
			n++;
		}
	out_level(w, q);
	out_str(w, q->id);
	if (q->name)
		out_str(w, q->name);
	else
		out_null(w);
	out_parent(w, c->d, q);
	out_int(w, (long long)q->nchild);
	out_int(w, (long long)n);
	out_num(w, total);
	out_numq(w, n ? total / (double)n : NAN);
	ts_series_release(&s);
}

static const struct ts_data *level_data;

static int cmp_level(const void *a, const void *b)
{
	const struct ts_queue *x = &level_data->q[*(const size_t *)a];
	const struct ts_queue *y = &level_data->q[*(const size_t *)b];
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	/* Stable on the id order the indices came in. */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Without --rollup a parent whose tickets are all in its children has an empty row: says so
 * on stderr, once, naming the first few, so that the empty row is not taken for no load. */
static void note_parents(const struct ts_data *d, const size_t *ix, size_t n)
{
	struct strbuf ids = STRBUF_INIT;
	size_t count = 0;
	for (size_t k = 0; k < n; k++) {
		const struct ts_queue *q = &d->q[ix[k]];
		if (q->rows || !ts_subtree_rows(d, ix[k]))
			continue;
		if (count < 5)
			strbuf_addf(&ids, "%s\"%s\"", count ? ", " : "", q->id);
		else if (count == 5)
			strbuf_adds(&ids, ", ...");
		count++;
	}
	if (count == 1)
		fprintf(stderr,
			"dyn: queue %s has no tickets of its own: they are in its descendants "
			"(--rollup adds them)\n",
			ids.buf);
	else if (count)
		fprintf(stderr,
			"dyn: %zu queues (%s) have no tickets of their own: theirs are in their "
			"descendants (--rollup adds them)\n",
			count, ids.buf);
	strbuf_release(&ids);
}

/* True when some selected queue has data in the range. */
static bool any_data(const struct ts_data *d, const size_t *ix, size_t n, long from, long to,
		     bool rollup)
{
	for (size_t k = 0; k < n; k++) {
		const struct ts_queue *q = &d->q[ix[k]];
		if (rollup && q->nchild)
			return d->min_day <= to && d->max_day >= from;
		if (q->first <= q->last && q->first <= to && q->last >= from)
			return true;
	}
	return false;
}

int cmd_stats(int argc, char **argv)
{
	struct ts_data d;
	struct ts_load_opts lo;
	struct err e = ERR_INIT;
	struct out_writer *w = NULL;
	struct ctx c;
	enum view v = V_SUMMARY;
	size_t *ix = NULL, nsel = 0;
	int rc = 0, n, fmt;

	memset(&args, 0, sizeof(args));
	args.rollup = -1;
	n = parse_cmd_options(argc, argv, stats_options, stats_usage, &rc);
	if (n < 0) {
		/* -h or a usage error, already answered (and stdout closed). */
		strv_release(&args.ids);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	if (ts_query_parse(&args.q, &lo, &c.missing, &c.from, &c.to, &e) < 0) {
		rc = report_err(&e);
		goto out_args;
	}
	if (args.by) {
		static const char *const names[] = {"summary", "level", "series",
						    "weekday", "week",	"week-of-year"};
		size_t k;
		for (k = 0; k < ARRAY_SIZE(names) && strcmp(names[k], args.by); k++)
			;
		if (k == ARRAY_SIZE(names)) {
			rc = usage_error("option --by: expected summary, level, series, weekday, "
					 "week or week-of-year, got \"%s\"",
					 args.by);
			goto out_args;
		}
		v = (enum view)k;
	}
	c.gran = TS_DAY;
	if (args.gran && ts_gran_parse(args.gran, &c.gran) < 0) {
		rc = usage_error("option --granularity: expected day, week or month, got \"%s\"",
				 args.gran);
		goto out_args;
	}
	if (args.gran && v != V_SERIES) {
		rc = usage_error("option --granularity: only with --by series");
		goto out_args;
	}
	if (args.strict && !args.check) {
		rc = usage_error("option --strict goes with --check");
		goto out_args;
	}
	if (args.check && args.by) {
		rc = usage_error("options --check and --by: choose one view");
		goto out_args;
	}
	/* Queues by level show parents with their children's load, as the ticket service did;
	 * elsewhere a queue is its own tickets unless asked. */
	c.rollup = args.rollup < 0 ? v == V_LEVEL : args.rollup;
	fmt = output_format(0);

	ts_data_init(&d);
	lo.lenient = args.check;
	if (ts_data_load(&d, args.queues, argv, (size_t)n, &lo, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (args.check) {
		long problems = 0;
		if (view_check(&d, stdout, (enum out_format)fmt, &problems, &e) < 0)
			rc = report_err(&e);
		else if (args.strict && problems)
			rc = DYN_EDATA;
		goto out;
	}
	if (ts_data_select(&d, (const char *const *)args.ids.v, args.ids.n, &ix, &nsel, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	/* Asking for a range with nothing in it is an error; a parent without rows of its own
	 * still has a structure to show. */
	if ((args.q.from || args.q.to) && !any_data(&d, ix, nsel, c.from, c.to, c.rollup)) {
		char a[TS_DATE_LEN] = "", b[TS_DATE_LEN] = "";
		if (d.min_day <= d.max_day) {
			ts_date_format(d.min_day, a);
			ts_date_format(d.max_day, b);
		}
		fprintf(stderr, "dyn: no ticket rows between %s and %s (the data covers %s..%s)\n",
			args.q.from ? args.q.from : "the start", args.q.to ? args.q.to : "the end",
			a, b);
		rc = DYN_EDATA;
		goto out;
	}
	c.d = &d;
	if (v == V_LEVEL) {
		level_data = &d;
		qsort(ix, nsel, sizeof(*ix), cmp_level);
	}
	switch (v) {
	case V_SUMMARY:
		w = out_new(stdout, (enum out_format)fmt, ARRAY_SIZE(summary_cols), summary_cols,
			    "queues");
		break;
	case V_LEVEL: {
		static const char *const cols[] = {"level",    "queue_id", "name",  "parent_id",
						   "children", "days",	   "total", "mean"};
		w = out_new(stdout, (enum out_format)fmt, ARRAY_SIZE(cols), cols, "queues");
		break;
	}
	case V_SERIES: {
		static const char *const cols_d[] = {"queue_id", "date", "value"};
		static const char *const cols_p[] = {"queue_id", "date", "days", "value"};
		if (c.gran == TS_DAY)
			w = out_new(stdout, (enum out_format)fmt, 3, cols_d, "series");
		else
			w = out_new(stdout, (enum out_format)fmt, 4, cols_p, "series");
		break;
	}
	case V_WEEKDAY: {
		static const char *const cols[] = {"queue_id", "weekday", "days", "total", "mean"};
		w = out_new(stdout, (enum out_format)fmt, ARRAY_SIZE(cols), cols, "weekdays");
		break;
	}
	case V_WEEK: {
		static const char *const cols[] = {"queue_id", "week",	"week_number",
						   "days",     "total", "mean"};
		w = out_new(stdout, (enum out_format)fmt, ARRAY_SIZE(cols), cols, "weeks");
		break;
	}
	case V_WEEK_OF_YEAR: {
		static const char *const cols[] = {"queue_id", "week", "days", "total", "mean"};
		w = out_new(stdout, (enum out_format)fmt, ARRAY_SIZE(cols), cols, "weeks");
		break;
	}
	}
	for (size_t k = 0; k < nsel; k++) {
		switch (v) {
		case V_SUMMARY:
			row_summary(w, &c, ix[k]);
			break;
		case V_LEVEL:
			row_level(w, &c, ix[k]);
			break;
		case V_SERIES:
			rows_series(w, &c, ix[k]);
			break;
		case V_WEEKDAY:
			rows_profile(w, &c, ix[k], false);
			break;
		case V_WEEK:
			rows_weeks(w, &c, ix[k]);
			break;
		case V_WEEK_OF_YEAR:
			rows_profile(w, &c, ix[k], true);
			break;
		}
	}
	if (out_finish(&w, &e) < 0)
		rc = report_err(&e);
	else if (args.rollup < 0 && !c.rollup)
		note_parents(&d, ix, nsel);
	summary("%zu queues, %zu rows", nsel, d.rows);
out:
	free(c.scratch);
	free(ix);
	ts_data_release(&d);
out_args:
	strv_release(&args.ids);
	return finish_stdout(rc);
}
