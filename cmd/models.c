/* dyn models ls | show ID | rm ID...: the catalogue of the store. */
#include <math.h>

#include "cmd.h"
#include "io/doc.h"
#include "io/output.h"
#include "models/curve.h"
#include "models/stored.h"
#include "store/store.h"

/* v with digits significant digits (for people: the catalogue keeps every digit). */
static const char *fmt_num(double v, int digits)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "%.*g", digits, v);
	return buf;
}

static int open_store(struct store **s)
{
	struct err e = ERR_INIT;
	if (store_open_existing(s, store_path(), &e) < 0)
		return report_err(&e);
	return 0;
}

static int models_ls(int argc, char **argv)
{
	static const char *const cols[] = {"id",	 "kind",    "created_at",
					   "rows",	 "classes", "accuracy",
					   "evaluation", "note",    "status"};
	const struct opt opts[] = {OPT_END_()};
	struct store *s = NULL;
	struct cJSON *index = NULL;
	struct out_writer *w;
	struct err e = ERR_INIT;
	size_t i, n;
	int rc = 0;

	if (parse_cmd_options(argc, argv, opts, "dyn models ls", &rc) < 0)
		return rc;
	if ((rc = open_store(&s)))
		return rc;
	if (store_read_index(s, &index, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	w = out_new(stdout, (enum out_format)output_format(0), ARRAY_SIZE(cols), cols, NULL);
	n = doc_len(index, "models");
	for (i = 0; i < n; i++) {
		const struct cJSON *m = doc_at(index, "models", i);
		const char *note = doc_str(m, "note");
		double acc = doc_num(m, "metrics.accuracy"), rows = doc_num(m, "data.rows");
		const char *ev = doc_str(m, "metrics.evaluation.method");
		out_str(w, doc_str(m, "id"));
		out_str(w, doc_str(m, "kind"));
		out_str(w, doc_str(m, "created_at"));
		if (isnan(rows))
			out_null(w);
		else
			out_num(w, rows);
		out_int(w, (long long)doc_len(m, "classes"));
		if (isnan(acc))
			out_null(w);
		else
			out_num(w, acc);
		if (ev)
			out_str(w, ev);
		else
			out_null(w);
		if (note)
			out_str(w, note);
		else
			out_null(w);
		out_str(w, store_entry_status(m));
	}
	if (out_finish(&w, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	rc = finish_stdout(0);
out:
	doc_free(index);
	store_free(&s);
	return rc;
}

/* The epochs array as a table: one column per key of the first epoch. */
static int print_epochs(const struct cJSON *epochs, struct err *e)
{
	const char *cols[16];
	size_t nc = 0, i, j, n = doc_len(epochs, "");
	struct out_writer *w;
	const struct cJSON *first = doc_at(epochs, "", 0);
	while (nc < ARRAY_SIZE(cols) && (cols[nc] = doc_key(first, "", nc)))
		nc++;
	printf("epochs:\n");
	w = out_new(stdout, OUT_TABLE, nc, cols, NULL);
	for (i = 0; i < n; i++) {
		const struct cJSON *ep = doc_at(epochs, "", i);
		for (j = 0; j < nc; j++) {
			double v = doc_num(ep, cols[j]);
			if (isnan(v))
				out_null(w);
			else if (!strcmp(cols[j], "epoch"))
				out_int(w, (long long)v);
			else
				out_str(w, fmt_num(v, !strcmp(cols[j], "lr") ? 3 : 4));
		}
	}
	return out_finish(&w, e);
}

/* The learning curve of the model doc describes into path (checked by curve_check_path). */
static int plot_curve(const struct cJSON *doc, const char *path, struct err *e)
{
	const char *id = doc_str(doc, "id"), *kind = doc_str(doc, "kind");
	if (!doc_len(doc, "training.epochs"))
		return err_set(e, DYN_EUSAGE,
			       "option --plot: model \"%s\" has no epochs to draw (only networks "
			       "trained in epochs have a learning curve)",
			       id);
	if (curve_write_epochs(path, id, kind ? kind : "?", doc_get(doc, "training.epochs"), e) <
	    0) {
		err_prefix(e, "option --plot");
		return -1;
	}
	return 0;
}

static int models_show(int argc, char **argv)
{
	const char *plot = NULL;
	const struct opt opts[] = {
	    OPT_STRING_(0, "plot", &plot, "FILE",
			"draw the learning curve of a network into FILE (.png or .svg)"),
	    OPT_END_(),
	};
	struct store *s = NULL;
	struct cJSON *doc = NULL, *epochs = NULL;
	struct err e = ERR_INIT;
	enum out_format fmt;
	int rc = 0, n;

	n = parse_cmd_options(argc, argv, opts, "dyn models show ID [--plot FILE]", &rc);
	if (n < 0 || (rc = doc_format_check("models show")))
		return rc;
	if (n != 1)
		return usage_error("models show: expected one model id");
	if (!store_valid_id(argv[0]))
		return usage_error("invalid model id \"%s\": ids match "
				   "[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
				   argv[0]);
	if (plot && curve_check_path(plot, &e) < 0) {
		err_prefix(&e, "option --plot");
		return report_err(&e);
	}
	if ((rc = open_store(&s)))
		return rc;
	doc = model_describe(s, argv[0], &e);
	/* drawn before anything is printed: a chart that fails fails the command */
	if (doc && plot && plot_curve(doc, plot, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	fmt = (enum out_format)output_format(1);
	/* For people, a network's epochs are a table after the rest. */
	if (doc && fmt == OUT_TABLE && doc_len(doc, "training.epochs"))
		epochs = doc_detach(doc, "training.epochs");
	if (!doc || out_doc(stdout, fmt, doc, &e) < 0 || (epochs && print_epochs(epochs, &e) < 0)) {
		rc = report_err(&e);
		goto out;
	}
	rc = finish_stdout(0);
out:
	doc_free(doc);
	doc_free(epochs);
	store_free(&s);
	return rc;
}

static int models_rm(int argc, char **argv)
{
	int force = 0, rc = 0, n, i;
	const struct opt opts[] = {
	    OPT_BOOL_('f', "force", &force, "ignore ids that do not exist"),
	    OPT_END_(),
	};
	struct store *s = NULL;
	struct err e = ERR_INIT;

	n = parse_cmd_options(argc, argv, opts, "dyn models rm [-f] ID...", &rc);
	if (n < 0)
		return rc;
	if (n < 1)
		return usage_error("models rm: expected one or more model ids");
	for (i = 0; i < n; i++)
		if (!store_valid_id(argv[i]))
			return usage_error("invalid model id \"%s\": ids match "
					   "[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
					   argv[i]);
	if ((rc = open_store(&s)))
		return rc;
	if (store_remove(s, (const char *const *)argv, (size_t)n, force, &e) < 0)
		rc = report_err(&e);
	else
		summary("removed %d model%s", n, n == 1 ? "" : "s");
	store_free(&s);
	return rc ? rc : finish_stdout(0);
}

static int check_row(void *arg, const char *path, const char *problem, bool removed)
{
	out_str(arg, path);
	out_str(arg, problem);
	out_str(arg, removed ? "removed" : "kept");
	return 0;
}

static int models_check(int argc, char **argv)
{
	static const char *const cols[] = {"path", "problem", "action"};
	int repair = 0, rc = 0, n, found;
	const struct opt opts[] = {
	    OPT_BOOL_(0, "repair", &repair,
		      "remove temporaries and model files no entry names (never an entry)"),
	    OPT_END_(),
	};
	struct store *s = NULL;
	struct out_writer *w;
	struct err e = ERR_INIT, we = ERR_INIT;

	n = parse_cmd_options(argc, argv, opts, "dyn models check [--repair]", &rc);
	if (n < 0)
		return rc;
	if (n > 0)
		return usage_error("models check: unexpected argument \"%s\"", argv[0]);
	if ((rc = open_store(&s)))
		return rc;
	w = out_new(stdout, (enum out_format)output_format(0), ARRAY_SIZE(cols), cols, NULL);
	found = store_check(s, repair, check_row, w, &e);
	if (out_finish(&w, &we) < 0 && found >= 0) {
		e = we;
		found = -1;
	}
	store_free(&s);
	if (found < 0)
		return report_err(&e);
	/* like fsck: 1 while problems remain (a missing file is never repaired here) */
	return finish_stdout(found ? DYN_EDATA : 0);
}

static const struct cmd models_commands[] = {
    {"ls", models_ls, "list the models of the store", 0},
    {"show", models_show, "show one model: parameters, metrics, training, data", 0},
    {"rm", models_rm, "remove models", 0},
    {"check", models_check, "find what killed writers left; --repair removes it", 0},
    {NULL, NULL, NULL, 0},
};

int cmd_models(int argc, char **argv)
{
	const struct cmd *c;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "--list-options")) {
		FILE *fp = argc < 2 ? stderr : stdout;
		if (argc >= 2 && !strcmp(argv[1], "--list-options")) {
			for (c = models_commands; c->name; c++)
				printf("%s\n", c->name);
			return finish_stdout(0);
		}
		fprintf(fp, "usage: dyn models ls | show ID | rm [-f] ID...\n\n");
		for (c = models_commands; c->name; c++)
			fprintf(fp, "    %-8s%s\n", c->name, c->summary);
		return argc < 2 ? DYN_EUSAGE : finish_stdout(0);
	}
	return run_subcommand(models_commands, "models", argc - 1, argv + 1);
}
