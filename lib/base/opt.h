/* Command-line options declared as data and read by one parser; the same table makes -h text. */
#ifndef DYN_BASE_OPT_H
#define DYN_BASE_OPT_H

#include "base/err.h"
#include "base/strbuf.h"

enum opt_type {
	OPT_END = 0,
	OPT_GROUP,    /* a heading in the help text */
	OPT_BOOL,     /* int *value set to 1 (or 0 for the OPT_NEG flag) */
	OPT_STRING,   /* const char **value; points into argv */
	OPT_LONG,     /* long *value */
	OPT_DOUBLE,   /* double *value */
	OPT_CALLBACK, /* cb(opt, arg, err) */
};

enum opt_flags {
	OPT_NOARG = 1 << 0,  /* OPT_CALLBACK taking no argument */
	OPT_HIDDEN = 1 << 1, /* not in the help text */
	OPT_NEG = 1 << 2,    /* OPT_BOOL that clears its value */
};

struct opt;
typedef int (*opt_cb)(const struct opt *o, const char *arg, struct err *e);

struct opt {
	enum opt_type type;
	int short_name;	       /* 0 for none */
	const char *long_name; /* without the dashes */
	void *value;
	const char *argh; /* name of the argument in the help text, e.g. "FILE" */
	const char *help;
	unsigned flags;
	opt_cb cb;
	void *cb_data;
	/* OPT_LONG and OPT_DOUBLE: the accepted range, inclusive (checked by opt_parse); for an
	 * OPT_CALLBACK that takes a number, the range its callback's owner checks (listed by
	 * opt_list_ranges only). min == max == 0: none. */
	double min, max;
};

#define OPT_END_()                                                                                 \
	{                                                                                          \
		OPT_END, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, 0                            \
	}
#define OPT_GROUP_(h)                                                                              \
	{                                                                                          \
		OPT_GROUP, 0, NULL, NULL, NULL, (h), 0, NULL, NULL, 0, 0                           \
	}
#define OPT_BOOL_(s, l, v, h)                                                                      \
	{                                                                                          \
		OPT_BOOL, (s), (l), (v), NULL, (h), 0, NULL, NULL, 0, 0                            \
	}
#define OPT_NEG_(s, l, v, h)                                                                       \
	{                                                                                          \
		OPT_BOOL, (s), (l), (v), NULL, (h), OPT_NEG, NULL, NULL, 0, 0                      \
	}
#define OPT_STRING_(s, l, v, a, h)                                                                 \
	{                                                                                          \
		OPT_STRING, (s), (l), (v), (a), (h), 0, NULL, NULL, 0, 0                           \
	}
/* Numbers declare their range: a value outside [lo, hi] is a usage error naming it. */
#define OPT_LONG_(s, l, v, a, h, lo, hi)                                                           \
	{                                                                                          \
		OPT_LONG, (s), (l), (v), (a), (h), 0, NULL, NULL, (lo), (hi)                       \
	}
#define OPT_DOUBLE_(s, l, v, a, h, lo, hi)                                                         \
	{                                                                                          \
		OPT_DOUBLE, (s), (l), (v), (a), (h), 0, NULL, NULL, (lo), (hi)                     \
	}
#define OPT_CALLBACK_(s, l, a, h, cb, data, fl)                                                    \
	{                                                                                          \
		OPT_CALLBACK, (s), (l), NULL, (a), (h), (fl), (cb), (data), 0, 0                   \
	}

enum opt_parse_flags {
	OPT_STOP_AT_NON_OPTION = 1 << 0, /* for global options: stop at the command name */
};

enum {
	OPT_PARSE_HELP = -2, /* -h/--help was given */
};

/* Parses argv[1..argc) against opts. Positional arguments are moved to argv[0..n) and n is
 * returned; -1 is a usage error (set in e, code DYN_EUSAGE); OPT_PARSE_HELP means -h/--help. */
int opt_parse(int argc, char **argv, const struct opt *opts, unsigned flags, struct err *e);

/* Appends the help text of a command: its usage lines, then the options table. */
void opt_help(struct strbuf *out, const char *usage, const struct opt *opts);

/* Appends "--name" of each visible long option, one per line (for shell completion). */
void opt_list(struct strbuf *out, const struct opt *opts);
/* Appends "--name integer|number MIN MAX" for each option with a range (for the tests that
 * try every option's limits). */
void opt_list_ranges(struct strbuf *out, const struct opt *opts);

#endif
