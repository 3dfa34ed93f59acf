/* dyn mark markers | import | next | CARD MARKER... | skip | ls | show | stats | export: the
 * labeling workflow on the store's marking dataset (lib/mark/markdb.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/sha256.h"
#include "base/trace.h"
#include "base/strmap.h"
#include "base/strv.h"
#include "cards/read.h"
#include "cards/render.h"
#include "cmd.h"
#include "io/output.h"
#include "mark/markdb.h"
#include "models/input.h"
#include "models/stored.h"
#include "store/store.h"

#define IMPORT_CHUNK 500	/* cards a transaction: what a killed import can lose */
#define IMPORT_HOLD  1.0	/* seconds a transaction may keep other markers waiting */
#define DEFAULT_TTL  (30 * 60.) /* seconds a user holds a card from next */

static int open_db(struct markdb **db, enum markdb_mode mode)
{
	struct err e = ERR_INIT;
	if (markdb_open(db, store_path(), mode, &e) < 0)
		return report_err(&e);
	return 0;
}

/* --user, else $USER, else the login name of the process's user. */
static int get_user(const char *opt, const char **user)
{
	const char *u = opt;
	if (!u || !*u)
		u = getenv("USER");
	if (!u || !*u) {
		struct passwd *pw = getpwuid(getuid());
		u = pw ? pw->pw_name : NULL;
	}
	if (!u || !*u)
		return usage_error("no user: give --user NAME (or set USER)");
	if (!markdb_valid_user(u))
		return usage_error("invalid user name \"%s\" (1 to %d characters, no spaces, "
				   "commas, quotes or control characters)",
				   u, MARKDB_NAME_MAX);
	*user = u;
	return 0;
}

static int parse_card(const char *s, long long *id)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 1 || s[0] == '+' || s[0] == ' ')
		return usage_error("expected a card id (a positive number), got \"%s\"", s);
	*id = v;
	return 0;
}

/* Splits "a,b" or "a+b" into marker names, each checked. */
static int split_markers(const char *list, struct strv *out)
{
	struct strv parts;
	char *copy = xstrdup(list);
	int rc = 0;
	for (char *q = copy; *q; q++)
		if (*q == '+')
			*q = ',';
	strv_init(&parts);
	strv_split(&parts, copy, ',');
	free(copy);
	for (size_t j = 0; j < parts.n && !rc; j++) {
		const char *name = parts.v[j];
		if (!markdb_valid_marker(name))
			rc = usage_error("invalid marker name \"%s\"", name);
		for (size_t i = 0; i < out->n && !rc; i++)
			if (!strcmp(out->v[i], name))
				rc = usage_error("marker \"%s\" given twice", name);
		if (!rc)
			strv_push(out, name, strlen(name));
	}
	strv_release(&parts);
	return rc;
}

static const char *iso_time(double t, char buf[21])
{
	time_t s = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&s, &tm) || !strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 21, "1970-01-01T00:00:00Z");
	return buf;
}

/* ---- markers ---- */

struct marker_rows {
	struct out_writer *w;
};

static int marker_row(void *arg, const struct markdb_marker *m)
{
	struct marker_rows *r = arg;
	out_str(r->w, m->name);
	out_int(r->w, m->cards);
	out_str(r->w, m->description);
	return 0;
}

int mark_markers(int argc, char **argv)
{
	static const char *const cols[] = {"marker", "cards", "description"};
	const char *add = NULL, *rm = NULL, *rename_from = NULL, *desc = NULL;
	int force = 0, rc = 0, n;
	const struct opt opts[] = {
	    OPT_STRING_(0, "add", &add, "NAME", "add a marker"),
	    OPT_STRING_(0, "description", &desc, "TEXT", "the new marker's description"),
	    OPT_STRING_(0, "rm", &rm, "NAME", "remove a marker no card carries"),
	    OPT_BOOL_('f', "force", &force, "with --rm: remove it from the cards that carry it"),
	    OPT_STRING_(0, "rename", &rename_from, "OLD", "rename marker OLD to the argument NEW"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct err e = ERR_INIT;

	n = parse_cmd_options(argc, argv, opts,
			      "dyn mark markers [--add NAME --description TEXT | --rm NAME [-f] | "
			      "--rename OLD NEW]",
			      &rc);
	if (n < 0)
		return rc;
	if (!!add + !!rm + !!rename_from > 1)
		return usage_error("mark markers: give one of --add, --rm and --rename");
	if (rename_from ? n != 1 : n != 0)
		return usage_error(rename_from ? "mark markers --rename OLD NEW: expected NEW"
					       : "mark markers: unexpected argument \"%s\"",
				   argv[0]);
	if (desc && !add)
		return usage_error("mark markers: --description goes with --add");
	if (force && !rm)
		return usage_error("mark markers: --force goes with --rm");
	if ((rc = open_db(&db, add || rm || rename_from ? MARKDB_WRITE : MARKDB_READ)))
		return rc;
	if (add) {
		if (markdb_marker_add(db, add, desc, &e) < 0)
			goto fail;
		summary("added marker %s", add);
	} else if (rm) {
		long long cards = 0;
		if (markdb_marker_rm(db, rm, force, &cards, &e) < 0)
			goto fail;
		summary("removed marker %s (from %lld card%s)", rm, cards, cards == 1 ? "" : "s");
	} else if (rename_from) {
		if (markdb_marker_rename(db, rename_from, argv[0], &e) < 0)
			goto fail;
		summary("renamed marker %s to %s", rename_from, argv[0]);
	} else {
		struct marker_rows r;
		r.w = out_new(stdout, (enum out_format)output_format(0), ARRAY_SIZE(cols), cols,
			      NULL);
		if (markdb_markers(db, marker_row, &r, &e) < 0) {
			out_finish(&r.w, &e);
			goto fail;
		}
		if (out_finish(&r.w, &e) < 0)
			goto fail;
	}
	markdb_close(&db);
	return finish_stdout(0);
fail:
	markdb_close(&db);
	return report_err(&e);
}

/* ---- import ---- */

struct import_run {
	struct markdb *db;
	const char *user, *store;
	struct strmap map; /* --map: imported name -> marker */
	struct strv targets;
	bool add_markers;
	struct out_writer *w;
	/* The rows of the open transaction, printed once it commits: a row on stdout is a card
	 * in the store, even when a reader that stops early (| head) ends the import with
	 * SIGPIPE. The card ids, and three strings a card: source, status, markers. */
	long long *pending_ids;
	size_t npending, pending_alloc;
	struct strv pending;
	long long added, duplicates, marked, failed; /* committed cards */
	long long p_added, p_duplicates, p_marked;   /* cards of the open transaction */
};

/* The open transaction's cards are in the store: print their rows and count them. */
static void import_committed(struct import_run *ir)
{
	for (size_t i = 0; i < ir->npending; i++) {
		out_int(ir->w, ir->pending_ids[i]);
		for (size_t j = 0; j < 3; j++)
			out_str(ir->w, ir->pending.v[3 * i + j]);
	}
	ir->npending = 0;
	strv_release(&ir->pending);
	ir->added += ir->p_added;
	ir->duplicates += ir->p_duplicates;
	ir->marked += ir->p_marked;
	ir->p_added = ir->p_duplicates = ir->p_marked = 0;
}

/* The open transaction was rolled back: its cards were not kept. */
static void import_dropped(struct import_run *ir)
{
	ir->npending = 0;
	strv_release(&ir->pending);
	ir->p_added = ir->p_duplicates = ir->p_marked = 0;
}

/* --map FILE: lines "from,to" (a header "from,to" is skipped), '#' comments. */
static int read_map(struct import_run *ir, const char *path, struct err *e)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t lineno = 0;
	if (!fp)
		return err_sys(e, "\"%s\"", path);
	while (fgets(line, sizeof(line), fp)) {
		char *from = line, *to, *end;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		from += strspn(from, " \t");
		if (!*from || *from == '#')
			continue;
		to = strchr(from, ',');
		if (!to) {
			err_set(e, DYN_EDATA, "%s:%zu: expected \"from,to\", got \"%s\"", path,
				lineno, from);
			break;
		}
		*to++ = 0;
		to += strspn(to, " \t");
		for (end = to + strlen(to); end > to && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = 0;
		for (end = from + strlen(from); end > from && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = 0;
		if (lineno == 1 && !strcmp(from, "from") && !strcmp(to, "to"))
			continue;
		if (!markdb_valid_marker(to)) {
			err_set(e, DYN_EDATA, "%s:%zu: invalid marker name \"%s\"", path, lineno,
				to);
			break;
		}
		size_t i = strmap_intern(&ir->map, from, strlen(from));
		if (i < ir->targets.n) {
			err_set(e, DYN_EDATA, "%s:%zu: \"%s\" mapped twice", path, lineno, from);
			break;
		}
		strv_push(&ir->targets, to, strlen(to));
	}
	if (ferror(fp) && !e->code)
		err_sys(e, "\"%s\": cannot read", path);
	fclose(fp);
	return e->code ? -1 : 0;
}

/* The file extension of a picture's name, lowercase ("png"), for the kept copy. */
static const char *picture_ext(const char *name)
{
	static const char *const exts[] = {"png", "jpg", "jpeg", "bmp", "tga"};
	const char *dot = strrchr(name, '.');
	if (dot)
		for (size_t i = 0; i < ARRAY_SIZE(exts); i++)
			if (!strcasecmp(dot + 1, exts[i]))
				return exts[i];
	return "img";
}

/* Keeps a picture under datasets/cards/HASH.EXT (written once, atomically). */
static int keep_picture(struct import_run *ir, const char *hash, const char *src, const void *buf,
			size_t len, struct strbuf *rel, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;
	strbuf_reset(rel);
	strbuf_addf(rel, "datasets/cards/%s.%s", hash, picture_ext(src));
	strbuf_addf(&path, "%s/datasets/cards", ir->store);
	if (mkdir(path.buf, 0777) < 0 && errno != EEXIST)
		ret = err_sys(e, "\"%s\": cannot create directory", path.buf);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s", ir->store, rel->buf);
	if (!ret && stat(path.buf, &st) < 0)
		ret = atomic_write(path.buf, buf, len, e);
	strbuf_release(&path);
	return ret;
}

/* The card's markers (its label through --map, split on '+'), created with --add-markers. */
static int card_markers_of(struct import_run *ir, const struct card *c, struct strv *names,
			   struct err *e)
{
	const char *label = c->label;
	struct strv parts;
	size_t i;
	int ret = 0;
	if (!label || !*label)
		return 0;
	if ((i = strmap_get(&ir->map, label, strlen(label))) != (size_t)-1)
		label = ir->targets.v[i];
	strv_init(&parts);
	strv_split(&parts, label, '+');
	for (size_t j = 0; j < parts.n && !ret; j++) {
		const char *p = parts.v[j];
		bool dup = false;
		int has;
		if (!markdb_valid_marker(p)) {
			ret = err_set(e, DYN_EDATA, "%s: invalid marker name \"%s\"", c->id, p);
			break;
		}
		if ((has = markdb_has_marker(ir->db, p, e)) < 0) {
			ret = -1;
			break;
		}
		if (!has) {
			struct strbuf d = STRBUF_INIT;
			if (!ir->add_markers) {
				ret = err_set(e, DYN_ENOTFOUND,
					      "%s: unknown marker \"%s\" (map it to a marker with "
					      "--map, or add it with --add-markers)",
					      c->id, p);
				break;
			}
			strbuf_addf(&d, "imported with %s", c->id);
			ret = markdb_marker_add(ir->db, p, d.buf, e);
			strbuf_release(&d);
		}
		for (size_t k = 0; k < names->n; k++)
			dup |= !strcmp(names->v[k], p);
		if (!ret && !dup)
			strv_push(names, p, strlen(p));
	}
	strv_release(&parts);
	return ret;
}

static int import_card(struct import_run *ir, struct card_reader *r, const struct card *c,
		       struct strbuf *rel, struct err *e)
{
	struct markdb_new_card nc = {0};
	struct strv names;
	char hash[65];
	const void *pic;
	size_t pic_len;
	long long id;
	int got, ret = -1;

	strv_init(&names);
	if (card_reader_picture(r, &pic, &pic_len)) {
		sha256_hex(pic, pic_len, hash);
		if (keep_picture(ir, hash, c->id, pic, pic_len, rel, e) < 0)
			goto out;
		nc.image = rel->buf;
	} else {
		struct sha256 sha;
		sha256_init(&sha);
		sha256_update(&sha, c->x, c->n * sizeof(double));
		sha256_update(&sha, c->y, c->n * sizeof(double));
		sha256_final_hex(&sha, hash);
	}
	if (card_markers_of(ir, c, &names, e) < 0)
		goto out;
	nc.card = c;
	nc.hash = hash;
	nc.user = ir->user;
	nc.markers = (const char *const *)names.v;
	nc.nmarkers = names.n;
	if ((got = markdb_card_add(ir->db, &nc, &id, e)) < 0)
		goto out;
	{
		struct strbuf m = STRBUF_INIT;
		const char *status = got ? "added" : "duplicate";
		ALLOC_GROW(ir->pending_ids, ir->npending + 1, ir->pending_alloc);
		ir->pending_ids[ir->npending++] = id;
		strv_push(&ir->pending, c->id, strlen(c->id));
		strv_push(&ir->pending, status, strlen(status));
		for (size_t i = 0; i < names.n; i++)
			strbuf_addf(&m, "%s%s", i ? "," : "", names.v[i]);
		strv_push(&ir->pending, m.buf, m.len);
		strbuf_release(&m);
	}
	if (got) {
		ir->p_added++;
		ir->p_marked += names.n > 0;
	} else {
		ir->p_duplicates++;
	}
	ret = 0;
out:
	strv_release(&names);
	return ret;
}

int mark_import(int argc, char **argv)
{
	static const char *const cols[] = {"card", "source", "status", "markers"};
	const char *user_opt = NULL, *map = NULL;
	int add_markers = 0, rc = 0, n, got;
	struct card_read_opts co = {0};
	const struct opt opts[] = {
	    OPT_STRING_(0, "user", &user_opt, "NAME", "who imports (and marks labeled cards)"),
	    OPT_STRING_(0, "map", &map, "FILE", "CSV from,to: imported marker names to markers"),
	    OPT_BOOL_(0, "add-markers", &add_markers,
		      "add imported marker names that are not markers yet"),
	    OPT_STRING_(0, "card-column", &co.card_col, "COL", "card id column (default card)"),
	    OPT_STRING_(0, "position-column", &co.x_col, "COL", "position column"),
	    OPT_STRING_(0, "load-column", &co.y_col, "COL", "load column"),
	    OPT_STRING_(0, "marker-column", &co.label_col, "COL", "marker column (default marker)"),
	    OPT_END_(),
	};
	struct import_run ir;
	struct card_reader *r = NULL;
	struct strbuf rel = STRBUF_INIT;
	struct err e = ERR_INIT, ce = ERR_INIT;
	struct progress *prog = NULL;
	struct card c;
	size_t in_chunk = 0;
	double tx_start = 0;
	bool open_tx = false;

	n = parse_cmd_options(argc, argv, opts,
			      "dyn mark import [--user NAME] [--map FILE] [--add-markers] FILE...",
			      &rc);
	if (n < 0)
		return rc;
	if (n == 0)
		return usage_error("mark import: no input (give FILE..., or - for standard input)");
	memset(&ir, 0, sizeof(ir));
	strmap_init(&ir.map);
	strv_init(&ir.targets);
	strv_init(&ir.pending);
	card_init(&c);
	if ((rc = get_user(user_opt, &ir.user)))
		goto done;
	ir.add_markers = add_markers;
	ir.store = store_path();
	if (map && read_map(&ir, map, &e) < 0) {
		rc = report_err(&e);
		goto done;
	}
	co.keep_pictures = true;
	card_reader_open(&r, (const char *const *)argv, (size_t)n, &co);
	ir.w = out_new(stdout, (enum out_format)output_format(0), ARRAY_SIZE(cols), cols, NULL);
	prog = cmd_progress("importing cards");
	for (;;) {
		err_clear(&ce);
		got = card_reader_next(r, &c, &ce);
		if (got < 0) {
			/* a bad card or file is reported and skipped; the rest is imported */
			report_err(&ce);
			ir.failed++;
			continue;
		}
		if (got == 0)
			break;
		/* opened with the first card: an import that reads none creates no store */
		if (!ir.db && markdb_open(&ir.db, ir.store, MARKDB_WRITE, &e) < 0)
			break;
		if (!open_tx) {
			if (markdb_begin(ir.db, &e) < 0)
				break;
			open_tx = true;
			tx_start = clock_monotonic();
		}
		if (import_card(&ir, r, &c, &rel, &e) < 0)
			break;
		/* a slow stream (stdin) commits on time too: the write lock blocks other markers */
		if (++in_chunk == IMPORT_CHUNK || clock_monotonic() - tx_start >= IMPORT_HOLD) {
			open_tx = false;
			in_chunk = 0;
			if (markdb_commit(ir.db, &e) < 0) {
				markdb_rollback(ir.db);
				import_dropped(&ir);
				break;
			}
			import_committed(&ir);
			progress_update(prog, (double)(ir.added + ir.duplicates), 0);
		}
	}
	if (!e.code && open_tx && markdb_commit(ir.db, &e) == 0) {
		open_tx = false;
		import_committed(&ir);
	}
	if (open_tx) {
		markdb_rollback(ir.db);
		import_dropped(&ir);
	}
	progress_free(&prog);
	{
		struct err we = ERR_INIT;
		if (out_finish(&ir.w, &we) < 0 && !e.code)
			e = we;
	}
	if (e.code) {
		if (ir.added) {
			char msg[sizeof(e.msg)];
			memcpy(msg, e.msg, sizeof(msg));
			err_set(&e, e.code, "%s (the %lld card%s imported before are kept)", msg,
				ir.added, ir.added == 1 ? "" : "s");
		}
		rc = report_err(&e);
		goto done;
	}
	summary("imported %lld card%s (%lld marked), %lld duplicate%s skipped, %lld failed",
		ir.added, ir.added == 1 ? "" : "s", ir.marked, ir.duplicates,
		ir.duplicates == 1 ? "" : "s", ir.failed);
	rc = finish_stdout(ir.failed ? DYN_EDATA : 0);
done:
	card_release(&c);
	card_reader_free(&r);
	markdb_close(&ir.db);
	strmap_release(&ir.map);
	strv_release(&ir.targets);
	strv_release(&ir.pending);
	free(ir.pending_ids);
	strbuf_release(&rel);
	return rc;
}

/* ---- next, mark, skip ---- */

/* "90", "90s", "30m", "2h", "1d": seconds, > 0. */
static int parse_ttl(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double unit = 1;
	if (end == s || errno || !(v > 0))
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	else if (*end == 'd')
		unit = 86400, end++;
	if (*end || v * unit > 366 * 86400.)
		return -1;
	*out = v * unit;
	return 0;
}

struct card_copy {
	struct card c;
	char *source, *markers, *image;
	double *xy; /* the points as the database gives them */
	long long id;
	size_t n;
};

static int copy_card(void *arg, const struct markdb_card *mc)
{
	struct card_copy *cc = arg;
	card_init(&cc->c);
	markdb_card_copy(mc, mc->source, NULL, &cc->c);
	cc->source = xstrdup(mc->source);
	cc->markers = xstrdup(mc->markers);
	cc->image = mc->image ? xstrdup(mc->image) : NULL;
	cc->xy = xmallocarray(2 * mc->n + 1, sizeof(double));
	memcpy(cc->xy, mc->xy, 2 * mc->n * sizeof(double));
	cc->id = mc->id;
	cc->n = mc->n;
	return 0;
}

static void card_copy_release(struct card_copy *cc)
{
	card_release(&cc->c);
	free(cc->source);
	free(cc->markers);
	free(cc->image);
	free(cc->xy);
}

/* [[x, y], ...] of the n points x0, y0, x1, y1, ... */
static cJSON *points_json(const double *xy, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateNumber(xy[2 * i]));
		cJSON_AddItemToArray(p, cJSON_CreateNumber(xy[2 * i + 1]));
		cJSON_AddItemToArray(a, p);
	}
	return a;
}

/* A plain black-on-white picture of the card, for a person to mark. */
static int render_card(const struct card *c, const char *path, struct err *e)
{
	struct card_render_opts o;
	struct card_raster img = {0};
	struct rng r;
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret = -1;
	card_render_opts_init(&o);
	o.width = 640;
	o.height = 480;
	o.plain = true;
	o.noiseless = true;
	rng_init(&r, 1);
	if (card_render(&img, c, &r, &o, e) == 0 &&
	    card_raster_encode(&img, CARD_IMAGE_PNG, 0, &buf, &len, e) == 0)
		ret = atomic_write(path, buf, len, e);
	card_raster_release(&img);
	free(buf);
	return ret;
}

/* The top 3 markers of model id for the card, as a JSON array. */
static int suggest(const char *id, const struct card *c, cJSON **out, struct err *e)
{
	struct store *s = NULL;
	struct model *m = NULL;
	double *p = NULL;
	int ret = -1;
	*out = NULL;
	if (store_open_existing(&s, store_path(), e) < 0 || model_from_store(s, id, &m, e) < 0) {
		err_prefix(e, "--suggest");
		goto out;
	}
	p = xcalloc(m->k, sizeof(double));
	if (input_predict_card(m, id, c, p, e) < 0) {
		err_prefix(e, "--suggest");
		goto out;
	}
	*out = cJSON_CreateArray();
	for (int t = 0; t < 3 && t < (int)m->k; t++) {
		size_t best = 0;
		for (size_t j = 1; j < m->k; j++)
			if (p[j] > p[best])
				best = j;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "marker", m->classes[best]);
		cJSON_AddNumberToObject(o, "probability", p[best]);
		cJSON_AddItemToArray(*out, o);
		p[best] = -1;
	}
	ret = 0;
out:
	free(p);
	model_free(&m);
	store_free(&s);
	return ret;
}

int mark_next(int argc, char **argv)
{
	const char *user_opt = NULL, *ttl_s = NULL, *render = NULL, *model = NULL, *user;
	int rc = 0, n;
	const struct opt opts[] = {
	    OPT_STRING_(0, "user", &user_opt, "NAME", "who asks (default $USER)"),
	    OPT_STRING_(0, "ttl", &ttl_s, "TIME", "hold the card this long (default 30m)"),
	    OPT_STRING_(0, "render", &render, "FILE.png", "draw the card into FILE.png"),
	    OPT_STRING_(0, "suggest", &model, "MODEL", "show the model's top 3 markers"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct card_copy cc;
	struct err e = ERR_INIT;
	struct rng r;
	double ttl = DEFAULT_TTL, until = 0;
	long long card = 0;
	cJSON *doc = NULL, *sug = NULL;
	char t[21];

	memset(&cc, 0, sizeof(cc));
	n = parse_cmd_options(argc, argv, opts,
			      "dyn mark next [--user NAME] [--ttl TIME] [--render FILE.png] "
			      "[--suggest MODEL]",
			      &rc);
	if (n < 0 || (rc = doc_format_check("mark next")))
		return rc;
	if (n > 0)
		return usage_error("mark next: unexpected argument \"%s\"", argv[0]);
	if (ttl_s && parse_ttl(ttl_s, &ttl) < 0)
		return usage_error(
		    "option --ttl: expected a duration like 90s, 30m or 2h, got \"%s\"", ttl_s);
	trace_perf("mark next: start");
	if ((rc = get_user(user_opt, &user)) || (rc = open_db(&db, MARKDB_WRITE)))
		return rc;
	trace_perf("mark next: open");
	{
		/* each call draws afresh (--seed N makes the draw repeatable) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t seed = global.seed ? (uint64_t)global.seed
					    : (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
						  ((uint64_t)getpid() << 40);
		rng_init(&r, seed);
	}
	int got = markdb_next(db, user, ttl, &r, &card, &until, &e);
	trace_perf("mark next: hold a card");
	if (got < 0)
		goto fail;
	if (got == 0) {
		err_set(&e, DYN_ENOTFOUND, "no unmarked card left for %s", user);
		goto fail;
	}
	if (markdb_card(db, card, copy_card, &cc, &e) < 0)
		goto fail;
	if (render && render_card(&cc.c, render, &e) < 0) {
		err_prefix(&e, "--render");
		goto fail;
	}
	if (model && suggest(model, &cc.c, &sug, &e) < 0)
		goto fail;
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "card", (double)cc.id);
	cJSON_AddStringToObject(doc, "source", cc.source);
	cJSON_AddNumberToObject(doc, "points", (double)cc.n);
	if (cc.image)
		cJSON_AddStringToObject(doc, "image", cc.image);
	cJSON_AddStringToObject(doc, "user", user);
	cJSON_AddStringToObject(doc, "held_until", iso_time(until, t));
	if (render)
		cJSON_AddStringToObject(doc, "render", render);
	if (sug) {
		cJSON_AddItemToObject(doc, "suggest", sug);
		sug = NULL;
	}
	int fmt = output_format(1);
	if (fmt == OUT_JSON || fmt == OUT_NDJSON)
		cJSON_ReplaceItemInObject(doc, "points", points_json(cc.xy, cc.n));
	if (out_doc(stdout, (enum out_format)fmt, doc, &e) < 0)
		goto fail;
	cJSON_Delete(doc);
	card_copy_release(&cc);
	markdb_close(&db);
	return finish_stdout(0);
fail:
	cJSON_Delete(doc);
	cJSON_Delete(sug);
	card_copy_release(&cc);
	markdb_close(&db);
	return report_err(&e);
}

/* dyn mark CARD MARKER[,MARKER...] [--user U] */
int mark_card(int argc, char **argv)
{
	const char *user_opt = NULL, *user;
	int rc = 0, n;
	const struct opt opts[] = {
	    OPT_STRING_(0, "user", &user_opt, "NAME", "who marks (default $USER)"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct strv names;
	struct err e = ERR_INIT;
	long long card;
	int r;

	strv_init(&names);
	n = parse_cmd_options(argc, argv, opts, "dyn mark CARD MARKER[,MARKER...] [--user NAME]",
			      &rc);
	if (n < 0)
		return rc;
	if (n != 2)
		return usage_error("usage: dyn mark CARD MARKER[,MARKER...] [--user NAME]");
	trace_perf("mark: start");
	if ((rc = parse_card(argv[0], &card)) || (rc = split_markers(argv[1], &names)) ||
	    (rc = get_user(user_opt, &user)) || (rc = open_db(&db, MARKDB_WRITE)))
		goto out;
	trace_perf("mark: open");
	r = markdb_mark(db, card, (const char *const *)names.v, names.n, user, &e);
	trace_perf("mark: mark");
	if (r < 0) {
		rc = report_err(&e);
		goto out;
	}
	summary("card %lld marked %s by %s", card, argv[1], user);
	rc = finish_stdout(0);
out:
	markdb_close(&db);
	strv_release(&names);
	return rc;
}

int mark_skip(int argc, char **argv)
{
	const char *user_opt = NULL, *user;
	int rc = 0, n;
	const struct opt opts[] = {
	    OPT_STRING_(0, "user", &user_opt, "NAME", "who skips (default $USER)"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct err e = ERR_INIT;
	long long card;

	n = parse_cmd_options(argc, argv, opts, "dyn mark skip CARD [--user NAME]", &rc);
	if (n < 0)
		return rc;
	if (n != 1)
		return usage_error("usage: dyn mark skip CARD [--user NAME]");
	if ((rc = parse_card(argv[0], &card)) || (rc = get_user(user_opt, &user)) ||
	    (rc = open_db(&db, MARKDB_WRITE)))
		return rc;
	if (markdb_skip(db, card, user, &e) < 0)
		rc = report_err(&e);
	else
		rc = finish_stdout(0);
	markdb_close(&db);
	return rc;
}

/* ---- ls, show, stats, export ---- */

static int ls_row(void *arg, const struct markdb_card *c)
{
	struct out_writer *w = arg;
	out_int(w, c->id);
	out_str(w, c->source);
	out_int(w, (long long)c->n);
	out_str(w, c->markers);
	out_str(w, c->users);
	out_str(w, c->added_at);
	return 0;
}

int mark_ls(int argc, char **argv)
{
	static const char *const cols[] = {"card",    "source", "points",
					   "markers", "users",	"added_at"};
	const char *marker = NULL, *user = NULL;
	int unmarked = 0, rc = 0, n;
	const struct opt opts[] = {
	    OPT_BOOL_(0, "unmarked", &unmarked, "only cards nobody has marked"),
	    OPT_STRING_(0, "marker", &marker, "NAME", "only cards that carry the marker"),
	    OPT_STRING_(0, "user", &user, "NAME", "only cards the user marked"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct out_writer *w;
	struct err e = ERR_INIT;
	enum markdb_filter f = MARKDB_ALL;

	n = parse_cmd_options(argc, argv, opts, "dyn mark ls [--unmarked | --marker M | --user U]",
			      &rc);
	if (n < 0)
		return rc;
	if (n > 0)
		return usage_error("mark ls: unexpected argument \"%s\"", argv[0]);
	if (!!unmarked + !!marker + !!user > 1)
		return usage_error("mark ls: give one of --unmarked, --marker and --user");
	if (unmarked)
		f = MARKDB_UNMARKED;
	else if (marker)
		f = MARKDB_MARKER;
	else if (user)
		f = MARKDB_USER;
	if ((rc = open_db(&db, MARKDB_READ)))
		return rc;
	w = out_new(stdout, (enum out_format)output_format(0), ARRAY_SIZE(cols), cols, NULL);
	rc = markdb_cards(db, f, marker ? marker : user, false, ls_row, w, &e);
	struct err we = ERR_INIT;
	if (out_finish(&w, &we) < 0 && rc == 0) {
		e = we;
		rc = -1;
	}
	if (rc < 0)
		rc = report_err(&e);
	else
		rc = finish_stdout(0);
	markdb_close(&db);
	return rc;
}

static int show_mark(void *arg, const struct markdb_mark *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "marker", m->marker);
	cJSON_AddStringToObject(o, "user", m->user);
	cJSON_AddStringToObject(o, "marked_at", m->at);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

struct show_run {
	cJSON *doc;
	bool points;
};

static int show_card(void *arg, const struct markdb_card *c)
{
	struct show_run *s = arg;
	cJSON *d = s->doc;
	cJSON_AddNumberToObject(d, "card", (double)c->id);
	cJSON_AddStringToObject(d, "source", c->source);
	cJSON_AddStringToObject(d, "hash", c->hash);
	if (c->image)
		cJSON_AddStringToObject(d, "image", c->image);
	cJSON_AddStringToObject(d, "added_at", c->added_at);
	cJSON_AddStringToObject(d, "added_by", c->added_by);
	cJSON_AddStringToObject(d, "markers", c->markers);
	if (s->points) {
		cJSON_AddItemToObject(d, "points", points_json(c->xy, c->n));
	} else {
		cJSON_AddNumberToObject(d, "points", (double)c->n);
	}
	return 0;
}

int mark_show(int argc, char **argv)
{
	const char *render = NULL;
	int rc = 0, n;
	const struct opt opts[] = {
	    OPT_STRING_(0, "render", &render, "FILE.png", "draw the card into FILE.png"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct err e = ERR_INIT;
	struct show_run s;
	char *holder = NULL, t[21];
	double until;
	long long card;

	n = parse_cmd_options(argc, argv, opts, "dyn mark show CARD [--render FILE.png]", &rc);
	if (n < 0 || (rc = doc_format_check("mark show")))
		return rc;
	if (n != 1)
		return usage_error("usage: dyn mark show CARD");
	if ((rc = parse_card(argv[0], &card)) || (rc = open_db(&db, MARKDB_READ)))
		return rc;
	int fmt = output_format(1);
	s.doc = cJSON_CreateObject();
	s.points = fmt == OUT_JSON || fmt == OUT_NDJSON;
	cJSON *marks = cJSON_CreateArray();
	if (markdb_card(db, card, show_card, &s, &e) < 0 ||
	    markdb_card_marks(db, card, show_mark, marks, &e) < 0 ||
	    markdb_card_holder(db, card, &holder, &until, &e) < 0) {
		cJSON_Delete(marks);
		goto fail;
	}
	cJSON_AddItemToObject(s.doc, "marks", marks);
	if (holder) {
		cJSON_AddStringToObject(s.doc, "held_by", holder);
		cJSON_AddStringToObject(s.doc, "held_until", iso_time(until, t));
	}
	if (render) {
		struct card_copy cc;
		memset(&cc, 0, sizeof(cc));
		int bad = markdb_card(db, card, copy_card, &cc, &e) < 0 ||
			  render_card(&cc.c, render, &e) < 0;
		card_copy_release(&cc);
		if (bad) {
			err_prefix(&e, "--render");
			goto fail;
		}
	}
	if (out_doc(stdout, (enum out_format)fmt, s.doc, &e) < 0)
		goto fail;
	cJSON_Delete(s.doc);
	free(holder);
	markdb_close(&db);
	return finish_stdout(0);
fail:
	cJSON_Delete(s.doc);
	free(holder);
	markdb_close(&db);
	return report_err(&e);
}

static int stats_marker(void *arg, const struct markdb_marker *m)
{
	cJSON_AddNumberToObject(arg, m->name, (double)m->cards);
	return 0;
}

static int stats_user(void *arg, const char *user, long long cards, long long skips)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "cards", (double)cards);
	cJSON_AddNumberToObject(o, "skips", (double)skips);
	cJSON_AddItemToObject(arg, user, o);
	return 0;
}

int mark_stats(int argc, char **argv)
{
	const struct opt opts[] = {OPT_END_()};
	struct markdb *db = NULL;
	struct markdb_stats st;
	struct err e = ERR_INIT;
	int rc = 0, n;
	cJSON *doc = NULL, *markers, *users, *agree;

	n = parse_cmd_options(argc, argv, opts, "dyn mark stats", &rc);
	if (n < 0 || (rc = doc_format_check("mark stats")))
		return rc;
	if (n > 0)
		return usage_error("mark stats: unexpected argument \"%s\"", argv[0]);
	if ((rc = open_db(&db, MARKDB_READ)))
		return rc;
	if (markdb_stats(db, &st, &e) < 0)
		goto fail;
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "cards", (double)st.cards);
	cJSON_AddNumberToObject(doc, "marked", (double)st.marked);
	cJSON_AddNumberToObject(doc, "unmarked", (double)(st.cards - st.marked));
	cJSON_AddNumberToObject(doc, "users", (double)st.users);
	agree = cJSON_AddObjectToObject(doc, "agreement");
	cJSON_AddNumberToObject(agree, "cards", (double)st.multi);
	cJSON_AddNumberToObject(agree, "agreed", (double)st.agreed);
	if (st.multi)
		cJSON_AddNumberToObject(agree, "ratio", (double)st.agreed / (double)st.multi);
	else
		cJSON_AddNullToObject(agree, "ratio");
	markers = cJSON_AddObjectToObject(doc, "markers");
	users = cJSON_AddObjectToObject(doc, "by_user");
	if (markdb_markers(db, stats_marker, markers, &e) < 0 ||
	    markdb_users(db, stats_user, users, &e) < 0 ||
	    out_doc(stdout, (enum out_format)output_format(1), doc, &e) < 0)
		goto fail;
	cJSON_Delete(doc);
	markdb_close(&db);
	return finish_stdout(0);
fail:
	cJSON_Delete(doc);
	markdb_close(&db);
	return report_err(&e);
}

struct export_run {
	struct out_writer *w; /* CSV */
	FILE *json;	      /* --format json: an array of card objects, streamed */
	struct strbuf line;
	long long cards;
};

static int export_card(void *arg, const struct markdb_card *c, const char *label)
{
	struct export_run *x = arg;
	char id[32];
	snprintf(id, sizeof(id), "%lld", c->id);
	if (x->json) {
		struct strbuf *sb = &x->line;
		strbuf_reset(sb);
		strbuf_addf(sb, "%s{\"id\": \"%s\", \"marker\": ", x->cards ? ",\n" : "[\n", id);
		out_json_string(sb, label);
		strbuf_adds(sb, ", \"source\": ");
		out_json_string(sb, c->source);
		strbuf_adds(sb, ", \"points\": [");
		for (size_t i = 0; i < c->n; i++) {
			strbuf_adds(sb, i ? ", [" : "[");
			strbuf_add_double(sb, c->xy[2 * i]);
			strbuf_adds(sb, ", ");
			strbuf_add_double(sb, c->xy[2 * i + 1]);
			strbuf_addch(sb, ']');
		}
		strbuf_adds(sb, "]}");
		fwrite(sb->buf, 1, sb->len, x->json);
	} else {
		for (size_t i = 0; i < c->n; i++) {
			out_str(x->w, id);
			out_str(x->w, label);
			out_num(x->w, c->xy[2 * i]);
			out_num(x->w, c->xy[2 * i + 1]);
		}
	}
	x->cards++;
	return 0;
}

int mark_export(int argc, char **argv)
{
	static const char *const cols[] = {"card", "marker", "position", "load"};
	const char *since = NULL;
	const struct opt opts[] = {
	    OPT_STRING_(0, "since", &since, "TIME", "only cards marked after TIME (ISO 8601 UTC)"),
	    OPT_END_(),
	};
	struct markdb *db = NULL;
	struct export_run x;
	struct err e = ERR_INIT;
	enum out_format f = OUT_CSV;
	int rc = 0, n;

	n = parse_cmd_options(argc, argv, opts,
			      "dyn mark export [--format csv|json] [--since TIME]", &rc);
	if (n < 0)
		return rc;
	if (n > 0)
		return usage_error("mark export: unexpected argument \"%s\"", argv[0]);
	if (global.format &&
	    (out_format_parse(global.format, &f) < 0 || (f != OUT_CSV && f != OUT_JSON)))
		return usage_error("mark export: --format is csv or json, got \"%s\"",
				   global.format);
	if ((rc = open_db(&db, MARKDB_READ)))
		return rc;
	memset(&x, 0, sizeof(x));
	strbuf_init(&x.line);
	if (f == OUT_JSON)
		x.json = stdout;
	else
		x.w = out_new(stdout, OUT_CSV, ARRAY_SIZE(cols), cols, NULL);
	rc = markdb_labeled(db, since, export_card, &x, &e);
	strbuf_release(&x.line);
	if (x.json) {
		if (rc == 0)
			fputs(x.cards ? "\n]\n" : "[]\n", stdout);
	} else {
		struct err we = ERR_INIT;
		if (out_finish(&x.w, &we) < 0 && rc == 0) {
			e = we;
			rc = -1;
		}
	}
	markdb_close(&db);
	if (rc < 0)
		return report_err(&e);
	summary("exported %lld marked card%s", x.cards, x.cards == 1 ? "" : "s");
	return finish_stdout(0);
}
