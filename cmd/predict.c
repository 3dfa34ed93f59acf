/* dyn predict MODEL [INPUT...]: stream rows (or texts) through a stored model, one result per
 * input, in constant memory: rows are read, predicted and written a batch at a time. */
#include <math.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "base/strv.h"
#include "io/output.h"
#include "io/records.h"
#include "models/stored.h"
#include "store/store.h"
#include "text/text.h"

#define BATCH 2048

static int stdin_is_file(void)
{
	struct stat st;
	return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

/* True when standard input has nothing to read right now. */
static int input_stalled(void)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

struct predict_args {
	int proba;
	long top;
	const char *key, *keep, *text, *text_column, *input_format, *delimiter;
};

static const char predict_usage[] = "dyn predict MODEL [OPTIONS] [INPUT...]";

/* A class name is written as a number when it is one, so JSON output keeps numeric labels. */
static void put_label(struct out_writer *w, const char *name)
{
	double v;
	if (parse_double(name, (size_t)-1, &v, false) == 0 && strlen(name) < 20)
		out_num(w, v);
	else
		out_str(w, name);
}

struct predictor {
	const struct model *m;
	const struct predict_args *a;
	struct out_writer *w;
	size_t ntop;
	int with_key;
	size_t nkeep;
	/* the writer, opened at the first output so that an early error prints nothing */
	int service, fmt, interactive;
	const char *keyname;
	char **keep_names;
	/* the batch */
	double *X;
	char **text;
	struct strbuf keys; /* key and kept fields of each row, NUL-separated */
	size_t *key_off;    /* per row: offset of its first string in keys */
	size_t *rownum;	    /* per row: its 1-based number across the inputs */
	double *proba;
	size_t n;
};

static struct out_writer *open_writer(struct predictor *pr, int service, int fmt,
				      const char *keyname, char **keep);

static int flush_batch(struct predictor *pr, struct err *e)
{
	struct batch b;
	size_t i, c, j;
	size_t k = pr->m->k;
	size_t *rank = xmallocarray(k, sizeof(size_t));
	int ret = -1;
	if (!pr->w) {
		pr->w = open_writer(pr, pr->service, pr->fmt, pr->keyname, pr->keep_names);
		out_set_linebuffered(pr->w, pr->interactive && pr->fmt != OUT_TABLE);
	}
	if (!pr->n) {
		free(rank);
		return 0;
	}
	b.n = pr->n;
	b.d = pr->m->d;
	b.X = pr->X;
	b.text = (const char *const *)pr->text;
	if (pr->m->kind->predict(pr->m, &b, pr->proba, e) < 0)
		goto out;
	for (i = 0; i < pr->n; i++) {
		const double *p = pr->proba + i * k;
		const char *s = pr->keys.buf + pr->key_off[i];
		if (pr->with_key) {
			if (pr->a->key)
				out_str(pr->w, s);
			else
				out_int(pr->w, (long long)pr->rownum[i]);
			s += strlen(s) + 1;
		}
		/* Partial selection of the ntop most probable classes (ties: lower index first). */
		for (c = 0; c < k; c++)
			rank[c] = c;
		for (j = 0; j < pr->ntop; j++) {
			size_t best = j;
			for (c = j + 1; c < k; c++)
				if (p[rank[c]] > p[rank[best]])
					best = c;
			c = rank[j];
			rank[j] = rank[best];
			rank[best] = c;
			put_label(pr->w, pr->m->classes[rank[j]]);
			out_num(pr->w, p[rank[j]]);
		}
		if (pr->a->proba)
			for (c = 0; c < k; c++)
				out_num(pr->w, p[c]);
		for (j = 0; j < pr->nkeep; j++) {
			out_str(pr->w, s);
			s += strlen(s) + 1;
		}
	}
	ret = 0;
out:
	for (i = 0; pr->text && i < pr->n; i++)
		FREE_AND_NULL(pr->text[i]);
	pr->n = 0;
	strbuf_reset(&pr->keys);
	free(rank);
	return ret;
}

static struct out_writer *open_writer(struct predictor *pr, int service, int fmt,
				      const char *keyname, char **keep)
{
	struct strbuf names = STRBUF_INIT;
	const char **cols;
	size_t n = 0, c, j;
	struct out_writer *w;
	size_t ncols =
	    (size_t)pr->with_key + 2 * pr->ntop + (pr->a->proba ? pr->m->k : 0) + pr->nkeep;
	cols = xcalloc(ncols + 1, sizeof(*cols));
	size_t *offs = xcalloc(ncols + 1, sizeof(*offs));
	if (pr->with_key) {
		offs[n++] = names.len;
		strbuf_adds(&names, keyname);
		strbuf_addch(&names, '\0');
	}
	for (j = 0; j < pr->ntop; j++) {
		offs[n++] = names.len;
		if (j)
			strbuf_addf(&names, "label_%zu", j + 1);
		else
			strbuf_adds(&names, "label");
		strbuf_addch(&names, '\0');
		offs[n++] = names.len;
		if (j)
			strbuf_addf(&names, "probability_%zu", j + 1);
		else
			strbuf_adds(&names, "probability");
		strbuf_addch(&names, '\0');
	}
	if (pr->a->proba)
		for (c = 0; c < pr->m->k; c++) {
			offs[n++] = names.len;
			strbuf_addf(&names, "p_%s", pr->m->classes[c]);
			strbuf_addch(&names, '\0');
		}
	for (j = 0; keep && j < pr->nkeep; j++) {
		offs[n++] = names.len;
		strbuf_adds(&names, keep[j]);
		strbuf_addch(&names, '\0');
	}
	for (j = 0; j < n; j++)
		cols[j] = names.buf + offs[j];
	w = out_new(stdout, service ? OUT_JSON : (enum out_format)fmt, n, cols,
		    service ? "predictions" : NULL);
	free(cols);
	free(offs);
	strbuf_release(&names);
	return w;
}

static int parse_input_opts(const struct predict_args *a, struct rec_opts *ro)
{
	memset(ro, 0, sizeof(*ro));
	if (a->input_format) {
		if (!strcmp(a->input_format, "csv"))
			ro->format = REC_CSV;
		else if (!strcmp(a->input_format, "json"))
			ro->format = REC_JSON;
		else if (!strcmp(a->input_format, "ndjson"))
			ro->format = REC_NDJSON;
		else
			return usage_error(
			    "option --input-format: expected csv, json or ndjson, got "
			    "\"%s\"",
			    a->input_format);
	}
	if (a->delimiter) {
		if (!strcmp(a->delimiter, "\\t") || !strcmp(a->delimiter, "tab"))
			ro->delimiter = '\t';
		else if (strlen(a->delimiter) == 1)
			ro->delimiter = a->delimiter[0];
		else
			return usage_error("option --delimiter: expected one character, got \"%s\"",
					   a->delimiter);
	}
	return 0;
}

/* Predicts every record of every input. */
static int predict_inputs(struct predictor *pr, char **inputs, size_t ninputs,
			  const struct rec_opts *ro, int fmt, struct err *e)
{
	static char *stdin_input[] = {(char *)"-"};
	const struct model *m = pr->m;
	const struct predict_args *a = pr->a;
	struct strv keep;
	long *cols = xmallocarray(m->d, sizeof(long)), key_col = -1;
	long *keep_cols = NULL;
	size_t f, i, row = 0;
	struct rec_reader *r = NULL;
	int ret = -1, got, interactive = 0;
	/* A model that repairs invalid UTF-8 (its invalid_utf8 hyperparameter) gets it repaired;
	 * otherwise the error names file, line and column, which the model cannot. */
	const struct param_spec *ps = params_find(m->params.spec, "invalid_utf8");
	int repair_utf8 = ps && params_choice(&m->params, "invalid_utf8") == 1;

	strv_init(&keep);
	strv_split(&keep, a->keep, ',');
	pr->nkeep = keep.n;
	keep_cols = xcalloc(pr->nkeep + 1, sizeof(long));
	if (!ninputs) {
		inputs = stdin_input;
		ninputs = 1;
	}
	for (size_t in = 0; in < ninputs; in++) {
		if (rec_open(&r, inputs[in], ro, e) < 0)
			goto out;
		if (m->kind->input == INPUT_TEXT) {
			const char *tc = a->text_column ? a->text_column : m->features[0];
			cols[0] = rec_colindex(r, tc);
			if (cols[0] < 0) {
				err_set(e, DYN_EDATA, "%s: no text column \"%s\"", rec_name(r), tc);
				goto out;
			}
		} else if (rec_positional(r)) {
			size_t have = rec_ncols(r) - (rec_colindex(r, "y") >= 0);
			if (have != m->d) {
				err_set(e, DYN_EDATA,
					"%s: rows have %zu values, the model takes %zu features",
					rec_name(r), have, m->d);
				goto out;
			}
			for (f = 0; f < m->d; f++)
				cols[f] = (long)f;
		} else {
			for (f = 0; f < m->d; f++) {
				cols[f] = rec_colindex(r, m->features[f]);
				if (cols[f] < 0) {
					err_set(e, DYN_EDATA, "%s: missing feature column \"%s\"",
						rec_name(r), m->features[f]);
					goto out;
				}
			}
		}
		if (a->key) {
			key_col = rec_colindex(r, a->key);
			if (key_col < 0) {
				err_set(e, DYN_EDATA, "%s: no key column \"%s\"", rec_name(r),
					a->key);
				goto out;
			}
		}
		for (i = 0; i < pr->nkeep; i++) {
			keep_cols[i] = rec_colindex(r, keep.v[i]);
			if (keep_cols[i] < 0) {
				err_set(e, DYN_EDATA, "%s: no column \"%s\" to keep", rec_name(r),
					keep.v[i]);
				goto out;
			}
		}
		if (in == 0) {
			/* The services answered {"predictions": [{"label", "probability"}]}, no
			 * key. */
			pr->service = rec_service_shape(r) && !global.format;
			if (pr->service)
				pr->with_key = 0;
			pr->fmt = fmt;
			pr->keyname = a->key ? a->key : "row";
			pr->keep_names = keep.v;
			interactive = ninputs == 1 && !strcmp(inputs[0], "-") && !stdin_is_file();
			pr->interactive = interactive;
		}
		for (;;) {
			/* Rows typed or trickling into a pipe are answered as they come: when the
			 * input has nothing more at hand, the rows so far go out (checked at 1,
			 * 2, 4... rows of a batch, so a fast pipe pays a dozen polls per batch). */
			if (interactive && pr->n && !(pr->n & (pr->n - 1)) && input_stalled() &&
			    flush_batch(pr, e) < 0)
				goto out;
			if ((got = rec_next(r, e)) <= 0)
				break;
			size_t n = pr->n, len;
			row++;
			pr->key_off[n] = pr->keys.len;
			pr->rownum[n] = row;
			if (pr->with_key) {
				if (a->key) {
					const char *s = rec_field(r, (size_t)key_col, &len);
					strbuf_add(&pr->keys, s ? s : "", s ? len : 0);
				}
				strbuf_addch(&pr->keys, '\0');
			}
			for (i = 0; i < pr->nkeep; i++) {
				const char *s = rec_field(r, (size_t)keep_cols[i], &len);
				strbuf_add(&pr->keys, s ? s : "", s ? len : 0);
				strbuf_addch(&pr->keys, '\0');
			}
			if (m->kind->input == INPUT_TEXT) {
				const char *s = rec_field(r, (size_t)cols[0], &len);
				size_t bad = s ? text_utf8_bad_offset(s, len) : 0;
				if (bad && !repair_utf8) {
					err_set(e, DYN_EDATA,
						"%s:%zu: column \"%s\": invalid UTF-8 at byte %zu",
						rec_name(r), rec_line(r),
						rec_colname(r, (size_t)cols[0]), bad);
					goto out;
				}
				if (bad) {
					struct strbuf fixed = STRBUF_INIT;
					text_utf8_repair(s, len, &fixed);
					pr->text[n] = strbuf_detach(&fixed, NULL);
				} else {
					pr->text[n] = xstrndup(s ? s : "", s ? len : 0);
				}
			} else {
				for (f = 0; f < m->d; f++)
					if (rec_number(r, (size_t)cols[f], &pr->X[n * m->d + f],
						       e) < 0)
						goto out;
			}
			if (++pr->n == BATCH && flush_batch(pr, e) < 0)
				goto out;
		}
		if (got < 0)
			goto out;
		rec_free(&r);
	}
	if (flush_batch(pr, e) < 0)
		goto out;
	ret = 0;
out:
	rec_free(&r);
	free(cols);
	free(keep_cols);
	strv_release(&keep);
	return ret;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_args a;
	struct predictor pr;
	struct store *store = NULL;
	struct model *m = NULL;
	struct rec_opts ro;
	struct err e = ERR_INIT;
	int rc = 0, n, fmt;
	const struct opt opts[] = {
	    OPT_BOOL_(0, "proba", &a.proba, "add a probability column per class"),
	    OPT_LONG_(0, "top", &a.top, "K", "the K most probable classes (default 1)"),
	    OPT_STRING_(0, "key", &a.key, "COL",
			"identify rows by this column (default: row number)"),
	    OPT_STRING_(0, "keep", &a.keep, "COLS", "copy these input columns to the output"),
	    OPT_STRING_(0, "text", &a.text, "TEXT", "predict one literal text (text models)"),
	    OPT_STRING_(0, "text-column", &a.text_column, "COL",
			"text column (default: the one the model was trained on)"),
	    OPT_STRING_(0, "input-format", &a.input_format, "FMT", "csv, json or ndjson"),
	    OPT_STRING_(0, "delimiter", &a.delimiter, "C", "CSV field delimiter"),
	    OPT_END_(),
	};

	memset(&a, 0, sizeof(a));
	memset(&pr, 0, sizeof(pr));
	a.top = 1;
	n = parse_cmd_options(argc, argv, opts, predict_usage, &rc);
	if (n < 0)
		return rc;
	if (n < 1)
		return usage_error("predict: which model? (usage: %s)", predict_usage);
	if ((rc = parse_input_opts(&a, &ro)))
		return rc;
	fmt = output_format(0);
	if (store_open(&store, store_path(), &e) < 0 ||
	    model_from_store(store, argv[0], &m, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.top < 1 || (size_t)a.top > m->k) {
		rc = usage_error("option --top: expected an integer from 1 to %zu (the classes of "
				 "\"%s\"), got %ld",
				 m->k, argv[0], a.top);
		goto out;
	}
	pr.m = m;
	pr.a = &a;
	pr.ntop = (size_t)a.top;
	strbuf_init(&pr.keys);
	if (a.text) {
		if (m->kind->input != INPUT_TEXT) {
			rc = usage_error(
			    "--text: model \"%s\" is a %s model; --text needs a text model",
			    argv[0], m->kind->name);
			goto out;
		}
		if (n > 1) {
			rc = usage_error("--text: no input files are read with --text");
			goto out;
		}
		/* One literal text: a batch of one row without a key column. */
		pr.w = open_writer(&pr, 0, fmt, "", NULL);
		pr.text = xcalloc(1, sizeof(char *));
		pr.text[0] = xstrdup(a.text);
		pr.key_off = xcalloc(1, sizeof(size_t));
		pr.rownum = xcalloc(1, sizeof(size_t));
		pr.proba = xmallocarray(m->k, sizeof(double));
		pr.n = 1;
		if (flush_batch(&pr, &e) < 0) {
			rc = report_err(&e);
			goto out;
		}
	} else {
		pr.with_key = 1;
		if (m->kind->input == INPUT_TEXT)
			pr.text = xcalloc(BATCH, sizeof(char *));
		else
			pr.X = xmallocarray(BATCH, m->d * sizeof(double));
		pr.proba = xmallocarray(BATCH, m->k * sizeof(double));
		pr.key_off = xmallocarray(BATCH, sizeof(size_t));
		pr.rownum = xmallocarray(BATCH, sizeof(size_t));
		if (predict_inputs(&pr, argv + 1, (size_t)(n - 1), &ro, fmt, &e) < 0) {
			rc = report_err(&e);
			if (pr.w)
				out_finish(&pr.w, &e);
			goto out;
		}
	}
	if (pr.w && out_finish(&pr.w, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	rc = finish_stdout(0);
out:
	if (pr.w)
		out_finish(&pr.w, &e);
	free(pr.X);
	free(pr.text);
	free(pr.proba);
	free(pr.key_off);
	free(pr.rownum);
	strbuf_release(&pr.keys);
	model_free(&m);
	store_free(&store);
	return rc;
}
