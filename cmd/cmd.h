/* What the command files share: global options, the command entry points, and the helpers that
 * turn lib/ errors into the design's messages and exit codes. */
#ifndef DYN_CMD_CMD_H
#define DYN_CMD_CMD_H

#include "base/base.h"
#include "base/opt.h"
#include "base/progress.h"

struct global_opts {
	const char *store; /* --store / DYN_STORE / XDG default; resolved by store_path() */
	const char *format;
	long threads;
	long seed;
	int quiet;
	int verbose;
	int no_progress;
	int no_header;
};

extern struct global_opts global;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	unsigned flags;
};

enum cmd_flags { CMD_HIDDEN = 1 };

int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_mark(int argc, char **argv);
/* dyn mark's workflow verbs (cmd/marking.c). */
int mark_markers(int argc, char **argv);
int mark_import(int argc, char **argv);
int mark_next(int argc, char **argv);
int mark_card(int argc, char **argv);
int mark_skip(int argc, char **argv);
int mark_ls(int argc, char **argv);
int mark_show(int argc, char **argv);
int mark_stats(int argc, char **argv);
int mark_export(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_complete(int argc, char **argv);

/* Prints "dyn: MSG" for e and returns its exit code. */
int report_err(const struct err *e);
/* Prints "dyn: MSG" (a usage error) and returns DYN_EUSAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a command's options. Returns the positional count, or -1 after it has handled -h
 * (printing help to stdout; *rc = 0) or a usage error (*rc = 2). */
int parse_cmd_options(int argc, char **argv, const struct opt *opts, const char *usage, int *rc);

/* The store directory: --store, then $DYN_STORE, then ${XDG_DATA_HOME:-~/.local/share}/dyn. */
const char *store_path(void);
/* 0, or a usage error (its exit code, printed) when --format csv asks for rows of a command
 * that prints one document (what names it: "models show"). */
int doc_format_check(const char *what);
/* The output format for row results (is_doc = 0) or single documents (is_doc = 1). */
int output_format(int is_doc);

/* A progress line on stderr when stderr is a terminal and neither -q nor --no-progress. */
struct progress *cmd_progress(const char *label);
/* A one-line summary on stderr when stderr is a terminal and not -q (or always with -v). */
void summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flushes and closes stdout, reporting a write error (full disk, closed pipe): the exit code. */
int finish_stdout(int rc);

/* Dispatches argv[0] among cmds (a nested verb table, e.g. "models ls"). */
int run_subcommand(const struct cmd *cmds, const char *parent, int argc, char **argv);

extern const struct cmd dyn_commands[];
/* Global options: accepted before the command and, for convenience, among its options. */
extern const struct opt global_options[];
void dyn_main_help(FILE *fp);

#endif
