/* dyn predict MODEL [INPUT...]: stream inputs through a stored model, one result per input, in
 * constant memory: lib/ decodes them for the model's input kind a batch at a time; the columns
 * written follow the kind's output. */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "base/strv.h"
#include "io/output.h"
#include "models/input.h"
#include "models/stored.h"
#include "store/store.h"
#include "ocr/match.h"
#include "vision/draw.h"
#include "vision/video.h"

#define BATCH 2048

static int stdin_is_file(void)
{
	struct stat st;
	return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

struct predict_args {
	int proba, by_position;
	long top, row_offset;
	const char *key, *keep, *text, *text_column, *input_format, *delimiter;
	const char *card_col, *position_col, *load_col, *render, *match, *confirm;
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
	struct input_reader *in;
	struct out_writer *w;
	size_t ntop, nkeep;
	bool with_key;
	double *proba;
	size_t *rank;
	/* the writer, opened once the first batch is predicted (open_writer's arguments) */
	bool service, interactive;
	int fmt;
	char *const *keep;
	/* inputs the model had nothing to go on for (a text of unknown words or only
	 * punctuation): their number and the first few, for the note at the end */
	size_t nblank;
	struct strbuf blank;
	/* keypoints: frames of several videos or of pictures, told by a file column; the most
	 * animals a frame (more than one: an instance column) */
	bool sources;
	size_t ninst;
	struct vid_writer *render; /* --render: opened at the first frame */
	struct img canvas;
	/* OUTPUT_TEXT: the batch's answers; with --match, the orders and one input's matches */
	struct text_answer *answers;
	struct ocr_orders *orders;
	struct ocr_match *matches;
	/* --confirm: the photo read (a copy) and its name, kept once the input is read whole */
	size_t nphotos;
	struct img photo;
	struct strbuf photo_name;
};

/* A text model's rows: file, text, confidence, lines; with --match a row a matching order
 * (up to --top), rank and its columns and score, or one row with them empty when no order is
 * close enough. */
static int write_texts(struct predictor *pr, const struct batch *b, struct err *e)
{
	size_t num;
	for (size_t i = 0; i < b->n; i++) {
		const struct text_answer *a = &pr->answers[i];
		const char *key = input_key(pr->in, i, &num);
		size_t nm = 0, r;
		struct ocr_match_opts mo;
		memset(&mo, 0, sizeof(mo));
		mo.top_k = pr->ntop;
		/* every line read may be the marking: the best rows any of them finds */
		if (pr->orders && a->lines.n &&
		    ocr_orders_match_lines(pr->orders, (const char *const *)a->lines.v, a->lines.n,
					   &mo, pr->matches, &nm, e) < 0)
			return -1;
		for (r = 0; r < (pr->orders && nm ? nm : 1); r++) {
			out_str(pr->w, key ? key : "");
			out_str(pr->w, a->text.buf);
			if (a->text.len)
				out_num(pr->w, round(a->confidence * 1000) / 1000);
			else
				out_null(pr->w);
			out_str(pr->w, a->where.len ? a->where.buf : "[]");
			if (!pr->orders)
				continue;
			if (!nm) {
				for (int c = 0; c < OCR_NCOLS + 2; c++)
					out_null(pr->w);
				continue;
			}
			out_int(pr->w, (long long)r + 1);
			for (int c = 0; c < OCR_NCOLS; c++)
				out_str(pr->w,
					ocr_orders_row(pr->orders, pr->matches[r].row)->f[c]);
			out_num(pr->w, round(pr->matches[r].score * 1000) / 1000);
		}
	}
	return 0;
}

/* --render: each frame of the batch with its pose drawn, into the video or folder. */
static int render_batch(struct predictor *pr, const struct batch *b, struct err *e)
{
	const struct model *m = pr->m;
	const struct pose_skeleton *sk = m->kind->skeleton(m);
	float *x = xmallocarray(m->k, 3 * sizeof(float)), *y = x + m->k;
	int ret = -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct img *f = &b->frames[i];
		if (!pr->render && vid_writer_open(&pr->render, pr->a->render, f->w, f->h,
						   input_fps(pr->in, i), e) < 0)
			goto out;
		img_release(&pr->canvas);
		pr->canvas.w = f->w;
		pr->canvas.h = f->h;
		pr->canvas.channels = f->channels;
		pr->canvas.px = xmallocarray(f->w * f->h, (size_t)f->channels);
		memcpy(pr->canvas.px, f->px, f->w * f->h * (size_t)f->channels);
		draw_to_rgb(&pr->canvas);
		for (size_t q = 0; q < pr->ninst; q++) {
			for (size_t nd = 0; nd < m->k; nd++) {
				const double *v = pr->proba + ((i * pr->ninst + q) * m->k + nd) * 3;
				x[nd] = (float)v[0];
				y[nd] = (float)v[1];
			}
			/* the nodes predict gave positions to: found above the model's threshold
			 * (an animal not found has none) */
			pose_draw(&pr->canvas, sk, x, y, NULL, 0, NULL);
		}
		if (vid_writer_put(pr->render, &pr->canvas, e) < 0) {
			size_t num;
			const char *src = input_source(pr->in, i);
			input_key(pr->in, i, &num);
			err_prefix(e, "--render: frame %zu%s%s", num, src ? " of " : "",
				   src ? src : "");
			goto out;
		}
	}
	ret = 0;
out:
	free(x);
	return ret;
}

/* A keypoint model's rows: one a frame and node, or with several animals a frame, one a frame,
 * animal found and node (none for a frame without any). */
static void write_keypoints(struct predictor *pr, const struct batch *b)
{
	const struct model *m = pr->m;
	size_t num;
	for (size_t i = 0; i < b->n; i++) {
		const char *src = input_source(pr->in, i);
		input_key(pr->in, i, &num);
		for (size_t r = 0; r < pr->ninst * m->k; r++) {
			const double *v = pr->proba + (i * pr->ninst * m->k + r) * 3;
			size_t nd = r % m->k;
			if (pr->ninst > 1 && isnan(v[2]))
				continue; /* a slot past the animals found */
			if (pr->sources)
				out_str(pr->w, src ? src : "");
			out_int(pr->w, (long long)num);
			if (pr->ninst > 1)
				out_int(pr->w, (long long)(r / m->k));
			out_str(pr->w, m->classes[nd]);
			for (int c = 0; c < 2; c++) {
				if (isnan(v[c]))
					out_null(pr->w);
				else
					out_num(pr->w, round(v[c] * 100) / 100);
			}
			out_num(pr->w, round(v[2] * 1000) / 1000);
		}
	}
}

/* The output columns but the kept ones: the key, then per OUTPUT_CLASSES label and probability
 * (and their --top K-th pairs), a probability per class with --proba. */
static void result_names(const struct predictor *pr, struct strv *names)
{
	const struct model *m = pr->m;
	char buf[64];
	if (m->kind->output == OUTPUT_TEXT) {
		static const char *const cols[] = {"file", "text", "confidence", "lines"};
		static const char *const mcols[] = {"rank",  "article", "serial", "name",
						    "order", "station", "score"};
		for (size_t j = 0; j < ARRAY_SIZE(cols); j++)
			strv_push(names, cols[j], strlen(cols[j]));
		for (size_t j = 0; pr->a->match && j < ARRAY_SIZE(mcols); j++)
			strv_push(names, mcols[j], strlen(mcols[j]));
		return;
	}
	if (m->kind->output == OUTPUT_KEYPOINTS) {
		static const char *const cols[] = {"frame", "instance", "node", "x", "y", "score"};
		if (pr->sources)
			strv_push(names, "file", 4);
		for (size_t j = 0; j < ARRAY_SIZE(cols); j++)
			if (j != 1 || pr->ninst > 1)
				strv_push(names, cols[j], strlen(cols[j]));
		return;
	}
	if (pr->with_key) {
		const char *k = input_key_name(pr->in);
		strv_push(names, k, strlen(k));
	}
	for (size_t j = 0; j < pr->ntop; j++) {
		if (j)
			snprintf(buf, sizeof(buf), "label_%zu", j + 1);
		strv_push(names, j ? buf : "label", strlen(j ? buf : "label"));
		if (j)
			snprintf(buf, sizeof(buf), "probability_%zu", j + 1);
		strv_push(names, j ? buf : "probability", strlen(j ? buf : "probability"));
	}
	if (pr->a->proba)
		for (size_t c = 0; c < m->k; c++) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addf(&sb, "p_%s", m->classes[c]);
			strv_push(names, sb.buf, sb.len);
			strbuf_release(&sb);
		}
}

/* The columns: result_names, then the kept columns. */
static struct out_writer *open_writer(struct predictor *pr, bool service, int fmt,
				      char *const *keep)
{
	struct strv names;
	struct out_writer *w;
	strv_init(&names);
	result_names(pr, &names);
	for (size_t j = 0; j < pr->nkeep; j++)
		strv_push(&names, keep[j], strlen(keep[j]));
	w = out_new(stdout, service ? OUT_JSON : (enum out_format)fmt, names.n,
		    (const char *const *)names.v, service ? "predictions" : NULL);
	strv_release(&names);
	return w;
}

/* A kept column named like a result column (or kept twice) would give the output two columns
 * or keys of that name: refused, naming it. */
static int check_keep(const struct predictor *pr, char *const *keep)
{
	struct strv names;
	int rc = 0;
	strv_init(&names);
	result_names(pr, &names);
	for (size_t j = 0; j < pr->nkeep && !rc; j++) {
		for (size_t i = 0; i < names.n && !rc; i++)
			if (!strcmp(keep[j], names.v[i]))
				rc = usage_error(
				    "option --keep: column \"%s\" has the name of a result "
				    "column (rename it in the input, or do not keep it)",
				    keep[j]);
		for (size_t i = 0; i < j && !rc; i++)
			if (!strcmp(keep[j], keep[i]))
				rc = usage_error("option --keep: column \"%s\" given twice",
						 keep[j]);
	}
	strv_release(&names);
	return rc;
}

/* Predicts the current batch and writes its rows. */
static int write_batch(struct predictor *pr, struct err *e)
{
	const struct batch *b = input_batch(pr->in);
	const struct model *m = pr->m;
	size_t i, c, j, k = m->k, num;

	if (m->kind->output == OUTPUT_TEXT) {
		/* the writer after the first batch is read, as below */
		if (m->kind->read(m, b, pr->answers, e) < 0)
			return -1;
		if (pr->a->confirm) {
			size_t pnum;
			const char *key = b->n ? input_key(pr->in, 0, &pnum) : NULL;
			const struct img *f = b->n ? &b->frames[0] : NULL;
			pr->nphotos += b->n;
			if (pr->nphotos > 1)
				return err_set(
				    e, DYN_EUSAGE,
				    "--confirm: the input holds several photos; confirm one "
				    "photo at a time (the text is that photo's)");
			if (f) {
				img_release(&pr->photo);
				pr->photo.w = f->w, pr->photo.h = f->h;
				pr->photo.channels = f->channels;
				pr->photo.px = xmallocarray(f->w * f->h, (size_t)f->channels);
				memcpy(pr->photo.px, f->px, f->w * f->h * (size_t)f->channels);
				strbuf_reset(&pr->photo_name);
				strbuf_adds(&pr->photo_name, key ? key : "-");
			}
		}
		if (!pr->w) {
			pr->w = open_writer(pr, false, pr->fmt, pr->keep);
			out_set_linebuffered(pr->w, pr->interactive && pr->fmt != OUT_TABLE);
		}
		return write_texts(pr, b, e);
	}
	if (m->kind->predict(m, b, pr->proba, e) < 0)
		return -1;
	/* A kind gives NaN probabilities for an input it cannot place (a text none of whose
	 * words the model knows): one literal text is an error, rows of a file get an empty
	 * label, said on stderr at the end; never the classes' prior passed off as an answer. */
	if (pr->a->text && b->n && isnan(pr->proba[0]))
		return err_set(e, DYN_EDATA,
			       "--text: no letter, digit or word the model knows: nothing to "
			       "classify");
	/* Opened after the first batch is predicted, so that an error in it (a row the model
	 * cannot read, text that is not UTF-8) prints nothing, not even a header. */
	if (!pr->w) {
		pr->sources = b->n && input_source(pr->in, 0);
		pr->w = open_writer(pr, pr->service, pr->fmt, pr->keep);
		out_set_linebuffered(pr->w, pr->interactive && pr->fmt != OUT_TABLE);
	}
	if (m->kind->output == OUTPUT_KEYPOINTS) {
		write_keypoints(pr, b);
		return pr->a->render ? render_batch(pr, b, e) : 0;
	}
	for (i = 0; i < b->n; i++) {
		const double *p = pr->proba + i * k;
		const char *key = input_key(pr->in, i, &num);
		bool blank = k && isnan(p[0]);
		if (pr->with_key) {
			if (key)
				out_str(pr->w, key);
			else
				out_int(pr->w, (long long)num);
		}
		if (blank) {
			if (pr->nblank < 5) {
				if (key)
					strbuf_addf(&pr->blank, "%s\"%s\"", pr->nblank ? ", " : "",
						    key);
				else
					strbuf_addf(&pr->blank, "%s%zu", pr->nblank ? ", " : "",
						    num);
			} else if (pr->nblank == 5) {
				strbuf_adds(&pr->blank, ", ...");
			}
			pr->nblank++;
			for (j = 0; j < 2 * pr->ntop + (pr->a->proba ? k : 0); j++)
				out_null(pr->w);
			for (j = 0; j < pr->nkeep; j++)
				out_str(pr->w, input_kept(pr->in, i, j));
			continue;
		}
		/* Partial selection of the ntop most probable classes (ties: lower index first). */
		for (c = 0; c < k; c++)
			pr->rank[c] = c;
		for (j = 0; j < pr->ntop; j++) {
			size_t best = j, t;
			for (c = j + 1; c < k; c++)
				if (p[pr->rank[c]] > p[pr->rank[best]])
					best = c;
			t = pr->rank[j];
			pr->rank[j] = pr->rank[best];
			pr->rank[best] = t;
			put_label(pr->w, m->classes[pr->rank[j]]);
			out_num(pr->w, p[pr->rank[j]]);
		}
		if (pr->a->proba)
			for (c = 0; c < k; c++)
				out_num(pr->w, p[c]);
		for (j = 0; j < pr->nkeep; j++)
			out_str(pr->w, input_kept(pr->in, i, j));
	}
	return 0;
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
		struct err e = ERR_INIT;
		if (rec_parse_delimiter(a->delimiter, &ro->delimiter, &e) < 0)
			return report_err(&e);
	}
	return 0;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_args a;
	struct predictor pr;
	struct store *store = NULL;
	struct model *m = NULL;
	struct input_opts io;
	struct strv keep;
	struct err e = ERR_INIT;
	int rc = 0, n, fmt;
	long got;
	bool service;
	const struct opt opts[] = {
	    OPT_BOOL_(0, "proba", &a.proba, "add a probability column per class"),
	    OPT_LONG_(0, "top", &a.top, "K", "the K most probable classes (default 1)", 1, 1000000),
	    OPT_STRING_(0, "key", &a.key, "COL",
			"identify rows by this column (default: row number)"),
	    OPT_LONG_(0, "row-offset", &a.row_offset, "N",
		      "number rows from N + 1 (a shard of a larger input)", 0, 1e15),
	    OPT_STRING_(0, "keep", &a.keep, "COLS", "copy these input columns to the output"),
	    OPT_BOOL_(0, "by-position", &a.by_position,
		      "features are the columns in order (besides --key and --keep), not by name"),
	    OPT_STRING_(0, "text", &a.text, "TEXT", "predict one literal text (text models)"),
	    OPT_STRING_(0, "text-column", &a.text_column, "COL",
			"text column (default: the one the model was trained on)"),
	    OPT_STRING_(0, "card-column", &a.card_col, "COL",
			"cards: the card id column of a many-card CSV (default: card)"),
	    OPT_STRING_(0, "position-column", &a.position_col, "COL",
			"cards: the position column (default: position, else x)"),
	    OPT_STRING_(0, "load-column", &a.load_col, "COL",
			"cards: the load column (default: load, else y)"),
	    OPT_STRING_(0, "match", &a.match, "ORDERS",
			"ocr: the orders table (CSV or XLSX) to find each reading in; --top K "
			"matches"),
	    OPT_STRING_(
		0, "confirm", &a.confirm, "TEXT",
		"ocr: what the one photo's marking says: its line is kept in the store as a "
		"labeled sample (dyn fit ocr --confirmed)"),
	    OPT_STRING_(0, "render", &a.render, "OUT.mp4|DIR",
			"keypoints: also draw the poses on the frames, into a video or a folder of "
			"PNG frames"),
	    OPT_STRING_(0, "input-format", &a.input_format, "FMT", "csv, json or ndjson"),
	    OPT_STRING_(0, "delimiter", &a.delimiter, "C", "CSV field delimiter"),
	    OPT_END_(),
	};

	memset(&a, 0, sizeof(a));
	memset(&pr, 0, sizeof(pr));
	img_init(&pr.photo);
	strbuf_init(&pr.photo_name);
	memset(&io, 0, sizeof(io));
	strv_init(&keep);
	a.top = 1;
	n = parse_cmd_options(argc, argv, opts, predict_usage, &rc);
	if (n < 0)
		return rc;
	if (n < 1)
		return usage_error("predict: which model? (usage: %s)", predict_usage);
	if ((rc = parse_input_opts(&a, &io.rec)))
		return rc;
	if (a.text && n > 1)
		return usage_error("--text: no input files are read with --text");
	fmt = output_format(0);
	if (store_open_existing(&store, store_path(), &e) < 0 ||
	    model_from_store(store, argv[0], &m, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (m->kind->output == OUTPUT_KEYPOINTS && (a.proba || a.top != 1)) {
		rc = usage_error("%s: model \"%s\" gives keypoints, not classes",
				 a.proba ? "--proba" : "--top", argv[0]);
		goto out;
	}
	if (a.match && m->kind->output != OUTPUT_TEXT) {
		rc = usage_error("--match: model \"%s\" reads no text to match", argv[0]);
		goto out;
	}
	if (m->kind->output == OUTPUT_TEXT && a.proba) {
		rc = usage_error("--proba: model \"%s\" reads text, not classes", argv[0]);
		goto out;
	}
	if (m->kind->output == OUTPUT_TEXT && a.top != 1 && !a.match) {
		rc = usage_error("--top: with an ocr model, the K best orders of --match");
		goto out;
	}
	if (a.confirm && !m->kind->confirm) {
		rc = usage_error("--confirm: model \"%s\" keeps no confirmed samples", argv[0]);
		goto out;
	}
	if (a.confirm && n != 2) {
		rc =
		    usage_error("--confirm: one photo at a time (the text is that photo's), not %s",
				n > 2 ? "several" : "standard input");
		goto out;
	}
	/* the text is checked against the model before any photo is read */
	if (a.confirm &&
	    m->kind->confirm(m, argv[0], store_dir(store), NULL, NULL, a.confirm, NULL, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.match && ocr_orders_load(&pr.orders, a.match, NULL, &e) < 0) {
		rc = report_err(&e);
		goto out;
	}
	if (a.render && !strcmp(a.render, "-")) {
		rc = usage_error("--render: standard output has the rows; name a file or folder");
		goto out;
	}
	if (a.render && m->kind->output != OUTPUT_KEYPOINTS) {
		rc = usage_error("--render: model \"%s\" gives no keypoints to draw", argv[0]);
		goto out;
	}
	if (a.top < 1 || (m->kind->output != OUTPUT_TEXT && (size_t)a.top > m->k)) {
		rc = usage_error("option --top: expected an integer from 1 to %zu (the classes of "
				 "\"%s\"), got %ld",
				 m->k, argv[0], a.top);
		goto out;
	}
	strv_split(&keep, a.keep, ',');
	io.key = a.key;
	io.by_position = a.by_position;
	io.row_offset = (size_t)a.row_offset;
	io.keep = (const char *const *)keep.v;
	io.nkeep = keep.n;
	io.text_column = a.text_column;
	io.cards.card_col = a.card_col;
	io.cards.x_col = a.position_col;
	io.cards.y_col = a.load_col;
	io.interactive = n == 1 && !stdin_is_file();
	io.frames_native = a.render != NULL;
	if (a.text) {
		if (input_open_text(&pr.in, m, argv[0], a.text, &e) < 0) {
			rc = report_err(&e);
			goto out;
		}
	} else if (input_open(&pr.in, m, (const char *const *)argv + 1, (size_t)(n - 1), &io, &e) <
		   0) {
		rc = report_err(&e);
		goto out;
	}
	pr.m = m;
	pr.a = &a;
	pr.ntop = (size_t)a.top;
	pr.nkeep = a.text ? 0 : keep.n;
	service = input_service_shape(pr.in) && !global.format;
	pr.with_key = !a.text && !service;
	pr.ninst = m->kind->instances ? m->kind->instances(m) : 1;
	/* frames come INPUT_MAX_FRAMES a batch */
	pr.proba = xmallocarray(pr.ninst > 1 ? INPUT_MAX_FRAMES * pr.ninst : BATCH,
				(m->k ? m->k : 1) * 3 * sizeof(double));
	if (m->kind->output == OUTPUT_TEXT) {
		pr.answers = xcalloc(INPUT_MAX_FRAMES, sizeof(*pr.answers));
		for (size_t i = 0; i < INPUT_MAX_FRAMES; i++)
			text_answer_init(&pr.answers[i]);
		pr.matches = xcalloc((size_t)a.top, sizeof(*pr.matches));
	}
	pr.rank = xmallocarray(m->k, sizeof(size_t));
	if ((rc = check_keep(&pr, keep.v)))
		goto out;
	pr.service = service;
	pr.fmt = fmt;
	pr.keep = keep.v;
	pr.interactive = io.interactive;
	while ((got = input_next(pr.in, BATCH, &e)) > 0)
		if (write_batch(&pr, &e) < 0)
			break;
	/* no rows at all: the header (or the empty document) still */
	if (got == 0 && !e.code && !pr.w)
		pr.w = open_writer(&pr, service, fmt, keep.v);
	if (got < 0 || e.code) {
		rc = report_err(&e);
		if (pr.w)
			out_finish(&pr.w, &e);
		goto out;
	}
	if (out_finish(&pr.w, &e) < 0 || (pr.render && vid_writer_close(&pr.render, &e) < 0)) {
		rc = report_err(&e);
		goto out;
	}
	if (a.confirm) {
		/* after the rows: the reading is shown even when keeping the sample fails */
		struct strbuf note = STRBUF_INIT;
		int cr = pr.nphotos == 1 ? m->kind->confirm(m, argv[0], store_dir(store), &pr.photo,
							    pr.photo_name.buf, a.confirm, &note, &e)
					 : err_set(&e, DYN_EDATA, "--confirm: no photo was read");
		if (cr == 0)
			summary("%s", note.buf);
		strbuf_release(&note);
		if (cr < 0) {
			rc = report_err(&e);
			goto out;
		}
	}
	if (pr.nblank == 1 && !global.quiet)
		fprintf(
		    stderr,
		    "dyn: input %s has no letter, digit or word the model knows: its label is left "
		    "empty\n",
		    pr.blank.buf);
	else if (pr.nblank && !global.quiet)
		fprintf(stderr,
			"dyn: %zu inputs (%s) have no letter, digit or word the model knows: their "
			"labels are left empty\n",
			pr.nblank, pr.blank.buf);
	rc = finish_stdout(0);
out:
	if (pr.w)
		out_finish(&pr.w, &e);
	vid_writer_free(&pr.render);
	img_release(&pr.canvas);
	img_release(&pr.photo);
	strbuf_release(&pr.photo_name);
	for (size_t i = 0; pr.answers && i < INPUT_MAX_FRAMES; i++)
		text_answer_release(&pr.answers[i]);
	free(pr.answers);
	free(pr.matches);
	ocr_orders_free(&pr.orders);
	strbuf_release(&pr.blank);
	input_free(&pr.in);
	free(pr.proba);
	free(pr.rank);
	strv_release(&keep);
	model_free(&m);
	store_free(&store);
	return rc;
}
