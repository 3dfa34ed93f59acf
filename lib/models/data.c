/* Training data from records (see data.h). */
#include <math.h>

#include "base/base.h"
#include "base/sha256.h"
#include "base/strmap.h"
#include "base/strv.h"
#include "models/data.h"
#include "mark/markdb.h"
#include "text/text.h"
#include "io/image.h"
#include "vision/pose.h"

struct class_key {
	const char *name;
	double num;
	size_t old;
};

static int all_numeric;

static int cmp_class(const void *a, const void *b)
{
	const struct class_key *x = a, *y = b;
	if (all_numeric)
		return (x->num > y->num) - (x->num < y->num);
	return strcmp(x->name, y->name);
}

void classes_sort(char **classes, size_t k, size_t *order)
{
	struct class_key *keys = xmallocarray(k ? k : 1, sizeof(*keys));
	char **tmp = xmallocarray(k ? k : 1, sizeof(*tmp));
	size_t i;
	all_numeric = 1;
	for (i = 0; i < k; i++) {
		keys[i].name = classes[i];
		keys[i].old = i;
		if (parse_double(classes[i], (size_t)-1, &keys[i].num, false) < 0)
			all_numeric = 0;
	}
	qsort(keys, k, sizeof(*keys), cmp_class);
	for (i = 0; i < k; i++) {
		order[i] = keys[i].old;
		tmp[i] = classes[keys[i].old];
	}
	memcpy(classes, tmp, k * sizeof(*tmp));
	free(tmp);
	free(keys);
}

static int pick_label(const struct rec_reader *r, const struct load_opts *o, long *col,
		      struct err *e)
{
	if (o->label) {
		*col = rec_colindex(r, o->label);
		if (*col < 0)
			return err_set(e, DYN_EDATA, "%s: no label column \"%s\"", rec_name(r),
				       o->label);
		return 0;
	}
	*col = rec_colindex(r, "label");
	if (*col < 0)
		*col = rec_colindex(r, "y");
	if (*col < 0)
		return err_set(
		    e, DYN_EUSAGE,
		    "%s: no column \"label\" or \"y\": name the label column with --label",
		    rec_name(r));
	return 0;
}

/* Sorts ds's classes and renumbers its labels; the classes are labels's keys. */
static void dataset_classes(struct dataset *ds, const struct strmap *labels)
{
	size_t i, *order, *inv;
	ds->k = labels->n;
	ds->classes = xmallocarray(ds->k, sizeof(char *));
	for (i = 0; i < ds->k; i++)
		ds->classes[i] = xstrdup(labels->keys[i]);
	order = xmallocarray(ds->k, sizeof(*order));
	inv = xmallocarray(ds->k, sizeof(*inv));
	classes_sort(ds->classes, ds->k, order);
	for (i = 0; i < ds->k; i++)
		inv[order[i]] = i;
	for (i = 0; i < ds->n; i++)
		ds->y[i] = (int)inv[ds->y[i]];
	free(order);
	free(inv);
}

/* Cards taken into a dataset one at a time: the card reader's and the marking database's. */
struct card_sink {
	struct dataset *ds;
	struct strmap labels;
	struct sha256 sha;
	size_t alloc, yalloc;
};

static void sink_init(struct card_sink *k, struct dataset *ds)
{
	memset(k, 0, sizeof(*k));
	k->ds = ds;
	dataset_init(ds);
	strmap_init(&k->labels);
	sha256_init(&k->sha);
}

/* Takes c (moved: c is left empty) with its label. */
static void sink_add(struct card_sink *k, struct card *c)
{
	struct dataset *ds = k->ds;
	ALLOC_GROW(ds->cards, ds->n + 1, k->alloc);
	ALLOC_GROW(ds->y, ds->n + 1, k->yalloc);
	ds->y[ds->n] = (int)strmap_intern(&k->labels, c->label, strlen(c->label));
	sha256_update(&k->sha, c->x, c->n * sizeof(double));
	sha256_update(&k->sha, c->y, c->n * sizeof(double));
	sha256_update(&k->sha, c->label, strlen(c->label) + 1);
	ds->cards[ds->n++] = *c;
	card_init(c);
}

/* Checks the cards and gives the dataset its classes; releases the sink either way. */
static int sink_finish(struct card_sink *k, int ok, const char *what, const struct load_opts *o,
		       char sha256[65], struct err *e)
{
	struct dataset *ds = k->ds;
	int ret = -1;
	if (!ok)
		goto out;
	if (ds->n == 0) {
		err_set(e, DYN_EDATA, "%s: no cards", what);
		goto out;
	}
	if (k->labels.n < 2 && !o->one_class_ok) {
		err_set(e, DYN_EDATA,
			"only one marker (\"%s\") among the cards: a classifier needs two or more",
			k->labels.keys[0]);
		goto out;
	}
	ds->features = xcalloc(1, sizeof(char *));
	dataset_classes(ds, &k->labels);
	ret = 0;
out:
	if (ret < 0)
		dataset_release(ds);
	strmap_release(&k->labels);
	sha256_final_hex(&k->sha, sha256);
	return ret;
}

static int dataset_load_cards(struct dataset *ds, const char *const *paths, size_t npaths,
			      const struct load_opts *o, char sha256[65], struct err *e)
{
	static const char *const stdin_path[] = {"-"};
	struct card_read_opts co = o->cards;
	struct card_reader *r = NULL;
	struct card_sink k;
	struct card c;
	int got;

	sink_init(&k, ds);
	card_init(&c);
	if (o->label)
		co.label_col = o->label;
	if (!npaths) {
		paths = stdin_path;
		npaths = 1;
	}
	card_reader_open(&r, paths, npaths, &co);
	while ((got = card_reader_next(r, &c, e)) > 0) {
		if (!c.label || !*c.label) {
			err_set(e, DYN_EDATA,
				"%s: card has no marker (a \"%s\" column, a \"marker\" key, or a "
				"picture in a folder named after its marker)",
				c.id, co.label_col ? co.label_col : "marker");
			got = -1;
			break;
		}
		size_t bad = text_utf8_bad_offset(c.label, strlen(c.label));
		if (bad) {
			err_set(e, DYN_EDATA, "%s: invalid UTF-8 in its marker at byte %zu", c.id,
				bad);
			got = -1;
			break;
		}
		sink_add(&k, &c);
	}
	card_release(&c);
	card_reader_free(&r);
	return sink_finish(&k, got == 0, npaths == 1 ? paths[0] : "the inputs", o, sha256, e);
}

struct marked_walk {
	struct card_sink *k;
	struct err *e;
};

static int take_marked(void *arg, const struct markdb_card *mc, const char *label)
{
	struct marked_walk *w = arg;
	struct card c;
	char id[32];
	card_init(&c);
	snprintf(id, sizeof(id), "card %lld", mc->id);
	markdb_card_copy(mc, id, label, &c);
	/* cards were checked on import; a database edited by hand is checked again */
	if (card_validate(&c, w->e) < 0) {
		card_release(&c);
		return -1;
	}
	sink_add(w->k, &c);
	return 0;
}

int dataset_load_marked(struct dataset *ds, const struct model_kind *kind, const char *store,
			const char *since, const struct load_opts *o, char sha256[65],
			struct err *e)
{
	struct markdb *db = NULL;
	struct card_sink k;
	struct marked_walk w = {&k, e};
	int ok;

	if (kind->input != INPUT_CARD)
		return err_set(e, DYN_EUSAGE, "--marked: %s models do not read cards", kind->name);
	sink_init(&k, ds);
	ok = markdb_open(&db, store, MARKDB_READ, e) == 0 &&
	     markdb_labeled(db, since, take_marked, &w, e) == 0;
	markdb_close(&db);
	if (ok && ds->n == 0) {
		err_set(e, DYN_EDATA,
			since ? "no cards marked since %s in the marking dataset"
			      : "no marked cards in the marking dataset%s (see dyn mark)",
			since ? since : "");
		ok = 0;
	}
	return sink_finish(&k, ok, "the marking dataset", o, sha256, e);
}

/* A pose dataset (one path: a folder, labels file or archive) as the frames of ds; its nodes
 * are the classes. The digest covers the frames' names and sizes and the labels. */
static int dataset_load_pose(struct dataset *ds, const char *const *paths, size_t npaths,
			     char sha256[65], struct err *e)
{
	struct pose_dataset *pd = NULL;
	struct sha256 sha;
	size_t i;

	dataset_init(ds);
	sha256_init(&sha);
	if (npaths != 1 || !strcmp(paths[0], "-")) {
		sha256_final_hex(&sha, sha256);
		return err_set(e, DYN_EUSAGE,
			       npaths > 1
				   ? "a pose dataset is one folder, labels file or archive, "
				     "not %zu"
				   : "a pose dataset is a folder, labels file or archive, not "
				     "standard input (%zu paths)",
			       npaths);
	}
	if (pose_load(&pd, paths[0], NULL, e) < 0) {
		sha256_final_hex(&sha, sha256);
		return -1;
	}
	for (i = 0; i < pd->nframes; i++) {
		sha256_update(&sha, pd->frames[i].name, strlen(pd->frames[i].name) + 1);
		sha256_update(&sha, &pd->frames[i].ninst, sizeof(pd->frames[i].ninst));
	}
	sha256_update(&sha, pd->points, pd->ninst * pd->skel.nnodes * sizeof(*pd->points));
	sha256_final_hex(&sha, sha256);
	ds->pose = pd;
	ds->own_pose = true;
	ds->n = pd->nframes;
	ds->frame = xmallocarray(ds->n ? ds->n : 1, sizeof(*ds->frame));
	for (i = 0; i < ds->n; i++)
		ds->frame[i] = i;
	ds->k = pd->skel.nnodes;
	ds->classes = strv_dup(pd->skel.nodes, pd->skel.nnodes);
	return 0;
}

/* The bytes of a file (at most max), into sb. */
static int read_whole(const char *path, size_t max, struct strbuf *sb, struct err *e)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t got;
	if (!fp)
		return err_sys(e, "\"%s\"", path);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (sb->len + got > max) {
			fclose(fp);
			return err_set(e, DYN_EDATA, "\"%s\": larger than %zu MiB", path,
				       max >> 20);
		}
		strbuf_add(sb, buf, got);
	}
	if (ferror(fp)) {
		fclose(fp);
		return err_sys(e, "\"%s\"", path);
	}
	fclose(fp);
	return 0;
}

/* Labeled line crops: CSV (or JSON) files of image and text columns (the image's path relative
 * to the file's folder), each picture decoded upright in gray. No path: none (a kind that makes
 * its own lines). */
static int dataset_load_photos(struct dataset *ds, const char *const *paths, size_t npaths,
			       const struct load_opts *o, char sha256[65], struct err *e)
{
	struct rec_reader *r = NULL;
	struct sha256 sha;
	struct strbuf path = STRBUF_INIT, bytes = STRBUF_INIT;
	size_t alloc = 0, talloc = 0;
	int ret = -1, got;

	dataset_init(ds);
	sha256_init(&sha);
	for (size_t p = 0; p < npaths; p++) {
		long ic, tc;
		const char *slash = strrchr(paths[p], '/');
		if (rec_open(&r, paths[p], &o->rec, e) < 0)
			goto out;
		ic = rec_colindex(r, "image");
		if (ic < 0)
			ic = rec_colindex(r, "file");
		tc = rec_colindex(r, o->label ? o->label : "text");
		if (ic < 0 || tc < 0) {
			err_set(e, DYN_EDATA,
				"%s: labeled lines need an \"image\" and a \"%s\" column",
				rec_name(r), o->label ? o->label : "text");
			goto out;
		}
		while ((got = rec_next(r, e)) > 0) {
			size_t il, tl;
			const char *im = rec_field(r, (size_t)ic, &il),
				   *tx = rec_field(r, (size_t)tc, &tl);
			struct img *dst;
			if (!im || !il) {
				err_set(e, DYN_EDATA, "%s:%zu: column \"image\": empty",
					rec_name(r), rec_line(r));
				goto out;
			}
			strbuf_reset(&path);
			if (im[0] != '/' && slash)
				strbuf_add(&path, paths[p], (size_t)(slash - paths[p]) + 1);
			strbuf_add(&path, im, il);
			strbuf_reset(&bytes);
			ALLOC_GROW(ds->images, ds->n + 1, alloc);
			ALLOC_GROW(ds->text, ds->n + 1, talloc);
			dst = &ds->images[ds->n];
			img_init(dst);
			ds->text[ds->n] = xstrndup(tx ? tx : "", tx ? tl : 0);
			ds->n++;
			if (read_whole(path.buf, (size_t)256 << 20, &bytes, e) < 0 ||
			    img_decode_upright(dst, bytes.buf, bytes.len, 1, path.buf, e) < 0) {
				err_prefix(e, "%s:%zu", rec_name(r), rec_line(r));
				goto out;
			}
			sha256_update(&sha, bytes.buf, bytes.len);
			sha256_update(&sha, ds->text[ds->n - 1], strlen(ds->text[ds->n - 1]) + 1);
		}
		if (got < 0)
			goto out;
		rec_free(&r);
	}
	ret = 0;
out:
	rec_free(&r);
	strbuf_release(&path);
	strbuf_release(&bytes);
	sha256_final_hex(&sha, sha256);
	if (ret < 0)
		dataset_release(ds);
	return ret;
}

int dataset_load(struct dataset *ds, enum input_kind input, const char *const *paths, size_t npaths,
		 const struct load_opts *o, char sha256[65], struct err *e)
{
	static const char *const stdin_path[] = {"-"};
	struct strmap labels;
	struct rec_reader *r = NULL;
	struct strv feat;
	size_t f, p, i, xalloc = 0, yalloc = 0, talloc = 0;
	long *cols = NULL, label_col;
	struct sha256 sha;
	struct strbuf label_fixed = STRBUF_INIT;
	int ret = -1, got;

	if (input == INPUT_CARD)
		return dataset_load_cards(ds, paths, npaths, o, sha256, e);
	if (input == INPUT_POSE)
		return dataset_load_pose(ds, paths, npaths, sha256, e);
	if (input == INPUT_PHOTO)
		return dataset_load_photos(ds, paths, npaths, o, sha256, e);
	dataset_init(ds);
	strv_init(&feat);
	strmap_init(&labels);
	sha256_init(&sha);
	if (npaths == 0) {
		paths = stdin_path;
		npaths = 1;
	}
	if (o->features)
		strv_split(&feat, o->features, ',');
	for (p = 0; p < npaths; p++) {
		if (rec_open(&r, paths[p], &o->rec, e) < 0)
			goto out;
		if (pick_label(r, o, &label_col, e) < 0)
			goto out;
		if (input == INPUT_TEXT) {
			const char *tc = o->text_column ? o->text_column : "text";
			if (!feat.n)
				strv_push(&feat, tc, strlen(tc));
		} else if (!feat.n) {
			for (i = 0; i < rec_ncols(r); i++)
				if ((long)i != label_col)
					strv_push(&feat, rec_colname(r, i),
						  strlen(rec_colname(r, i)));
		}
		free(cols);
		cols = xmallocarray(feat.n ? feat.n : 1, sizeof(*cols));
		for (f = 0; f < feat.n; f++) {
			cols[f] = rec_colindex(r, feat.v[f]);
			if (cols[f] < 0) {
				err_set(e, DYN_EDATA, "%s: no %s column \"%s\"", rec_name(r),
					input == INPUT_TEXT ? "text" : "feature", feat.v[f]);
				goto out;
			}
			if (cols[f] == label_col) {
				err_set(e, DYN_EUSAGE,
					"%s: column \"%s\" is both the label and a feature",
					rec_name(r), feat.v[f]);
				goto out;
			}
		}
		if (!feat.n) {
			err_set(e, DYN_EDATA, "%s: no feature columns besides the label",
				rec_name(r));
			goto out;
		}
		while ((got = rec_next(r, e)) > 0) {
			size_t len;
			const char *lab = rec_field(r, (size_t)label_col, &len);
			size_t n = ds->n;
			if (!lab || !len) {
				err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": missing label",
					rec_name(r), rec_line(r),
					rec_colname(r, (size_t)label_col));
				goto out;
			}
			/* A label is a class name kept in index.json and compared at predict: one
			 * rule with the text (invalid UTF-8 is an error, or repaired where the kind
			 * repairs its text), never a class of replacement characters by accident.
			 */
			size_t lbad = text_utf8_bad_offset(lab, len);
			if (lbad && !o->utf8_replace) {
				err_set(
				    e, DYN_EDATA,
				    "%s:%zu: column \"%s\": invalid UTF-8 in a label at byte %zu",
				    rec_name(r), rec_line(r), rec_colname(r, (size_t)label_col),
				    lbad);
				goto out;
			}
			if (lbad) {
				strbuf_reset(&label_fixed);
				text_utf8_repair(lab, len, &label_fixed);
				lab = label_fixed.buf;
				len = label_fixed.len;
			}
			ALLOC_GROW(ds->y, n + 1, yalloc);
			ds->y[n] = (int)strmap_intern(&labels, lab, len);
			if (input == INPUT_TEXT) {
				/* its own length: len holds the label's, hashed below */
				size_t tlen = 0;
				const char *t = rec_field(r, (size_t)cols[0], &tlen);
				size_t bad = t ? text_utf8_bad_offset(t, tlen) : 0;
				ALLOC_GROW(ds->text, n + 1, talloc);
				if (bad && !o->utf8_replace) {
					err_set(e, DYN_EDATA,
						"%s:%zu: column \"%s\": invalid UTF-8 at byte %zu "
						"(--invalid-utf8 replace substitutes U+FFFD)",
						rec_name(r), rec_line(r), feat.v[0], bad);
					goto out;
				}
				if (bad) {
					struct strbuf fixed = STRBUF_INIT;
					text_utf8_repair(t, tlen, &fixed);
					ds->text[n] = strbuf_detach(&fixed, &tlen);
				} else {
					tlen = t ? tlen : 0;
					ds->text[n] = xstrndup(t ? t : "", tlen);
				}
				sha256_update(&sha, ds->text[n], tlen + 1);
			} else {
				double *row;
				ALLOC_GROW(ds->X, (n + 1) * feat.n, xalloc);
				row = ds->X + n * feat.n;
				for (f = 0; f < feat.n; f++)
					if (rec_number(r, (size_t)cols[f], &row[f], e) < 0)
						goto out;
				sha256_update(&sha, row, feat.n * sizeof(double));
			}
			sha256_update(&sha, lab, len + 1);
			ds->n++;
		}
		if (got < 0)
			goto out;
		if (p + 1 < npaths)
			rec_free(&r);
	}
	if (ds->n == 0) {
		err_set(e, DYN_EDATA, "%s: no data rows", rec_name(r));
		goto out;
	}
	if (labels.n < 2) {
		err_set(e, DYN_EDATA,
			"%s: only one class (\"%s\") in the label column: a classifier needs two "
			"or more",
			rec_name(r), labels.keys[0]);
		goto out;
	}
	ds->d = feat.n;
	ds->features = feat.v;
	strv_init(&feat);
	dataset_classes(ds, &labels);
	sha256_final_hex(&sha, sha256);
	ret = 0;
out:
	strbuf_release(&label_fixed);
	if (ret < 0) {
		if (!ds->features)
			ds->d = 0;
		dataset_release(ds);
	}
	strv_release(&feat);
	free(cols);
	rec_free(&r);
	strmap_release(&labels);
	if (ret < 0)
		sha256_final_hex(&sha, sha256);
	return ret;
}

int dataset_adopt_classes(struct dataset *ds, char *const *names, size_t k, struct err *e)
{
	size_t *map = xmallocarray(ds->k ? ds->k : 1, sizeof(size_t)), c, j, i;
	for (c = 0; c < ds->k; c++) {
		for (j = 0; j < k && strcmp(ds->classes[c], names[j]); j++)
			;
		if (j == k) {
			err_set(e, DYN_EUSAGE, "has no class \"%s\" (it knows %zu others)",
				ds->classes[c], k);
			free(map);
			return -1;
		}
		map[c] = j;
	}
	for (i = 0; i < ds->n; i++)
		ds->y[i] = (int)map[ds->y[i]];
	strv_free(ds->classes, ds->k);
	ds->classes = strv_dup(names, k);
	ds->k = k;
	free(map);
	return 0;
}
