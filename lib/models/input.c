/* Inputs for predict (see input.h): the records of each input matched to the model's
 * features or text column, a batch at a time. */
#include <poll.h>
#include <unistd.h>

#include "base/base.h"
#include "cards/read.h"
#include "models/input.h"
#include "text/text.h"
#include "vision/frames.h"

struct input_reader {
	const struct model *m;
	const char *const *paths;
	size_t npaths, in; /* the input being read */
	struct input_opts o;
	struct rec_reader *r;	 /* open on paths[in], or NULL */
	struct card_reader *cr;	 /* INPUT_CARD: all the paths */
	struct card *cards;	 /* INPUT_CARD: the batch's */
	struct frame_reader *fr; /* INPUT_POSE and INPUT_PHOTO: all the paths */
	struct img *frames;	 /* their batch's, with their sizes at the source */
	size_t *frame_w, *frame_h;
	double *fps;
	long *cols, key_col, *keep_cols;
	bool service, repair_utf8;
	const char *literal; /* input_open_text */
	size_t row;	     /* inputs so far, across the files */
	/* the batch */
	size_t cap, n;
	double *X;
	char **text;
	struct batch b;
	struct strbuf keys; /* key and kept fields of each input, NUL-separated */
	size_t *key_off;    /* per input: offset of its first string in keys */
	size_t *rownum;	    /* per input: its 1-based number */
};

static const char *const stdin_path[] = {"-"};

/* Matches the columns of the input just opened to the model. */
static int input_columns(struct input_reader *ir, struct err *e)
{
	const struct model *m = ir->m;
	struct rec_reader *r = ir->r;
	size_t f, i;

	if (m->kind->input == INPUT_TEXT) {
		const char *tc = ir->o.text_column ? ir->o.text_column : m->features[0];
		ir->cols[0] = rec_colindex(r, tc);
		if (ir->cols[0] < 0)
			return err_set(e, DYN_EDATA, "%s: no text column \"%s\"", rec_name(r), tc);
	} else if (ir->o.by_position && !rec_positional(r)) {
		size_t have = 0, nc = rec_ncols(r);
		f = 0;
		for (i = 0; i < nc; i++) {
			bool other = ir->o.key && !strcmp(rec_colname(r, i), ir->o.key);
			for (size_t j = 0; j < ir->o.nkeep && !other; j++)
				other = !strcmp(rec_colname(r, i), ir->o.keep[j]);
			if (other)
				continue;
			if (f < m->d)
				ir->cols[f++] = (long)i;
			have++;
		}
		if (have != m->d)
			return err_set(
			    e, DYN_EDATA,
			    "%s: --by-position: %zu feature columns%s, the model takes %zu",
			    rec_name(r), have,
			    ir->o.key || ir->o.nkeep ? " besides the key and kept ones" : "", m->d);
	} else if (rec_positional(r)) {
		size_t have = rec_ncols(r) - (rec_colindex(r, "y") >= 0);
		if (have != m->d)
			return err_set(e, DYN_EDATA,
				       "%s: rows have %zu values, the model takes %zu features",
				       rec_name(r), have, m->d);
		for (f = 0; f < m->d; f++)
			ir->cols[f] = (long)f;
	} else {
		/* all the missing columns at once (the first few named): fixing a file one
		 * column a run is slow */
		size_t missing = 0;
		struct strbuf names = STRBUF_INIT;
		for (f = 0; f < m->d; f++) {
			ir->cols[f] = rec_colindex(r, m->features[f]);
			if (ir->cols[f] < 0 && missing++ < 5)
				strbuf_addf(&names, "%s\"%s\"", missing > 1 ? ", " : "",
					    m->features[f]);
		}
		if (missing) {
			err_set(e, DYN_EDATA,
				"%s: missing feature column%s %s%s (%zu of the model's %zu)",
				rec_name(r), missing > 1 ? "s" : "", names.buf,
				missing > 5 ? ", ..." : "", missing, m->d);
			strbuf_release(&names);
			return -1;
		}
		strbuf_release(&names);
	}
	if (ir->o.key) {
		ir->key_col = rec_colindex(r, ir->o.key);
		if (ir->key_col < 0)
			return err_set(e, DYN_EDATA, "%s: no key column \"%s\"", rec_name(r),
				       ir->o.key);
	}
	for (i = 0; i < ir->o.nkeep; i++) {
		ir->keep_cols[i] = rec_colindex(r, ir->o.keep[i]);
		if (ir->keep_cols[i] < 0)
			return err_set(e, DYN_EDATA, "%s: no column \"%s\" to keep", rec_name(r),
				       ir->o.keep[i]);
	}
	return 0;
}

static int input_open_next(struct input_reader *ir, struct err *e)
{
	if (rec_open(&ir->r, ir->paths[ir->in], &ir->o.rec, e) < 0)
		return -1;
	return input_columns(ir, e);
}

int input_open(struct input_reader **out, const struct model *m, const char *const *paths,
	       size_t npaths, const struct input_opts *o, struct err *e)
{
	struct input_reader *ir = xcalloc(1, sizeof(*ir));
	/* A model that repairs invalid UTF-8 (its invalid_utf8 hyperparameter) gets it repaired;
	 * otherwise the error names file, line and column, which the model cannot. */
	const struct param_spec *ps = params_find(m->params.spec, "invalid_utf8");

	*out = NULL;
	ir->m = m;
	ir->o = *o;
	ir->row = o->row_offset;
	ir->paths = npaths ? paths : stdin_path;
	ir->npaths = npaths ? npaths : 1;
	ir->cols = xmallocarray(m->d ? m->d : 1, sizeof(long));
	ir->keep_cols = xcalloc(o->nkeep + 1, sizeof(long));
	ir->key_col = -1;
	ir->repair_utf8 = ps && params_choice(&m->params, "invalid_utf8") == 1;
	strbuf_init(&ir->keys);
	*out = ir;
	if (o->by_position && m->kind->input != INPUT_TABULAR) {
		input_free(out);
		return err_set(e, DYN_EUSAGE, "--by-position: the model reads %s, not rows",
			       m->kind->input == INPUT_TEXT ? "texts" : "cards");
	}
	if (m->kind->input == INPUT_POSE || m->kind->input == INPUT_PHOTO) {
		struct frame_opts fo;
		memset(&fo, 0, sizeof(fo));
		if (o->nkeep || o->key) {
			input_free(out);
			return err_set(e, DYN_EUSAGE, "%s: frames have no columns to %s",
				       o->key ? "--key" : "--keep", o->key ? "key on" : "keep");
		}
		m->kind->frame_size(m, 0, 0, &fo.width, &fo.height, &fo.channels);
		if (o->frames_native) {
			fo.width = fo.height = 0;
			fo.channels = 3;
		}
		if (frame_reader_open(&ir->fr, paths, npaths, &fo, e) < 0) {
			input_free(out);
			return -1;
		}
		return 0;
	}
	if (m->kind->input == INPUT_CARD) {
		if (o->nkeep || o->key) {
			input_free(out);
			return err_set(e, DYN_EUSAGE, "%s: cards have no columns to %s",
				       o->key ? "--key" : "--keep", o->key ? "key on" : "keep");
		}
		card_reader_open(&ir->cr, ir->paths, ir->npaths, &o->cards);
		return 0;
	}
	if (input_open_next(ir, e) < 0) {
		input_free(out);
		return -1;
	}
	/* The services answered {"predictions": [{"label", "probability"}]}, without a key. */
	ir->service = rec_service_shape(ir->r);
	return 0;
}

int input_open_text(struct input_reader **out, const struct model *m, const char *id,
		    const char *text, struct err *e)
{
	struct input_reader *ir;
	*out = NULL;
	if (m->kind->input != INPUT_TEXT)
		return err_set(e, DYN_EUSAGE,
			       "--text: model \"%s\" is a %s model; --text needs a text model", id,
			       m->kind->name);
	/* an empty text has no words: the model's answer would be its classes' prior, a guess */
	if (!text[strspn(text, " \t\r\n\v\f")])
		return err_set(e, DYN_EUSAGE,
			       "--text: the text is empty (nothing to predict from)");
	ir = xcalloc(1, sizeof(*ir));
	ir->m = m;
	ir->literal = text;
	strbuf_init(&ir->keys);
	*out = ir;
	return 0;
}

int input_predict_card(const struct model *m, const char *id, const struct card *c, double *proba,
		       struct err *e)
{
	struct batch b = {.n = 1, .cards = c};
	if (m->kind->input != INPUT_CARD || m->kind->output != OUTPUT_CLASSES)
		return err_set(e, DYN_EUSAGE, "model \"%s\" is a %s model, not one of cards", id,
			       m->kind->name);
	return m->kind->predict(m, &b, proba, e);
}

void input_free(struct input_reader **rp)
{
	struct input_reader *ir = *rp;
	size_t i;
	if (!ir)
		return;
	rec_free(&ir->r);
	card_reader_free(&ir->cr);
	for (i = 0; ir->cards && i < ir->cap; i++)
		card_release(&ir->cards[i]);
	free(ir->cards);
	frame_reader_free(&ir->fr);
	for (i = 0; ir->frames && i < ir->cap; i++)
		img_release(&ir->frames[i]);
	free(ir->frames);
	free(ir->frame_w);
	free(ir->frame_h);
	free(ir->fps);
	for (i = 0; ir->text && i < ir->n; i++)
		free(ir->text[i]);
	free(ir->text);
	free(ir->X);
	free(ir->cols);
	free(ir->keep_cols);
	free(ir->key_off);
	free(ir->rownum);
	strbuf_release(&ir->keys);
	free(ir);
	*rp = NULL;
}

/* True when standard input has nothing to read right now. */
static bool input_stalled(void)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

static void input_reserve(struct input_reader *ir, size_t max)
{
	if (max <= ir->cap)
		return;
	if (ir->m->kind->input == INPUT_TEXT) {
		ir->text = xrealloc(ir->text, max * sizeof(char *));
	} else if (ir->m->kind->input == INPUT_CARD) {
		ir->cards = xreallocarray(ir->cards, max, sizeof(*ir->cards));
		for (size_t i = ir->cap; i < max; i++)
			card_init(&ir->cards[i]);
	} else if (ir->m->kind->input == INPUT_POSE || ir->m->kind->input == INPUT_PHOTO) {
		ir->frames = xreallocarray(ir->frames, max, sizeof(*ir->frames));
		for (size_t i = ir->cap; i < max; i++)
			img_init(&ir->frames[i]);
		ir->frame_w = xreallocarray(ir->frame_w, max, sizeof(size_t));
		ir->frame_h = xreallocarray(ir->frame_h, max, sizeof(size_t));
		ir->fps = xreallocarray(ir->fps, max, sizeof(double));
	} else {
		free(ir->X);
		ir->X = xmallocarray(max, (ir->m->d ? ir->m->d : 1) * sizeof(double));
	}
	ir->key_off = xrealloc(ir->key_off, max * sizeof(size_t));
	ir->rownum = xrealloc(ir->rownum, max * sizeof(size_t));
	ir->cap = max;
}

/* Decodes the current record as input n of the batch. */
static int input_take(struct input_reader *ir, size_t n, struct err *e)
{
	const struct model *m = ir->m;
	struct rec_reader *r = ir->r;
	size_t i, f, len;

	ir->key_off[n] = ir->keys.len;
	ir->rownum[n] = ++ir->row;
	if (ir->o.key) {
		const char *s = rec_field(r, (size_t)ir->key_col, &len);
		strbuf_add(&ir->keys, s ? s : "", s ? len : 0);
		strbuf_addch(&ir->keys, '\0');
	}
	for (i = 0; i < ir->o.nkeep; i++) {
		const char *s = rec_field(r, (size_t)ir->keep_cols[i], &len);
		strbuf_add(&ir->keys, s ? s : "", s ? len : 0);
		strbuf_addch(&ir->keys, '\0');
	}
	if (m->kind->input == INPUT_TEXT) {
		const char *s = rec_field(r, (size_t)ir->cols[0], &len);
		size_t bad = s ? text_utf8_bad_offset(s, len) : 0;
		if (bad && !ir->repair_utf8)
			return err_set(
			    e, DYN_EDATA, "%s:%zu: column \"%s\": invalid UTF-8 at byte %zu",
			    rec_name(r), rec_line(r), rec_colname(r, (size_t)ir->cols[0]), bad);
		if (bad) {
			struct strbuf fixed = STRBUF_INIT;
			text_utf8_repair(s, len, &fixed);
			ir->text[n] = strbuf_detach(&fixed, NULL);
		} else {
			ir->text[n] = xstrndup(s ? s : "", s ? len : 0);
		}
		return 0;
	}
	for (f = 0; f < m->d; f++)
		if (rec_number(r, (size_t)ir->cols[f], &ir->X[n * m->d + f], e) < 0)
			return -1;
	return 0;
}

long input_next(struct input_reader *ir, size_t max, struct err *e)
{
	size_t i;
	int got;

	for (i = 0; ir->text && i < ir->n; i++)
		FREE_AND_NULL(ir->text[i]);
	ir->n = 0;
	strbuf_reset(&ir->keys);
	input_reserve(ir, max ? max : 1);
	if (ir->literal) {
		if (ir->row)
			return 0;
		ir->text[0] = xstrdup(ir->literal);
		ir->key_off[0] = 0;
		strbuf_addch(&ir->keys, '\0');
		ir->rownum[0] = ++ir->row;
		ir->n = 1;
	}
	/* frames are large: a batch holds a few, whatever the caller's rows a batch */
	while (ir->fr && ir->n < max && ir->n < INPUT_MAX_FRAMES) {
		struct frame_info fi;
		int more = frame_reader_next(ir->fr, &ir->frames[ir->n], &fi, e);
		if (more < 0)
			return -1;
		if (!more)
			break;
		ir->frame_w[ir->n] = fi.src_w;
		ir->frame_h[ir->n] = fi.src_h;
		ir->fps[ir->n] = fi.fps;
		ir->key_off[ir->n] = ir->keys.len;
		strbuf_adds(&ir->keys, fi.source);
		strbuf_addch(&ir->keys, '\0');
		ir->rownum[ir->n] = (size_t)fi.index;
		ir->n++;
	}
	while (ir->cr && ir->n < max) {
		int more = card_reader_next(ir->cr, &ir->cards[ir->n], e);
		if (more < 0)
			return -1;
		if (!more)
			break;
		ir->rownum[ir->n] = ++ir->row;
		ir->n++;
	}
	while (ir->n < max && !ir->literal && !ir->cr && !ir->fr) {
		if (!ir->r) {
			if (++ir->in >= ir->npaths)
				break;
			if (input_open_next(ir, e) < 0)
				return -1;
		}
		/* Rows typed or trickling into a pipe are answered as they come: when the input
		 * has nothing more at hand, the batch so far goes out (checked at 1, 2, 4... rows
		 * of a batch, so a fast pipe pays a dozen polls per batch). */
		if (ir->o.interactive && ir->n && !(ir->n & (ir->n - 1)) && input_stalled())
			break;
		got = rec_next(ir->r, e);
		if (got < 0)
			return -1;
		if (got == 0) {
			rec_free(&ir->r);
			continue;
		}
		if (input_take(ir, ir->n, e) < 0) {
			if (ir->text)
				ir->n++; /* its text, if any, is freed with the batch */
			return -1;
		}
		ir->n++;
	}
	ir->b.n = ir->n;
	ir->b.d = ir->m->d;
	ir->b.X = ir->X;
	ir->b.text = (const char *const *)ir->text;
	ir->b.cards = ir->cards;
	ir->b.frames = ir->frames;
	ir->b.frame_w = ir->frame_w;
	ir->b.frame_h = ir->frame_h;
	return (long)ir->n;
}

const struct batch *input_batch(const struct input_reader *ir)
{
	return &ir->b;
}

const char *input_key_name(const struct input_reader *ir)
{
	if (ir->fr)
		return ir->m->kind->input == INPUT_PHOTO ? "file" : "frame";
	return ir->cr ? "card" : ir->o.key ? ir->o.key : "row";
}

const char *input_key(const struct input_reader *ir, size_t i, size_t *num)
{
	*num = ir->rownum[i];
	if (ir->cr)
		return ir->cards[i].id;
	if (ir->fr && ir->m->kind->input == INPUT_PHOTO)
		return ir->keys.buf + ir->key_off[i];
	if (ir->fr)
		return NULL;
	return ir->o.key ? ir->keys.buf + ir->key_off[i] : NULL;
}

double input_fps(const struct input_reader *ir, size_t i)
{
	return ir->fps ? ir->fps[i] : 0;
}

const char *input_source(const struct input_reader *ir, size_t i)
{
	return ir->fr && frame_reader_many(ir->fr) ? ir->keys.buf + ir->key_off[i] : NULL;
}

bool input_service_shape(const struct input_reader *ir)
{
	return ir->service;
}

const char *input_kept(const struct input_reader *ir, size_t i, size_t j)
{
	const char *s = ir->keys.buf + ir->key_off[i];
	if (ir->o.key)
		s += strlen(s) + 1;
	while (j--)
		s += strlen(s) + 1;
	return s;
}
