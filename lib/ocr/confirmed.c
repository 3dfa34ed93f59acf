/* The confirmed samples of the marking reader in the store (confirmed.h). SQLite is loaded on
 * first use (store/sqlite.h), as for the marking dataset: only --confirm and fit --confirmed
 * need it. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "base/sha256.h"
#include "ocr/confirmed.h"
#include "ocr/synth.h"
#include "store/sqlite.h"
#include "store/store.h"

#define SCHEMA_VERSION 1
#define BUSY_MS	       60000

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS samples(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " text TEXT NOT NULL, source TEXT NOT NULL, box TEXT NOT NULL, reading TEXT NOT NULL,"
    " model TEXT NOT NULL, confirmed_at TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";

struct db {
	sqlite3 *db;
	const char *path;
};

static int db_err(struct db *d, int rc, struct err *e)
{
	const char *msg = d->db ? sqlite_lib.sqlite3_errmsg(d->db) : sqlite_lib.sqlite3_errstr(rc);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
		return err_set(e, DYN_EDATA,
			       "\"%s\": not a valid database (%s); it was left untouched", d->path,
			       msg);
	return err_set(e, DYN_EDATA, "\"%s\": %s", d->path, msg);
}

static int db_exec(struct db *d, const char *sql, struct err *e)
{
	int rc = sqlite_lib.sqlite3_exec(d->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_err(d, rc, e);
}

static void db_close(struct db *d)
{
	if (!d->db)
		return;
	if (!sqlite_lib.sqlite3_get_autocommit(d->db))
		sqlite_lib.sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite_lib.sqlite3_close_v2(d->db);
	d->db = NULL;
}

static int db_open(struct db *d, const char *path, int flags, struct err *e)
{
	/* NOFOLLOW: a symbolic link planted for the database is refused, like the store's */
	int rc = sqlite_lib.sqlite3_open_v2(
	    path, &d->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	d->path = path;
	if (rc != SQLITE_OK) {
		db_err(d, rc, e);
		db_close(d);
		return -1;
	}
	sqlite_lib.sqlite3_busy_timeout(d->db, BUSY_MS);
	return 0;
}

/* The schema version of an open database: 0 for one without our tables. */
static int db_version(struct db *d, long long *v, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	*v = 0;
	rc = sqlite_lib.sqlite3_prepare_v2(
	    d->db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(d, rc, e);
	rc = sqlite_lib.sqlite3_step(st);
	long long has = rc == SQLITE_ROW ? sqlite_lib.sqlite3_column_int64(st, 0) : 0;
	sqlite_lib.sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(d, rc, e);
	if (!has)
		return 0;
	rc = sqlite_lib.sqlite3_prepare_v2(
	    d->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(d, rc, e);
	rc = sqlite_lib.sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite_lib.sqlite3_column_int64(st, 0);
	sqlite_lib.sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(d, rc, e);
	if (*v > SCHEMA_VERSION)
		return err_set(
		    e, DYN_EDATA,
		    "\"%s\": confirmed samples of schema %lld, made by a newer dyn (this "
		    "one reads %d)",
		    d->path, *v, SCHEMA_VERSION);
	return 0;
}

/* A new database is made whole (schema, WAL mode) beside its final name and linked into
 * place: a process killed while creating it leaves none, and of two creating it at once the
 * first link wins. */
static int db_create(const char *path, struct err *e)
{
	struct strbuf tmp = STRBUF_INIT;
	struct db d = {0};
	int ret = -1;
	strbuf_addf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	unlink(tmp.buf);
	if (db_open(&d, tmp.buf, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, e) < 0)
		goto out;
	if (db_exec(&d, "PRAGMA journal_mode = WAL", e) < 0 || db_exec(&d, schema, e) < 0)
		goto out;
	db_close(&d);
	if (link(tmp.buf, path) < 0 && errno != EEXIST) {
		err_sys(e, "\"%s\": cannot create", path);
		goto out;
	}
	ret = 0;
out:
	db_close(&d);
	unlink(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}

static int mkdir_one(const char *path, mode_t mode, struct err *e)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_sys(e, "\"%s\": cannot create directory", path);
	return 0;
}

/* Opens the store's database (creating it, and its folders, for writing): 1 open, 0 when there
 * is none to read. */
static int db_open_store(struct db *d, const char *store, bool write, struct strbuf *path,
			 struct err *e)
{
	struct stat st;
	long long v;
	strbuf_reset(path);
	strbuf_addf(path, "%s/%s", store, OCR_CONFIRMED_DB);
	if (sqlite_lib_load("the confirmed ocr samples", e) < 0)
		return -1;
	if (lstat(path->buf, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(e, DYN_EDATA,
			       "\"%s\": not a regular file (refused: the store's parts "
			       "must be its own)",
			       path->buf);
	if (lstat(path->buf, &st) < 0) {
		struct strbuf dir = STRBUF_INIT;
		int r = 0;
		if (errno != ENOENT)
			return err_sys(e, "\"%s\"", path->buf);
		if (!write)
			return 0;
		/* a new store is private, as lib/store makes it */
		strbuf_addf(&dir, "%s/datasets", store);
		if (mkdir_one(store, 0700, e) < 0 || mkdir_one(dir.buf, 0777, e) < 0)
			r = -1;
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/%s", store, OCR_CONFIRMED_DIR);
		if (!r && mkdir_one(dir.buf, 0777, e) < 0)
			r = -1;
		strbuf_release(&dir);
		if (r < 0 || db_create(path->buf, e) < 0)
			return -1;
	}
	if (db_open(d, path->buf, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, e) < 0)
		return -1;
	if (db_version(d, &v, e) < 0) {
		db_close(d);
		return -1;
	}
	if (v != SCHEMA_VERSION) {
		db_close(d);
		return err_set(e, DYN_EDATA, "\"%s\": not a database of confirmed ocr samples",
			       path->buf);
	}
	return 1;
}

/* Writes the crop's PNG under its hash, once: a file of that name already holds these bytes. */
static int keep_crop(const char *store, const struct img *crop, char hash[65], struct err *e)
{
	struct strbuf png = STRBUF_INIT, path = STRBUF_INIT;
	struct img gray;
	struct stat st;
	int ret = -1;
	img_init(&gray);
	if (crop->channels != 1) {
		/* kept gray: the recognizer reads gray, and a third of the bytes */
		gray.w = crop->w, gray.h = crop->h, gray.channels = 1;
		gray.px = xmallocarray(crop->w, crop->h);
		for (size_t i = 0; i < crop->w * crop->h; i++) {
			const unsigned char *p = crop->px + i * (size_t)crop->channels;
			gray.px[i] = crop->channels >= 3
					 ? (unsigned char)(((unsigned)p[0] + p[1] + p[2]) / 3)
					 : p[0];
		}
		crop = &gray;
	}
	if (ocr_png_encode(crop, &png, "confirmed line", e) < 0)
		goto out;
	sha256_hex(png.buf, png.len, hash);
	strbuf_addf(&path, "%s/%s/%s.png", store, OCR_CONFIRMED_DIR, hash);
	if (lstat(path.buf, &st) == 0 && S_ISREG(st.st_mode)) {
		ret = 0;
		goto out;
	}
	ret = atomic_write(path.buf, png.buf, png.len, e);
out:
	img_release(&gray);
	strbuf_release(&png);
	strbuf_release(&path);
	return ret;
}

static void bind(sqlite3_stmt *st, int i, const char *s)
{
	sqlite_lib.sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

int ocr_confirmed_add(const char *store, const struct ocr_confirmation *c, char hash_out[65],
		      long long *total, struct err *e)
{
	struct db d = {0};
	struct strbuf path = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	char hash[65], now[21];
	int ret = -1, rc, added = 0;

	if (!c->crop || !c->crop->px || !c->text || !*c->text) {
		err_set(e, DYN_EUSAGE, "confirmed sample: no crop or no text");
		goto out;
	}
	if (db_open_store(&d, store, true, &path, e) < 0)
		goto out;
	/* the picture first: a row never names a missing file (a killed writer may leave a
	 * picture no row names, which is harmless) */
	if (keep_crop(store, c->crop, hash, e) < 0)
		goto out;
	utc_now(now);
	if (db_exec(&d, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	rc = sqlite_lib.sqlite3_prepare_v2(
	    d.db,
	    "INSERT INTO samples(hash, text, source, box, reading, model, confirmed_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(hash) DO UPDATE SET "
	    "text = excluded.text, source = excluded.source, box = excluded.box, "
	    "reading = excluded.reading, model = excluded.model, "
	    "confirmed_at = excluded.confirmed_at",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_err(&d, rc, e);
		goto out;
	}
	{
		/* whether the crop is new, asked inside the same transaction */
		sqlite3_stmt *q = NULL;
		rc = sqlite_lib.sqlite3_prepare_v2(
		    d.db, "SELECT count(*) FROM samples WHERE hash = ?1", -1, &q, NULL);
		if (rc != SQLITE_OK) {
			db_err(&d, rc, e);
			goto out;
		}
		bind(q, 1, hash);
		rc = sqlite_lib.sqlite3_step(q);
		added = rc == SQLITE_ROW && sqlite_lib.sqlite3_column_int64(q, 0) == 0;
		sqlite_lib.sqlite3_finalize(q);
		if (rc != SQLITE_ROW) {
			db_err(&d, rc, e);
			goto out;
		}
	}
	bind(st, 1, hash);
	bind(st, 2, c->text);
	bind(st, 3, c->source);
	bind(st, 4, c->box);
	bind(st, 5, c->reading);
	bind(st, 6, c->model);
	bind(st, 7, now);
	rc = sqlite_lib.sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		db_err(&d, rc, e);
		goto out;
	}
	if (total) {
		sqlite3_stmt *q = NULL;
		rc = sqlite_lib.sqlite3_prepare_v2(d.db, "SELECT count(*) FROM samples", -1, &q,
						   NULL);
		if (rc != SQLITE_OK) {
			db_err(&d, rc, e);
			goto out;
		}
		rc = sqlite_lib.sqlite3_step(q);
		*total = rc == SQLITE_ROW ? sqlite_lib.sqlite3_column_int64(q, 0) : 0;
		sqlite_lib.sqlite3_finalize(q);
		if (rc != SQLITE_ROW) {
			db_err(&d, rc, e);
			goto out;
		}
	}
	if (db_exec(&d, "COMMIT", e) < 0)
		goto out;
	if (hash_out)
		memcpy(hash_out, hash, 65);
	ret = added;
out:
	if (st)
		sqlite_lib.sqlite3_finalize(st);
	db_close(&d);
	strbuf_release(&path);
	return ret;
}

int ocr_confirmed_each(const char *store,
		       int (*fn)(void *arg, const struct ocr_confirmed *s, struct err *e),
		       void *arg, struct err *e)
{
	struct db d = {0};
	struct strbuf path = STRBUF_INIT, img = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, r;

	r = db_open_store(&d, store, false, &path, e);
	if (r <= 0) {
		ret = r;
		goto out;
	}
	rc = sqlite_lib.sqlite3_prepare_v2(
	    d.db, "SELECT hash, text, confirmed_at FROM samples ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_err(&d, rc, e);
		goto out;
	}
	while ((rc = sqlite_lib.sqlite3_step(st)) == SQLITE_ROW) {
		struct ocr_confirmed s;
		const char *h = (const char *)sqlite_lib.sqlite3_column_text(st, 0);
		s.hash = h ? h : "";
		s.text = (const char *)sqlite_lib.sqlite3_column_text(st, 1);
		s.confirmed_at = (const char *)sqlite_lib.sqlite3_column_text(st, 2);
		if (!s.text)
			s.text = "";
		if (!s.confirmed_at)
			s.confirmed_at = "";
		/* a hash is what makes the file name: a database edited by hand must not reach
		 * outside the folder */
		if (strlen(s.hash) != 64 || strspn(s.hash, "0123456789abcdef") != 64) {
			err_set(e, DYN_EDATA, "\"%s\": a sample with a bad hash \"%.80s\"",
				path.buf, s.hash);
			goto out;
		}
		strbuf_reset(&img);
		strbuf_addf(&img, "%s/%s/%s.png", store, OCR_CONFIRMED_DIR, s.hash);
		s.path = img.buf;
		if ((r = fn(arg, &s, e)) != 0) {
			ret = r;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		db_err(&d, rc, e);
		goto out;
	}
	ret = 0;
out:
	if (st)
		sqlite_lib.sqlite3_finalize(st);
	db_close(&d);
	strbuf_release(&path);
	strbuf_release(&img);
	return ret;
}
