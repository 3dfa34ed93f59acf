/* dyn: the entry point. Global options, the table of commands, and dispatch. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "base/trace.h"
#include "base/lazylib.h"
#include "cmd.h"
#include "io/stream.h"

struct global_opts global = {.seed = 0, .threads = 0};

const struct cmd dyn_commands[] = {
    {"fit", cmd_fit, "train a model and add it to the store", 0},
    {"predict", cmd_predict, "predict with a stored model, streaming rows", 0},
    {"models", cmd_models, "list, show and remove stored models", 0},
    {"stats", cmd_stats, "queue load analytics: check, levels, series, profiles, statistics", 0},
    {"forecast", cmd_forecast, "forecast queue load with prediction intervals", 0},
    {"mark", cmd_mark, "dynamometer cards: generate synthetic cards of the markers", 0},
    {"help", cmd_help, "show the manual of a command", 0},
    {"complete", cmd_complete, "candidates for shell completion", CMD_HIDDEN},
    {NULL, NULL, NULL, 0},
};

static int show_version;

const struct opt global_options[] = {
    OPT_STRING_(0, "store", &global.store, "DIR", "the model store (DYN_STORE)"),
    OPT_STRING_(0, "format", &global.format, "FMT", "table, csv, json or ndjson"),
    OPT_LONG_(0, "threads", &global.threads, "N", "worker threads (DYN_THREADS)", 1, 1024),
    OPT_LONG_(0, "seed", &global.seed, "N", "random seed (default 0)", (double)LONG_MIN,
	      (double)LONG_MAX),
    OPT_BOOL_('q', "quiet", &global.quiet, "no summaries or progress on stderr"),
    OPT_BOOL_('v', "verbose", &global.verbose, "more detail on stderr"),
    OPT_BOOL_(0, "no-progress", &global.no_progress, "no progress display"),
    OPT_BOOL_(0, "no-header", &global.no_header,
	      "CSV without its header line (parts of a sharded run, joined under one)"),
    OPT_BOOL_(0, "version", &show_version, "print the version and exit"),
    OPT_END_(),
};

static const char dyn_usage[] = "dyn [GLOBAL OPTIONS] COMMAND [ARGS]";

void dyn_main_help(FILE *fp)
{
	struct strbuf sb = STRBUF_INIT;
	const struct cmd *c;
	opt_help(&sb, dyn_usage, global_options);
	strbuf_adds(&sb, "\nCommands:\n");
	for (c = dyn_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN))
			strbuf_addf(&sb, "    %-12s%s\n", c->name, c->summary);
	strbuf_adds(&sb,
		    "\n'dyn help COMMAND' shows a command's manual; every command takes -h.\n");
	fputs(sb.buf, fp);
	strbuf_release(&sb);
}

/* Edit distance (insertions, deletions, substitutions, adjacent swaps) of two short words,
 * for suggesting the command meant; words over 31 bytes are far from every command. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), d[32][32];
	if (n > 31 || m > 31)
		return 99;
	for (size_t i = 0; i <= n; i++)
		for (size_t j = 0; j <= m; j++) {
			if (!i || !j) {
				d[i][j] = i + j;
				continue;
			}
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

int run_subcommand(const struct cmd *cmds, const char *parent, int argc, char **argv)
{
	const struct cmd *c, *best = NULL;
	size_t bd = 3; /* suggest only what is at most 2 edits away */
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->fn(argc, argv);
	for (c = cmds; c->name; c++) {
		size_t dist = (c->flags & CMD_HIDDEN) ? 99 : edit_distance(argv[0], c->name);
		if (dist < bd) {
			bd = dist;
			best = c;
		}
	}
	if (best)
		return usage_error(
		    "'%s' is not a %s command; did you mean '%s'? (see 'dyn %s%s-h')", argv[0],
		    *parent ? parent : "dyn", best->name, parent, *parent ? " " : "");
	return usage_error("'%s' is not a %s command (see 'dyn %s%s-h')", argv[0],
			   *parent ? parent : "dyn", parent, *parent ? " " : "");
}

/* DYN_MAX_DECOMPRESSED (bytes, or with a K, M, G or T suffix) and DYN_MAX_RATIO: what one
 * compressed input or archive may decompress to before it is refused as a bomb. */
static int env_limits(void)
{
	const char *b = getenv("DYN_MAX_DECOMPRESSED"), *r = getenv("DYN_MAX_RATIO");
	uint64_t bytes = 0;
	double ratio = 0;
	if (b && *b) {
		char *end;
		errno = 0;
		double v = strtod(b, &end);
		const char *units = "KMGT";
		const char *u = *end ? strchr(units, *end) : NULL;
		if (u && *end)
			for (const char *k = units; k <= u; k++)
				v *= 1024;
		if (end == b || errno || (*end && (!u || end[1])) || !(v >= 1 && v <= 1e18)) {
			fprintf(
			    stderr,
			    "dyn: DYN_MAX_DECOMPRESSED: expected a byte count (e.g. 500M, 16G), "
			    "got \"%s\"\n",
			    b);
			return -1;
		}
		bytes = (uint64_t)v;
	}
	if (r && *r && (parse_double(r, (size_t)-1, &ratio, false) < 0 || !(ratio >= 1))) {
		fprintf(stderr, "dyn: DYN_MAX_RATIO: expected a number of at least 1, got \"%s\"\n",
			r);
		return -1;
	}
	stream_default_limits(bytes, ratio);
	return 0;
}

static int env_threads(void)
{
	const char *s = getenv("DYN_THREADS");
	long v;
	if (!s || !*s)
		return 0;
	if (parse_long(s, &v) < 0 || v < 1 || v > 1024) {
		fprintf(stderr,
			"dyn: DYN_THREADS: expected an integer from 1 to 1024, got \"%s\"\n", s);
		return -1;
	}
	global.threads = v;
	return 0;
}

/* OpenBLAS or libcrypto failed to load at its first use: what the dynamic linker said when
 * they were linked. */
static void library_missing(const struct err *e)
{
	report_err(e);
	fflush(stdout);
	_exit(DYN_EDATA);
}

int main(int argc, char **argv)
{
	struct err e = ERR_INIT;
	int n;

	/* SIGPIPE keeps its default: "dyn predict ... | head" ends quietly, as cat and grep do,
	 * and stops reading its input at once. */
	trace_perf("start");
	lazylib_fatal = library_missing;
	if (env_threads() < 0 || env_limits() < 0)
		return DYN_EUSAGE;
	n = opt_parse(argc, argv, global_options, OPT_STOP_AT_NON_OPTION, &e);
	if (n == OPT_PARSE_HELP) {
		dyn_main_help(stdout);
		return finish_stdout(0);
	}
	if (n < 0)
		return report_err(&e);
	if (show_version) {
		printf("dyn %s\n", DYN_VERSION);
		return finish_stdout(0);
	}
	if (global.threads < 0 || global.threads > 1024)
		return usage_error("option --threads: expected an integer from 1 to 1024");
	if (global.format && output_format(0) < 0)
		return usage_error(
		    "option --format: expected table, csv, json or ndjson, got \"%s\"",
		    global.format);
	if (n == 0) {
		dyn_main_help(stderr);
		return DYN_EUSAGE;
	}
	return run_subcommand(dyn_commands, "", n, argv);
}
