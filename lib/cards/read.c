/* The card reader: one source at a time (a file, stdin, or an archive member), each handing out
 * its cards in turn. CSV goes through the record reader, streamed (a long-format file of many
 * cards is read in memory bounded by its largest card); a JSON document and a picture are read
 * whole, up to a size limit checked as they are read. JSON is walked with cJSON here rather than
 * through the record reader, which flattens a card's nested arrays of points to text. */
#include <dirent.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sys/stat.h>

#include "cards/read.h"
#include "base/numparse.h"
#include "base/strmap.h"
#include "base/strv.h"
#include "cards/extract.h"
#include "io/image.h"
#include "io/records.h"
#include "io/stream.h"
#include "base/base.h"

enum src_kind { SRC_NONE, SRC_CSV, SRC_JSON, SRC_IMAGE };

struct card_reader {
	struct card_read_opts o;
	struct strv paths;
	/* per path: the marker its directory names ("" for none): a picture found by walking a
	 * directory given as input, in a subdirectory of it (root/fluid-pound/003.png) */
	struct strv path_labels;
	size_t next_path;
	const char *path_label; /* of the path being read */

	struct stream *st; /* the current input */
	bool archive;

	/* The current source. */
	enum src_kind kind;
	char *name;	 /* as ids and messages give it: "a.csv", "a.zip:x/b.csv" */
	char *dir_label; /* an archive member's directory name, or NULL */
	bool done;	 /* the source has no more cards */
	size_t ncards;	 /* cards handed out from it */

	/* CSV */
	struct rec_reader *rec;
	long xi, yi, ci, li;
	bool headerless; /* the header row was the first point */
	bool have_pending;
	struct strbuf pend_id, pend_label;
	double pend_x, pend_y;
	size_t pend_line;
	struct strmap seen; /* long format: card ids handed out */

	/* JSON */
	cJSON *doc;
	const cJSON *cur; /* the next card object of an array of cards, or the one card */
	bool many;	  /* the document is an array of card objects */

	/* The last card's picture file, kept with o.keep_pictures. */
	char *pic;
	size_t pic_len;
};

static const char *opt_or(const char *s, const char *def)
{
	return s && *s ? s : def;
}

void card_reader_open(struct card_reader **out, const char *const *paths, size_t n,
		      const struct card_read_opts *o)
{
	struct card_reader *r = xcalloc(1, sizeof(*r));
	if (o)
		r->o = *o;
	r->o.card_col = opt_or(r->o.card_col, "card");
	r->o.x_col = opt_or(r->o.x_col, "position");
	r->o.y_col = opt_or(r->o.y_col, "load");
	r->o.label_col = opt_or(r->o.label_col, "marker");
	if (!r->o.max_points)
		r->o.max_points = CARD_MAX_POINTS;
	if (!r->o.max_bytes)
		r->o.max_bytes = CARD_MAX_BYTES;
	if (!r->o.max_doc_bytes)
		r->o.max_doc_bytes = CARD_MAX_DOC_BYTES;
	strv_init(&r->paths);
	strv_init(&r->path_labels);
	for (size_t i = 0; i < n; i++) {
		strv_push(&r->paths, paths[i], strlen(paths[i]));
		strv_push(&r->path_labels, "", 0);
	}
	strbuf_init(&r->pend_id);
	strbuf_init(&r->pend_label);
	strmap_init(&r->seen);
	*out = r;
}

static void src_close(struct card_reader *r)
{
	rec_free(&r->rec);
	cJSON_Delete(r->doc);
	r->doc = NULL;
	r->cur = NULL;
	FREE_AND_NULL(r->name);
	FREE_AND_NULL(r->dir_label);
	strmap_release(&r->seen);
	strmap_init(&r->seen);
	r->kind = SRC_NONE;
	r->have_pending = r->headerless = r->done = r->many = false;
	r->ncards = 0;
}

static void input_close(struct card_reader *r)
{
	src_close(r);
	stream_free(&r->st);
	r->archive = false;
}

void card_reader_free(struct card_reader **rp)
{
	struct card_reader *r = *rp;
	if (!r)
		return;
	input_close(r);
	strmap_release(&r->seen);
	strbuf_release(&r->pend_id);
	strbuf_release(&r->pend_label);
	strv_release(&r->paths);
	strv_release(&r->path_labels);
	free(r->pic);
	free(r);
	*rp = NULL;
}

/* ---- reading whole ---- */

/* The rest of the current file or member into *buf (caller frees), at most max bytes. */
static int read_whole(struct card_reader *r, char **buf, size_t *len, struct err *e)
{
	size_t max = r->o.max_doc_bytes, cap = 1 << 16, n = 0;
	char *b = xmalloc(cap + 1);
	for (;;) {
		ssize_t k;
		if (cap - n < 4096) {
			if (cap > max) {
				free(b);
				return err_set(e, DYN_EDATA,
					       "%s: larger than %zu bytes (the limit for a JSON "
					       "document or a picture)",
					       r->name, max);
			}
			cap *= 2;
			b = xrealloc(b, cap + 1);
		}
		k = stream_read(r->st, b + n, cap - n, e);
		if (k < 0) {
			free(b);
			return -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			free(b);
			return err_set(
			    e, DYN_EDATA,
			    "%s: larger than %zu bytes (the limit for a JSON document or "
			    "a picture)",
			    r->name, max);
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* ---- CSV ---- */

static bool is_number(const char *s)
{
	double v;
	return s && num_parse(s, strlen(s), &v) == 0;
}

static int csv_open(struct card_reader *r, struct err *e)
{
	struct rec_opts ro = {.format = REC_CSV};
	struct rec_reader *rec;
	if (rec_open_stream(&r->rec, r->st, r->name, &ro, e) < 0)
		return -1;
	rec = r->rec;
	r->xi = rec_colindex(rec, r->o.x_col);
	r->yi = rec_colindex(rec, r->o.y_col);
	if (r->xi < 0 || r->yi < 0) {
		r->xi = rec_colindex(rec, "x");
		r->yi = rec_colindex(rec, "y");
	}
	r->ci = rec_colindex(rec, r->o.card_col);
	r->li = rec_colindex(rec, r->o.label_col);
	if ((r->xi < 0 || r->yi < 0) && rec_ncols(rec) == 2 && is_number(rec_colname(rec, 0)) &&
	    is_number(rec_colname(rec, 1))) {
		r->xi = 0;
		r->yi = 1;
		r->headerless = true;
	}
	if (r->xi < 0 || r->yi < 0) {
		struct strbuf cols = STRBUF_INIT;
		for (size_t i = 0; i < rec_ncols(rec) && i < 8; i++)
			strbuf_addf(&cols, "%s\"%s\"", i ? ", " : "", rec_colname(rec, i));
		err_set(e, DYN_EDATA, "%s: no \"%s\" and \"%s\" columns (the header has %s%s)",
			r->name, r->o.x_col, r->o.y_col, cols.buf ? cols.buf : "none",
			rec_ncols(rec) > 8 ? ", ..." : "");
		strbuf_release(&cols);
		return -1;
	}
	return 0;
}

/* The current record's point (and card id and label, in pend_*). */
static int csv_take(struct card_reader *r, struct err *e)
{
	const char *s;
	size_t len;
	if (rec_number(r->rec, (size_t)r->xi, &r->pend_x, e) < 0 ||
	    rec_number(r->rec, (size_t)r->yi, &r->pend_y, e) < 0)
		return -1;
	r->pend_line = rec_line(r->rec);
	strbuf_reset(&r->pend_id);
	strbuf_reset(&r->pend_label);
	if (r->ci >= 0) {
		s = rec_field(r->rec, (size_t)r->ci, &len);
		if (!s || !len)
			return err_set(e, DYN_EDATA, "%s:%zu: column \"%s\": missing card id",
				       r->name, r->pend_line, r->o.card_col);
		strbuf_add(&r->pend_id, s, len);
	}
	if (r->li >= 0) {
		s = rec_field(r->rec, (size_t)r->li, &len);
		if (s && len)
			strbuf_add(&r->pend_label, s, len);
	}
	r->have_pending = true;
	return 0;
}

static int push_point(struct card_reader *r, struct card *c, size_t *alloc, double x, double y,
		      const char *what, size_t line, struct err *e)
{
	if (c->n >= r->o.max_points) {
		if (line)
			return err_set(e, DYN_EDATA,
				       "%s:%zu: card \"%s\" has more than %zu points (the limit)",
				       r->name, line, what, r->o.max_points);
		return err_set(e, DYN_EDATA, "%s: card \"%s\" has more than %zu points (the limit)",
			       r->name, what, r->o.max_points);
	}
	card_push(c, alloc, x, y);
	return 0;
}

static int csv_card(struct card_reader *r, struct card *c, struct err *e)
{
	size_t alloc = 0;
	struct strbuf id = STRBUF_INIT;
	int k, ret = -1;

	if (r->headerless) {
		/* The header row was the first point. */
		double x, y;
		num_parse(rec_colname(r->rec, 0), strlen(rec_colname(r->rec, 0)), &x);
		num_parse(rec_colname(r->rec, 1), strlen(rec_colname(r->rec, 1)), &y);
		card_push(c, &alloc, x, y);
		r->headerless = false;
	}
	if (!r->have_pending) {
		k = rec_next(r->rec, e);
		if (k < 0)
			goto out;
		if (k == 0 && (r->ci >= 0 || c->n == 0)) {
			if (r->ncards == 0 && c->n == 0) {
				err_set(e, DYN_EDATA, "%s: no points", r->name);
				goto out;
			}
			ret = 0;
			goto out;
		}
		if (k == 1 && csv_take(r, e) < 0)
			goto out;
	}
	if (r->ci >= 0)
		strbuf_addf(&id, "%s:%s", r->name, r->pend_id.buf);
	else
		strbuf_adds(&id, r->name);
	card_set_id(c, id.buf, r->pend_label.len ? r->pend_label.buf : r->dir_label);
	if (r->ci >= 0) {
		if (strmap_get(&r->seen, r->pend_id.buf, r->pend_id.len) != (size_t)-1) {
			err_set(e, DYN_EDATA,
				"%s:%zu: card \"%s\" again after other cards (the rows of a card "
				"must be together)",
				r->name, r->pend_line, r->pend_id.buf);
			goto out;
		}
		strmap_intern(&r->seen, r->pend_id.buf, r->pend_id.len);
	}
	while (r->have_pending) {
		if (push_point(r, c, &alloc, r->pend_x, r->pend_y,
			       r->ci >= 0 ? r->pend_id.buf : r->name, r->pend_line, e) < 0)
			goto out;
		r->have_pending = false;
		k = rec_next(r->rec, e);
		if (k < 0)
			goto out;
		if (k == 0) {
			r->done = true;
			break;
		}
		if (r->ci >= 0) {
			size_t len;
			const char *s = rec_field(r->rec, (size_t)r->ci, &len);
			struct strbuf prev = STRBUF_INIT;
			strbuf_add(&prev, r->pend_id.buf, r->pend_id.len);
			k = csv_take(r, e);
			if (k == 0 && (len != prev.len || memcmp(s ? s : "", prev.buf, len))) {
				/* The next card's first row: kept for the next call. */
				strbuf_release(&prev);
				break;
			}
			strbuf_release(&prev);
			if (k < 0)
				goto out;
		} else if (csv_take(r, e) < 0) {
			goto out;
		}
	}
	if (r->ci < 0)
		r->done = true;
	r->ncards++;
	ret = 1;
out:
	strbuf_release(&id);
	return ret;
}

/* ---- JSON ---- */

static bool has_points(const cJSON *o)
{
	const cJSON *x, *y;
	if (!cJSON_IsObject(o))
		return false;
	if (cJSON_GetObjectItemCaseSensitive(o, "points") ||
	    cJSON_GetObjectItemCaseSensitive(o, "raw_data"))
		return true;
	x = cJSON_GetObjectItemCaseSensitive(o, "x");
	y = cJSON_GetObjectItemCaseSensitive(o, "y");
	return cJSON_IsArray(x) && cJSON_IsArray(y);
}

/* A point [x, y] or {"x": x, "y": y}. */
static bool json_point(const cJSON *p, double *x, double *y)
{
	const cJSON *a, *b;
	if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 2) {
		a = p->child;
		b = a->next;
	} else if (cJSON_IsObject(p)) {
		a = cJSON_GetObjectItemCaseSensitive(p, "x");
		b = cJSON_GetObjectItemCaseSensitive(p, "y");
	} else {
		return false;
	}
	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
		return false;
	*x = a->valuedouble;
	*y = b->valuedouble;
	return true;
}

static int json_points(struct card_reader *r, const cJSON *pts, struct card *c, const char *id,
		       struct err *e)
{
	size_t alloc = 0, i = 0;
	if (!cJSON_IsArray(pts))
		return err_set(e, DYN_EDATA, "%s: card \"%s\": expected an array of points",
			       r->name, id);
	if ((size_t)cJSON_GetArraySize(pts) > r->o.max_points)
		return err_set(e, DYN_EDATA, "%s: card \"%s\" has more than %zu points (the limit)",
			       r->name, id, r->o.max_points);
	for (const cJSON *p = pts->child; p; p = p->next, i++) {
		double x, y;
		if (!json_point(p, &x, &y))
			return err_set(e, DYN_EDATA,
				       "%s: card \"%s\": point %zu: expected [position, load] or "
				       "{\"x\": .., \"y\": ..} numbers",
				       r->name, id, i + 1);
		card_push(c, &alloc, x, y);
	}
	return 0;
}

/* Arrays "x" and "y" of one card object. */
static int json_xy_arrays(struct card_reader *r, const cJSON *o, struct card *c, const char *id,
			  struct err *e)
{
	const cJSON *xs = cJSON_GetObjectItemCaseSensitive(o, "x");
	const cJSON *ys = cJSON_GetObjectItemCaseSensitive(o, "y");
	size_t alloc = 0, i = 0;
	const cJSON *a, *b;
	if (cJSON_GetArraySize(xs) != cJSON_GetArraySize(ys))
		return err_set(e, DYN_EDATA, "%s: card \"%s\": \"x\" has %d values, \"y\" %d",
			       r->name, id, cJSON_GetArraySize(xs), cJSON_GetArraySize(ys));
	if ((size_t)cJSON_GetArraySize(xs) > r->o.max_points)
		return err_set(e, DYN_EDATA, "%s: card \"%s\" has more than %zu points (the limit)",
			       r->name, id, r->o.max_points);
	for (a = xs->child, b = ys->child; a && b; a = a->next, b = b->next, i++) {
		if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
			return err_set(e, DYN_EDATA, "%s: card \"%s\": point %zu: expected numbers",
				       r->name, id, i + 1);
		card_push(c, &alloc, a->valuedouble, b->valuedouble);
	}
	return 0;
}

/* One card object. */
static int json_card_object(struct card_reader *r, const cJSON *o, struct card *c, struct err *e)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "marker");
	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(o, "points");
	struct strbuf id = STRBUF_INIT;
	cJSON *parsed = NULL;
	int ret = -1;

	if (!mk)
		mk = cJSON_GetObjectItemCaseSensitive(o, "label");
	strbuf_adds(&id, r->name);
	if (cJSON_IsString(idv)) {
		strbuf_addf(&id, ":%s", idv->valuestring);
	} else if (cJSON_IsNumber(idv)) {
		strbuf_addch(&id, ':');
		strbuf_add_double(&id, idv->valuedouble);
	} else if (r->many) {
		strbuf_addf(&id, ":%zu", r->ncards + 1);
	}
	card_set_id(c, id.buf,
		    cJSON_IsString(mk) && mk->valuestring[0] ? mk->valuestring : r->dir_label);
	if (!pts)
		pts = cJSON_GetObjectItemCaseSensitive(o, "raw_data");
	/* The old service kept raw_data as JSON text in a string. */
	if (cJSON_IsString(pts)) {
		parsed = cJSON_Parse(pts->valuestring);
		if (!parsed) {
			err_set(e, DYN_EDATA, "%s: card \"%s\": \"raw_data\": malformed JSON",
				r->name, c->id);
			goto out;
		}
		pts = parsed;
	}
	if (pts)
		ret = json_points(r, pts, c, c->id, e);
	else
		ret = json_xy_arrays(r, o, c, c->id, e);
out:
	cJSON_Delete(parsed);
	strbuf_release(&id);
	return ret;
}

static int json_open(struct card_reader *r, struct err *e)
{
	char *text;
	size_t len;
	const char *endp = NULL;
	const cJSON *root;
	if (read_whole(r, &text, &len, e) < 0)
		return -1;
	r->doc = cJSON_ParseWithLengthOpts(text, len, &endp, 0);
	free(text);
	if (!r->doc)
		return err_set(e, DYN_EDATA, "%s: malformed JSON", r->name);
	root = r->doc;
	if (has_points(root)) {
		r->cur = root;
	} else if (cJSON_IsArray(root) && has_points(root->child)) {
		r->many = true;
		r->cur = root->child;
	} else if (cJSON_IsArray(root) && root->child) {
		/* The array is one card's points. */
		r->cur = root;
	} else {
		return err_set(e, DYN_EDATA,
			       "%s: expected a card ({\"points\": [[x, y], ...]}), an array of "
			       "points, or an array of cards",
			       r->name);
	}
	return 0;
}

static int json_card(struct card_reader *r, struct card *c, struct err *e)
{
	const cJSON *o = r->cur;
	if (!o)
		return 0;
	if (!r->many) {
		r->cur = NULL;
		r->done = true;
		if (cJSON_IsArray(o)) {
			card_set_id(c, r->name, r->dir_label);
			if (json_points(r, o, c, r->name, e) < 0)
				return -1;
		} else if (json_card_object(r, o, c, e) < 0) {
			return -1;
		}
		r->ncards++;
		return 1;
	}
	r->cur = o->next;
	if (!has_points(o)) {
		err_set(e, DYN_EDATA, "%s: card %zu: expected an object with \"points\"", r->name,
			r->ncards + 1);
		r->ncards++;
		return -1;
	}
	if (json_card_object(r, o, c, e) < 0) {
		r->ncards++;
		return -1;
	}
	r->ncards++;
	return 1;
}

/* ---- pictures ---- */

static int image_card(struct card_reader *r, struct card *c, struct err *e)
{
	char *buf = NULL;
	size_t len;
	struct img im;
	int ret = -1;
	img_init(&im);
	r->done = true;
	if (read_whole(r, &buf, &len, e) < 0)
		goto out;
	if (img_decode(&im, buf, len, 3, r->name, e) < 0)
		goto out;
	if (card_extract(&im, r->name, c, e) < 0)
		goto out;
	card_set_id(c, r->name, r->dir_label);
	r->ncards++;
	if (r->o.keep_pictures) {
		r->pic = buf;
		r->pic_len = len;
		buf = NULL;
	}
	ret = 1;
out:
	free(buf);
	img_release(&im);
	return ret;
}

/* ---- sources ---- */

static const char *const compress_suffixes[] = {".gz", ".xz", ".zst", ".zstd", ".bz2", ".bz"};

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len >= sl && !strncasecmp(s + len - sl, suffix, sl);
}

/* The source kind a name says (under a compression suffix), or SRC_NONE. */
static enum src_kind kind_of_name(const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < ARRAY_SIZE(compress_suffixes); i++)
		if (ends_with(name, len, compress_suffixes[i])) {
			len -= strlen(compress_suffixes[i]);
			break;
		}
	if (ends_with(name, len, ".csv") || ends_with(name, len, ".tsv") ||
	    ends_with(name, len, ".txt"))
		return SRC_CSV;
	if (ends_with(name, len, ".json"))
		return SRC_JSON;
	if (ends_with(name, len, ".png") || ends_with(name, len, ".jpg") ||
	    ends_with(name, len, ".jpeg") || ends_with(name, len, ".bmp") ||
	    ends_with(name, len, ".tga"))
		return SRC_IMAGE;
	return SRC_NONE;
}

/* Opens the current file or member of r->st as a source named name; member is the member's
 * path inside an archive (for the directory label) or NULL. */
static int src_open(struct card_reader *r, const char *name, const char *member, struct err *e)
{
	enum src_kind k = kind_of_name(member ? member : name);
	src_close(r);
	r->name = xstrdup(name);
	/* The ImageFolder convention: the directory a card is in names its marker
	 * ("train/fluid-pound/003.png"), unless the card carries one: for archive members, and
	 * for pictures (which carry none) under a directory given as input, not for a points
	 * file's own directory nor for a picture named on its own (its folder is where it is
	 * kept, not what it shows). */
	if (!member && k == SRC_IMAGE && r->path_label && r->path_label[0]) {
		r->dir_label = xstrdup(r->path_label);
	} else if (member) {
		const char *path = member, *slash = strrchr(path, '/');
		if (slash && slash > path) {
			const char *start = slash - 1;
			size_t len;
			while (start > path && start[-1] != '/')
				start--;
			len = (size_t)(slash - start);
			if (!(len == 1 && start[0] == '.') &&
			    !(len == 2 && !strncmp(start, "..", 2)))
				r->dir_label = xstrndup(start, len);
		}
	}
	if (k == SRC_NONE) {
		size_t len, i = 0;
		const char *p = stream_peek(r->st, &len);
		while (p && i < len && isspace((unsigned char)p[i]))
			i++;
		if (p && img_sniff(p, len))
			k = SRC_IMAGE;
		else if (p && i < len && (p[i] == '[' || p[i] == '{'))
			k = SRC_JSON;
		else
			k = SRC_CSV;
	}
	r->kind = k;
	switch (k) {
	case SRC_CSV:
		return csv_open(r, e);
	case SRC_JSON:
		return json_open(r, e);
	default:
		return 0;
	}
}

/* Members the reader skips: directories' metadata, hidden files, unknown kinds. */
static bool member_wanted(const char *m)
{
	const char *base = strrchr(m, '/');
	base = base ? base + 1 : m;
	if (!strncmp(m, "__MACOSX/", 9) || !base[0] || base[0] == '.')
		return false;
	return kind_of_name(m) != SRC_NONE;
}

/* Opens the next source: 1, 0 when there is none, -1 on error (the reader moves on). */
/* Whether a file found in a directory is a card input: a points file or picture by its name
 * (under a compression suffix), or an archive. */
static bool wanted_in_dir(const char *name)
{
	static const char *const archives[] = {".zip", ".tar", ".tgz", ".tbz2", ".txz", ".7z"};
	size_t len = strlen(name);
	if (name[0] == '.')
		return false;
	if (kind_of_name(name) != SRC_NONE)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(archives); i++)
		if (ends_with(name, len, archives[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(compress_suffixes); i++)
		if (ends_with(name, len, compress_suffixes[i]) &&
		    ends_with(name, len - strlen(compress_suffixes[i]), ".tar"))
			return true;
	return false;
}

static int alpha_sort(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The card inputs under directory dir, in name order, depth first, into out; hidden entries
 * and symbolic links to directories are not followed. */
static int list_dir(const char *dir, struct strv *out, int depth, struct err *e)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alpha_sort), ret = 0;
	if (n < 0)
		return err_sys(e, "\"%s\": cannot read directory", dir);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		struct strbuf path = STRBUF_INIT;
		struct stat sb;
		if (!ret && name[0] != '.') {
			strbuf_addf(&path, "%s/%s", dir, name);
			if (lstat(path.buf, &sb) == 0 && S_ISDIR(sb.st_mode)) {
				if (depth >= 16)
					ret = err_set(e, DYN_EDATA,
						      "\"%s\": directories nested too deep",
						      path.buf);
				else
					ret = list_dir(path.buf, out, depth + 1, e);
			} else if (stat(path.buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
				   wanted_in_dir(name)) {
				strv_push(out, path.buf, path.len);
			}
		}
		strbuf_release(&path);
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/* Replaces the directory at paths[next_path] with the card inputs under it. */
static int expand_dir(struct card_reader *r, const char *dir, struct err *e)
{
	struct strv files, all, labels;
	strv_init(&files);
	if (list_dir(dir, &files, 0, e) < 0) {
		strv_release(&files);
		r->next_path++;
		return -1;
	}
	strv_init(&all);
	strv_init(&labels);
	for (size_t i = 0; i < r->paths.n; i++) {
		if (i != r->next_path) {
			strv_push(&all, r->paths.v[i], strlen(r->paths.v[i]));
			strv_push(&labels, r->path_labels.v[i], strlen(r->path_labels.v[i]));
			continue;
		}
		for (size_t j = 0; j < files.n; j++) {
			/* list_dir gives dir/rest: rest's last directory, if any, names the marker
			 */
			const char *rest = files.v[j] + strlen(dir) + 1,
				   *slash = strrchr(rest, '/');
			const char *start = slash;
			while (start && start > rest && start[-1] != '/')
				start--;
			strv_push(&all, files.v[j], strlen(files.v[j]));
			strv_push(&labels, start ? start : "", slash ? (size_t)(slash - start) : 0);
		}
	}
	strv_release(&files);
	strv_release(&r->paths);
	strv_release(&r->path_labels);
	r->paths = all;
	r->path_labels = labels;
	r->path_label = NULL;
	return 0;
}

static int next_source(struct card_reader *r, struct err *e)
{
	for (;;) {
		if (!r->st) {
			const char *path;
			struct stat sb;
			if (r->next_path >= r->paths.n)
				return 0;
			path = r->paths.v[r->next_path];
			r->path_label = r->path_labels.v[r->next_path];
			if (strcmp(path, "-") && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
				if (expand_dir(r, path, e) < 0)
					return -1;
				continue;
			}
			r->next_path++;
			/* A file too large is refused before a byte of it is read. */
			if (strcmp(path, "-") && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    (unsigned long long)sb.st_size > r->o.max_bytes)
				return err_set(e, DYN_EDATA,
					       "\"%s\": %llu bytes, more than the limit for a card "
					       "input (%llu)",
					       path, (unsigned long long)sb.st_size,
					       r->o.max_bytes);
			if (stream_open(&r->st, path, e) < 0)
				return -1;
			stream_set_limits(r->st, r->o.max_bytes, 0);
			r->archive = stream_is_archive(r->st);
			if (!r->archive) {
				if (src_open(r, stream_name(r->st), NULL, e) < 0) {
					input_close(r);
					return -1;
				}
				return 1;
			}
		}
		if (r->archive) {
			const char *m;
			struct strbuf name = STRBUF_INIT;
			int k = stream_next_member(r->st, &m, e);
			if (k < 0) {
				input_close(r);
				return -1;
			}
			if (k == 0) {
				input_close(r);
				continue;
			}
			if (!member_wanted(m))
				continue;
			strbuf_addf(&name, "%s:%s", stream_name(r->st), m);
			k = src_open(r, name.buf, m, e);
			strbuf_release(&name);
			if (k < 0) {
				src_close(r);
				return -1;
			}
			return 1;
		}
		/* A plain input has one source: it is done. */
		input_close(r);
	}
}

int card_reader_picture(const struct card_reader *r, const void **buf, size_t *len)
{
	*buf = r->pic;
	*len = r->pic_len;
	return r->pic != NULL;
}

int card_reader_next(struct card_reader *r, struct card *c, struct err *e)
{
	card_release(c);
	free(r->pic);
	r->pic = NULL;
	r->pic_len = 0;
	for (;;) {
		int k;
		if (r->kind == SRC_NONE || r->done) {
			if (r->kind != SRC_NONE)
				src_close(r);
			k = next_source(r, e);
			if (k <= 0)
				return k;
		}
		switch (r->kind) {
		case SRC_CSV:
			k = csv_card(r, c, e);
			break;
		case SRC_JSON:
			k = json_card(r, c, e);
			break;
		default:
			k = image_card(r, c, e);
			break;
		}
		if (k == 0) {
			r->done = true;
			continue;
		}
		if (k < 0) {
			/* A broken file: the rest of it is skipped, except after a JSON card that
			 * could not be read (the next one is intact). */
			card_release(c);
			if (!(r->kind == SRC_JSON && r->many))
				r->done = true;
			return -1;
		}
		if (!r->o.no_validate && card_validate(c, e) < 0) {
			card_release(c);
			return -1;
		}
		return 1;
	}
}
