/* Ticket load data: the queue tree (id,name,level,parent_id) and daily ticket counts per queue
 * (queueId,date,new_tickets), held as one dense array of days per queue; plus the views built
 * on them (daily series with roll-up, weekly and monthly buckets). */
#ifndef DYN_TS_TICKETS_H
#define DYN_TS_TICKETS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/records.h"

struct ts_queue {
	char *id;      /* owned */
	char *name;    /* owned; NULL when there is no queues file */
	long level;    /* from the queues file; -1 when unknown */
	long parent;   /* index of the parent queue, -1 for a root */
	size_t *child; /* owned: indices of the direct children */
	size_t nchild;
	size_t ndesc, nleaves; /* all descendants; leaf queues in the subtree (itself if a leaf) */
	long height;	       /* "depth": levels below the queue (0 for a leaf) */
	bool in_tree;	       /* listed in the queues file */
	/* Daily counts: val[d - base] for days base .. base + cap - 1; first..last is the range
	 * that has rows (first > last when none). seen[] counts the rows of each day. */
	long base, first, last;
	size_t cap;
	double *val;
	unsigned char *seen;
	size_t rows;
};

/* Problems found while loading; only --check (lenient loading) sees counts above 0. */
enum ts_issue {
	TS_BAD_DATE,
	TS_NEGATIVE,
	TS_NON_INTEGER,
	TS_BAD_VALUE,
	TS_DUPLICATE,
	TS_UNKNOWN_QUEUE,
	TS_NISSUES,
};

struct ts_issues {
	size_t count[TS_NISSUES];
	char first[TS_NISSUES][1024]; /* the first message of each kind */
};

struct ts_data {
	struct ts_queue *q;
	size_t nq, alloc;
	size_t *slots, nslots; /* open-addressing hash of queue ids: index + 1, 0 empty */
	bool has_tree;
	char *tree_name;       /* owned: the queues file name for messages */
	size_t rows;	       /* ticket rows read */
	long min_day, max_day; /* over all rows; min_day > max_day when none */
	bool negative;	       /* some value is below 0: forecasts are not clamped at 0 */
	bool fractional;       /* some value is not a whole number */
	struct ts_issues issues;
};

/* The largest magnitude a value may have: sums of many stay exact enough and finite. */
#define TS_MAX_VALUE 1e15

void ts_data_init(struct ts_data *d);
void ts_data_release(struct ts_data *d);

/* Reads the queue structure: columns id, name, level, parent_id (name and level optional; an
 * empty parent_id is a root). Errors (DYN_EDATA, "FILE:LINE: ..."): duplicate id, a parent
 * that is not in the file, a parent cycle. Call before ts_data_load_tickets. */
int ts_data_load_queues(struct ts_data *d, const char *path, const struct rec_opts *ro,
			struct err *e);

enum ts_dup_mode { TS_DUP_ERROR, TS_DUP_SUM };
enum ts_missing { TS_MISSING_ZERO, TS_MISSING_SKIP };

struct ts_load_opts {
	const char *id_col, *date_col, *value_col; /* NULL: queueId, date, new_tickets */
	enum ts_dup_mode dups;
	bool lenient; /* count bad rows in d->issues and go on (for --check) */
	struct rec_opts rec;
};

/* Adds the rows of one ticket file. Errors (DYN_EDATA) name the file, line and column: an
 * unparseable date, a negative or fractional count, a duplicate (queue, date) row (unless
 * dups is TS_DUP_SUM), a queue id missing from the queues file. */
int ts_data_load_tickets(struct ts_data *d, const char *path, const struct ts_load_opts *o,
			 struct err *e);

/* The data options both commands take, as given on the command line. */
struct ts_query_args {
	const char *id_col, *date_col, *value_col, *missing, *dups, *input_format, *delimiter;
	const char *from, *to;
};

/* The options that say how ticket data is read, shared by dyn stats and dyn forecast: entries of
 * an option table filling queues (a const char *) and the struct ts_query_args q. */
#define TS_DATA_OPTIONS(queues, q)                                                                 \
	OPT_STRING_(0, "queues", &(queues), "FILE",                                                \
		    "queue structure CSV: id,name,level,parent_id"),                               \
	    OPT_STRING_(0, "id-col", &(q).id_col, "COL", "queue id column (default queueId)"),     \
	    OPT_STRING_(0, "date-col", &(q).date_col, "COL", "date column (default date)"),        \
	    OPT_STRING_(0, "value-col", &(q).value_col, "COL",                                     \
			"count column (default new_tickets)"),                                     \
	    OPT_STRING_(                                                                           \
		0, "missing", &(q).missing, "MODE",                                                \
		"zero (default): a day without a row has no tickets; skip: it is unknown"),        \
	    OPT_STRING_(0, "duplicates", &(q).dups, "MODE",                                        \
			"error (default) or sum, for repeated (queue, date) rows"),                \
	    OPT_STRING_(0, "input-format", &(q).input_format, "FMT",                               \
			"csv, json or ndjson (default: guess)"),                                   \
	    OPT_STRING_(0, "delimiter", &(q).delimiter, "C", "CSV field delimiter (default ,)")

/* Checks and converts them (usage errors name the option). from/to default to an unbounded
 * range. */
int ts_query_parse(const struct ts_query_args *a, struct ts_load_opts *lo, enum ts_missing *missing,
		   long *from, long *to, struct err *e);

/* Loads the queues file (when queues is not NULL), then each ticket file in turn (stdin when
 * npaths is 0). */
int ts_data_load(struct ts_data *d, const char *queues, char *const *paths, size_t npaths,
		 const struct ts_load_opts *o, struct err *e);

/* The queues named in ids[0..nids), in that order (duplicates dropped), or when nids is 0 all
 * queues ordered by id. Unknown ids are DYN_ENOTFOUND. *out is owned by the caller. */
int ts_data_select(const struct ts_data *d, const char *const *ids, size_t nids, size_t **out,
		   size_t *n, struct err *e);

/* Index of the queue with this id, or -1. */
long ts_data_find(const struct ts_data *d, const char *id);
/* The ticket rows of queue qi's descendants (not its own): a parent without rows of its own
 * whose load is in its children has some. */
size_t ts_subtree_rows(const struct ts_data *d, size_t qi);

/* Queue indices ordered by id (numerically when both ids are integers). Owned by the caller. */
size_t *ts_data_sorted(const struct ts_data *d);

enum ts_gran { TS_DAY, TS_WEEK, TS_MONTH };

int ts_gran_parse(const char *s, enum ts_gran *g);

/* A series: v[i] is the load of the period starting on day start[i] (NaN: missing). */
struct ts_series {
	size_t n;
	double *v;    /* owned */
	long *start;  /* owned: first day of each period */
	size_t *days; /* owned: days with data in each period */
};
void ts_series_init(struct ts_series *s);
void ts_series_release(struct ts_series *s);

/* The daily series of queue qi over the days that have rows (its own, or with rollup those of
 * its whole subtree), clipped to [from, to]. Days without a row inside that range are 0, or
 * NaN (missing) with TS_MISSING_SKIP. An empty result (n = 0) is not an error here. */
void ts_series_daily(const struct ts_data *d, size_t qi, long from, long to, bool rollup,
		     enum ts_missing missing, struct ts_series *s);

/* How the input's rows are dated. Daily data has a row a day (or some days); data that arrives
 * already aggregated has one row a period, stamped with the period's first day: a week's rows
 * all fall on one weekday (Mondays, Sundays...: the week starting that day), a month's on the
 * 1st, or all on the last day of their month (then the month ending that day). */
struct ts_stamps {
	enum ts_gran gran;
	int weekday;	/* TS_WEEK: 0 = Monday .. 6 = Sunday; -1: each series on its own */
	bool month_end; /* TS_MONTH: stamped on the last day, not the 1st */
};

/* The stamps of d's rows: TS_WEEK when there are two distinct dates at least and each queue's
 * rows fall on one weekday (not always the same one: weekday is then -1), TS_MONTH when they
 * are all the 1st or all the last day of a month (two months at least), else TS_DAY. With want
 * other than -1 (the user's --input-granularity), the rows must fit it: an error names two
 * dates that do not. With rollup, weekly rows under one parent must share their weekday. */
int ts_data_stamps(const struct ts_data *d, int want, bool rollup, struct ts_stamps *st,
		   struct err *e);
/* The first day of the period after the one stamped day. */
long ts_stamp_next(const struct ts_stamps *st, long day);
/* Whether day starts a period of a stamped series whose first row is on day first: a week
 * every 7 days from it (each series keeps its own weekday), a month on its stamp. */
bool ts_is_stamp(const struct ts_stamps *st, long first, long day);

/* Sums a daily series into ISO weeks (Monday start) or calendar months; a period whose days
 * are all missing is missing. The first and last period may be partial (see days[]). */
void ts_series_bucket(const struct ts_series *daily, enum ts_gran g, struct ts_series *out);

/* The first day of the period after the one starting at day. */
long ts_gran_next(enum ts_gran g, long day);

#endif
