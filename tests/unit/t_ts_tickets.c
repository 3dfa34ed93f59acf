/* Unit tests of lib/ts/tickets.c: the queue tree (shape, missing parent, cycle), ticket rows
 * (dense days, duplicates, bad values), daily series with roll-up and missing days, and weekly
 * and monthly buckets. Fixtures are written to a scratch directory. */
#include <limits.h>
#include <math.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"
#include "ts/date.h"
#include "ts/tickets.h"

static char dir[] = "/tmp/t_ts_tickets.XXXXXX";

static const char *fixture(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	FILE *fp;
	snprintf(p, 256, "%s/%s", dir, name);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	return p;
}

static const char *tree =
    "id,name,level,parent_id\n1,Root,1,\n2,A,2,1\n3,B,2,1\n4,A1,3,2\n5,A2,3,2\n6,A2x,4,5\n";

static void test_tree(void)
{
	struct ts_data d;
	struct err e = ERR_INIT;
	struct rec_opts ro = {REC_AUTO, 0};
	const struct ts_queue *q;

	ts_data_init(&d);
	check(ts_data_load_queues(&d, fixture("q.csv", tree), &ro, &e) == 0, "tree loads: %s",
	      e.msg);
	q = &d.q[ts_data_find(&d, "1")];
	check(q->nchild == 2 && q->ndesc == 5 && q->nleaves == 3 && q->height == 3,
	      "root: 2 children, 5 descendants, 3 leaves, depth 3");
	q = &d.q[ts_data_find(&d, "5")];
	check(q->nchild == 1 && q->ndesc == 1 && q->nleaves == 1 && q->height == 1 && q->level == 3,
	      "inner node");
	check(d.q[q->parent].id[0] == '2', "parent link");
	q = &d.q[ts_data_find(&d, "3")];
	check(q->nchild == 0 && q->nleaves == 1 && q->height == 0, "leaf");
	ts_data_release(&d);

	ts_data_init(&d);
	err_clear(&e);
	check(ts_data_load_queues(&d,
				  fixture("q.csv", "id,name,level,parent_id\n1,R,1,\n2,A,2,9\n"),
				  &ro, &e) < 0 &&
		  strstr(e.msg, "q.csv:3: column \"parent_id\": parent \"9\" of queue \"2\" is not "
				"in the file"),
	      "missing parent: %s", e.msg);
	ts_data_release(&d);

	ts_data_init(&d);
	err_clear(&e);
	check(
	    ts_data_load_queues(&d,
				fixture("q.csv", "id,name,level,parent_id\n1,R,1,\n2,A,2,3\n3,B,2,"
						 "4\n4,C,2,2\n"),
				&ro, &e) < 0 &&
		strstr(e.msg, "parent cycle (2 -> 3 -> 4 -> 2)") && e.code == DYN_EDATA,
	    "cycle: %s", e.msg);
	ts_data_release(&d);

	ts_data_init(&d);
	err_clear(&e);
	check(ts_data_load_queues(&d, fixture("q.csv", "id,name,level,parent_id\n1,R,1,1\n"), &ro,
				  &e) < 0 &&
		  strstr(e.msg, "parent cycle (1 -> 1)"),
	      "self parent: %s", e.msg);
	ts_data_release(&d);
}

static void test_rows(void)
{
	struct ts_data d;
	struct err e = ERR_INIT;
	struct rec_opts ro = {REC_AUTO, 0};
	struct ts_load_opts lo;
	struct ts_series s, b;
	const char *qp;
	long day;

	memset(&lo, 0, sizeof(lo));
	ts_data_init(&d);
	qp = fixture("q.csv", tree);
	ts_data_load_queues(&d, qp, &ro, &e);
	/* Out of order, a gap on 2024-01-03, queue 3 only later. */
	check(ts_data_load_tickets(&d,
				   fixture("t.csv", "queueId,date,new_tickets\n4,2024-01-02,5\n4,"
						    "2024-01-01,1\n4,2024-01-04,2\n6,2024-01-01,"
						    "10\n3,2024-02-01,7\n"),
				   &lo, &e) == 0,
	      "rows load: %s", e.msg);
	check(d.rows == 5, "5 rows");
	ts_series_init(&s);
	ts_series_init(&b);
	ts_series_daily(&d, (size_t)ts_data_find(&d, "4"), LONG_MIN / 2, LONG_MAX / 2, false,
			TS_MISSING_ZERO, &s);
	check(s.n == 4 && s.v[0] == 1 && s.v[1] == 5 && s.v[2] == 0 && s.v[3] == 2,
	      "daily series, gap as zero");
	ts_series_daily(&d, (size_t)ts_data_find(&d, "4"), LONG_MIN / 2, LONG_MAX / 2, false,
			TS_MISSING_SKIP, &s);
	check(s.n == 4 && isnan(s.v[2]), "gap as missing with skip");
	ts_series_daily(&d, (size_t)ts_data_find(&d, "2"), LONG_MIN / 2, LONG_MAX / 2, true,
			TS_MISSING_ZERO, &s);
	check(s.n == 4 && s.v[0] == 11 && s.v[1] == 5, "rollup adds descendants (4 and 6)");
	ts_series_daily(&d, (size_t)ts_data_find(&d, "2"), LONG_MIN / 2, LONG_MAX / 2, false,
			TS_MISSING_ZERO, &s);
	check(s.n == 0, "no rollup: a parent without rows is empty");
	ts_series_daily(&d, 0, LONG_MIN / 2, LONG_MAX / 2, true, TS_MISSING_ZERO, &s);
	check(s.n == 32 && s.v[31] == 7, "root rollup spans 2024-01-01..2024-02-01");
	ts_series_bucket(&s, TS_MONTH, &b);
	check(b.n == 2 && b.v[0] == 18 && b.days[0] == 31 && b.v[1] == 7 && b.days[1] == 1,
	      "monthly buckets with day counts");
	ts_series_bucket(&s, TS_WEEK, &b);
	ts_date_parse("2024-01-01", 10, &day); /* a Monday */
	check(b.n == 5 && b.start[0] == day && b.v[0] == 18 && b.days[4] == 4,
	      "ISO weeks from Monday 2024-01-01");
	ts_date_parse("2024-01-02", 10, &day);
	ts_series_daily(&d, (size_t)ts_data_find(&d, "4"), day, day + 1, false, TS_MISSING_ZERO,
			&s);
	check(s.n == 2 && s.start[0] == day && s.v[0] == 5, "range clipping");
	ts_series_release(&s);
	ts_series_release(&b);

	err_clear(&e);
	check(ts_data_load_tickets(&d,
				   fixture("t2.csv", "queueId,date,new_tickets\n4,2024-01-02,1\n"),
				   &lo, &e) < 0 &&
		  strstr(e.msg, "t2.csv:2: duplicate row for queue \"4\" on 2024-01-02"),
	      "duplicate across files: %s", e.msg);
	lo.dups = TS_DUP_SUM;
	err_clear(&e);
	check(ts_data_load_tickets(&d,
				   fixture("t2.csv", "queueId,date,new_tickets\n4,2024-01-02,1\n"),
				   &lo, &e) == 0,
	      "--duplicates sum");
	check(d.q[ts_data_find(&d, "4")].val[day - d.q[ts_data_find(&d, "4")].base] == 6,
	      "summed duplicate");
	err_clear(&e);
	check(ts_data_load_tickets(&d,
				   fixture("t3.csv", "queueId,date,new_tickets\n99,2024-01-02,1\n"),
				   &lo, &e) < 0 &&
		  strstr(e.msg, "t3.csv:2: column \"queueId\": queue \"99\" is not in /"),
	      "unknown queue: %s", e.msg);
	err_clear(&e);
	check(ts_data_load_tickets(&d, fixture("t3.csv", "queueId,date,new_tickets\n4,17/03,1\n"),
				   &lo, &e) < 0 &&
		  strstr(e.msg, "t3.csv:2: column \"date\": expected YYYY-MM-DD, got \"17/03\""),
	      "bad date: %s", e.msg);
	err_clear(&e);
	/* load is any finite number: hours, cost, a net flow */
	check(!d.negative && !d.fractional, "whole counts so far");
	check(ts_data_load_tickets(&d,
				   fixture("t3.csv", "queueId,date,new_tickets\n4,2024-05-01,-2\n"),
				   &lo, &e) == 0 &&
		  d.negative && !d.fractional,
	      "negative value taken: %s", e.msg);
	check(ts_data_load_tickets(
		  &d, fixture("t3.csv", "queueId,date,new_tickets\n4,2024-05-02,2.5\n"), &lo, &e) ==
		      0 &&
		  d.fractional,
	      "fractional value taken: %s", e.msg);
	check(d.q[ts_data_find(&d, "4")].val[day + 121 - d.q[ts_data_find(&d, "4")].base] == 2.5,
	      "2.5 kept");
	static const char *const bad[] = {"1e308", "nan", "inf", "-1e16"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[96];
		snprintf(text, sizeof(text), "queueId,date,new_tickets\n4,2024-05-03,%s\n", bad[i]);
		err_clear(&e);
		check(ts_data_load_tickets(&d, fixture("t3.csv", text), &lo, &e) < 0 &&
			  strstr(e.msg, "t3.csv:2: column \"new_tickets\": expected a number (at "
					"most 1e15 in magnitude), got \""),
		      "%s refused: %s", bad[i], e.msg);
	}
	lo.lenient = true;
	err_clear(&e);
	check(
	    ts_data_load_tickets(&d,
				 fixture("t3.csv", "queueId,date,new_tickets\n4,2024-05-01,2.5\n4,"
						   "x,1\n99,2024-01-01,1\n"),
				 &lo, &e) == 0 &&
		d.issues.count[TS_NON_INTEGER] == 1 && d.issues.count[TS_BAD_DATE] == 1 &&
		d.issues.count[TS_UNKNOWN_QUEUE] == 1,
	    "lenient loading counts the problems");
	ts_data_release(&d);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_tree();
	test_rows();
	unlink(fixture("q.csv", ""));
	unlink(fixture("t.csv", ""));
	unlink(fixture("t2.csv", ""));
	unlink(fixture("t3.csv", ""));
	rmdir(dir);
	return check_done();
}
