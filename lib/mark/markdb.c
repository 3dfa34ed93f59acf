/* The marking dataset in SQLite (markdb.h). SQLite is loaded on first use like libarchive
 * (store/sqlite.h): only dyn mark and fit --marked need it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mark/markdb.h"
#include "base/base.h"
#include "cards/markers.h"
#include "store/sqlite.h"
#include "store/store.h"

#define SCHEMA_VERSION 2 /* 2: marks.seq */
#define BUSY_MS	       60000

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, f);
	strbuf_vaddf(&sb, f, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

struct markdb {
	sqlite3 *db;
	char *path;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS markers(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cards(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " source TEXT NOT NULL, image TEXT, npoints INTEGER NOT NULL, points BLOB NOT NULL,"
    " added_at TEXT NOT NULL, added_by TEXT NOT NULL, nmarks INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS cards_unmarked ON cards(id) WHERE nmarks = 0;"
    "CREATE TABLE IF NOT EXISTS marks(card INTEGER NOT NULL REFERENCES cards(id),"
    " marker INTEGER NOT NULL REFERENCES markers(id), user TEXT NOT NULL,"
    " marked_at TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(card, user, marker))"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS marks_seq ON marks(seq);"
    "CREATE INDEX IF NOT EXISTS marks_marker ON marks(marker);"
    "CREATE INDEX IF NOT EXISTS marks_user ON marks(user);"
    "CREATE TABLE IF NOT EXISTS skips(user TEXT NOT NULL, card INTEGER NOT NULL"
    " REFERENCES cards(id), at TEXT NOT NULL, PRIMARY KEY(user, card)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS holds(user TEXT PRIMARY KEY, card INTEGER NOT NULL UNIQUE"
    " REFERENCES cards(id), until REAL NOT NULL);";

static int db_err(struct markdb *db, int rc, struct err *e, const char *what)
{
	int code = DYN_EDATA;
	const char *msg =
	    db->db ? sqlite_lib.sqlite3_errmsg(db->db) : sqlite_lib.sqlite3_errstr(rc);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
		return err_set(e, DYN_EDATA,
			       "\"%s\": not a valid marking database (%s); it was left untouched",
			       db->path, msg);
	if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN ||
	    (rc & 0xff) == SQLITE_PERM)
		return err_set(e, code, "\"%s\": cannot write the marking database: %s", db->path,
			       msg);
	return err_set(e, code, "\"%s\": %s: %s", db->path, what, msg);
}

/* Runs a statement without results (several, ';'-separated). */
static int db_exec(struct markdb *db, const char *sql, struct err *e)
{
	int rc = sqlite_lib.sqlite3_exec(db->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_err(db, rc, e, "query failed");
}

static int prep(struct markdb *db, sqlite3_stmt **st, const char *sql, struct err *e)
{
	int rc = sqlite_lib.sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? 0 : db_err(db, rc, e, "query failed");
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite_lib.sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite_lib.sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite_lib.sqlite3_column_text(st, i);
	return s ? (const char *)s : "";
}

/* Steps a statement that returns nothing: 0 or -1. */
static int step_done(struct markdb *db, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite_lib.sqlite3_step(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_err(db, rc, e, "query failed");
}

/* A statement with one integer result (0 when no row): 0 or -1. */
static int query_int(struct markdb *db, const char *sql, const char *a, long long b, long long *out,
		     struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (prep(db, &st, sql, e) < 0)
		return -1;
	if (a)
		bind_text(st, 1, a);
	sqlite_lib.sqlite3_bind_int64(st, a ? 2 : 1, b);
	*out = 0;
	rc = sqlite_lib.sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite_lib.sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_err(db, rc, e, "query failed");
	sqlite_lib.sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int markdb_begin(struct markdb *db, struct err *e)
{
	return db_exec(db, "BEGIN IMMEDIATE", e);
}

int markdb_commit(struct markdb *db, struct err *e)
{
	return db_exec(db, "COMMIT", e);
}

void markdb_rollback(struct markdb *db)
{
	if (db && db->db && !sqlite_lib.sqlite3_get_autocommit(db->db))
		sqlite_lib.sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

static int init_schema(struct markdb *db, bool write, struct err *e)
{
	long long version = 0, has_meta = 0;
	char now[21];

	if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'", NULL, 0,
		      &has_meta, e) < 0)
		return -1;
	if (has_meta &&
	    query_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema'", NULL, 0,
		      &version, e) < 0)
		return -1;
	if (version > SCHEMA_VERSION)
		return err_set(e, DYN_EDATA,
			       "\"%s\": marking database of schema %lld, made by a newer dyn (this "
			       "one reads %d)",
			       db->path, version, SCHEMA_VERSION);
	if (version == SCHEMA_VERSION)
		return 0;
	if (version == 1) {
		/* schema 1 had no marks.seq: added (0 for the old marks, which then tie on it and
		 * keep their order) by any command that writes */
		if (!write)
			return err_set(
			    e, DYN_EDATA,
			    "\"%s\": marking database of schema 1: a dyn mark command that "
			    "writes (dyn mark markers --add, import, next...) upgrades it",
			    db->path);
		if (markdb_begin(db, e) < 0)
			return -1;
		if (db_exec(db,
			    "ALTER TABLE marks ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
			    "CREATE INDEX IF NOT EXISTS marks_seq ON marks(seq);"
			    "UPDATE meta SET value = '2' WHERE key = 'schema'",
			    e) < 0 ||
		    markdb_commit(db, e) < 0) {
			markdb_rollback(db);
			return -1;
		}
		return 0;
	}
	if (!write)
		return err_set(e, DYN_EDATA, "\"%s\": not a marking database", db->path);
	/* A new database: the schema and the default markers, in one transaction. */
	if (markdb_begin(db, e) < 0)
		return -1;
	if (db_exec(db, schema, e) < 0)
		goto fail;
	utc_now(now);
	sqlite3_stmt *st = NULL;
	if (prep(db, &st,
		 "INSERT OR IGNORE INTO markers(name, description, created_at) "
		 "VALUES (?1, ?2, ?3)",
		 e) < 0)
		goto fail;
	for (size_t m = 0; m < CARD_MARKERS_N; m++) {
		bind_text(st, 1, card_markers[m].name);
		bind_text(st, 2, card_markers[m].description);
		bind_text(st, 3, now);
		int bad = step_done(db, st, e);
		sqlite_lib.sqlite3_reset(st);
		if (bad) {
			sqlite_lib.sqlite3_finalize(st);
			goto fail;
		}
	}
	sqlite_lib.sqlite3_finalize(st);
	if (db_exec(db, "INSERT OR REPLACE INTO meta VALUES ('schema', '2')", e) < 0 ||
	    markdb_commit(db, e) < 0)
		goto fail;
	return 0;
fail:
	markdb_rollback(db);
	return -1;
}

static int mkdir_one(const char *path, mode_t mode, struct err *e)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_sys(e, "\"%s\": cannot create directory", path);
	return 0;
}

static int open_conn(struct markdb *db, const char *path, int flags, struct err *e)
{
	/* NOFOLLOW: a symbolic link planted for the database is refused, like the store's */
	int rc = sqlite_lib.sqlite3_open_v2(
	    path, &db->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK)
		return db_err(db, rc, e, "cannot open");
	sqlite_lib.sqlite3_busy_timeout(db->db, BUSY_MS);
	return db_exec(db, "PRAGMA foreign_keys = ON", e);
}

static void close_conn(struct markdb *db)
{
	if (db->db) {
		markdb_rollback(db);
		sqlite_lib.sqlite3_close_v2(db->db);
		db->db = NULL;
	}
}

/* A new database is made complete (schema, default markers, WAL mode) beside its final name
 * and linked into place, so that a process killed while creating it leaves none, never an
 * empty file; of two processes creating it at once, the first link wins. */
static int create_db(struct markdb *db, struct err *e)
{
	char *tmp = fmt("%s.tmp-%ld", db->path, (long)getpid());
	int ret = -1;
	unlink(tmp);
	if (open_conn(db, tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, e) < 0 ||
	    db_exec(db, "PRAGMA journal_mode = WAL", e) < 0 || init_schema(db, true, e) < 0)
		goto out;
	close_conn(db);
	if (link(tmp, db->path) < 0 && errno != EEXIST) {
		err_sys(e, "\"%s\": cannot create", db->path);
		goto out;
	}
	ret = 0;
out:
	close_conn(db);
	unlink(tmp);
	free(tmp);
	return ret;
}

int markdb_open(struct markdb **out, const char *store, enum markdb_mode mode, struct err *e)
{
	struct markdb *db;
	struct strbuf dir = STRBUF_INIT;
	struct stat st;
	bool memory = false;
	long long tables;

	*out = NULL;
	if (sqlite_lib_load("the marking dataset", e) < 0)
		return -1;
	db = xcalloc(1, sizeof(*db));
	db->path = fmt("%s/%s", store, MARKDB_FILE);
	if (mode == MARKDB_READ && (stat(store, &st) < 0 || !S_ISDIR(st.st_mode))) {
		/* reading never creates the store: a mistyped DYN_STORE is named */
		err_set(e, DYN_ENOTFOUND,
			"no store at \"%s\" (set by --store, DYN_STORE or XDG_DATA_HOME; a "
			"command that adds to it creates it)",
			store);
		goto fail;
	}
	if (lstat(db->path, &st) == 0 && S_ISLNK(st.st_mode)) {
		err_set(e, DYN_EDATA,
			"\"%s\": a symbolic link (refused: the store's parts must be its own)",
			db->path);
		goto fail;
	}
	if (stat(db->path, &st) < 0) {
		if (errno != ENOENT) {
			err_sys(e, "\"%s\"", db->path);
			goto fail;
		}
		if (mode == MARKDB_READ) {
			memory = true;
		} else {
			strbuf_addf(&dir, "%s/datasets", store);
			/* a new store is private, as lib/store makes it */
			if (mkdir_one(store, 0700, e) < 0 || mkdir_one(dir.buf, 0777, e) < 0 ||
			    create_db(db, e) < 0)
				goto fail;
		}
	} else if (!S_ISREG(st.st_mode)) {
		err_set(e, DYN_EDATA, "\"%s\": not a regular file", db->path);
		goto fail;
	}
	if (memory) {
		if (open_conn(db, ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, e) < 0 ||
		    init_schema(db, true, e) < 0)
			goto fail;
	} else {
		if (open_conn(db, db->path,
			      mode == MARKDB_WRITE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
			      e) < 0)
			goto fail;
		/* the first statement that reads the file tells one that is not a database
		 * apart, before anything is written */
		if (query_int(db, "SELECT count(*) FROM sqlite_master", NULL, 0, &tables, e) < 0)
			goto fail;
		if (!tables && mode == MARKDB_READ) {
			/* an empty file (from a dyn before databases were linked into place):
			 * no cards yet */
			close_conn(db);
			if (open_conn(db, ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY,
				      e) < 0 ||
			    init_schema(db, true, e) < 0)
				goto fail;
		} else if (init_schema(db, mode == MARKDB_WRITE, e) < 0) {
			goto fail;
		}
	}
	strbuf_release(&dir);
	*out = db;
	return 0;
fail:
	strbuf_release(&dir);
	markdb_close(&db);
	return -1;
}

void markdb_close(struct markdb **pdb)
{
	struct markdb *db = *pdb;
	if (!db)
		return;
	close_conn(db);
	free(db->path);
	free(db);
	*pdb = NULL;
}

const char *markdb_path(const struct markdb *db)
{
	return db->path;
}

bool markdb_valid_marker(const char *s)
{
	size_t n = 0;
	if (!s || !isalnum((unsigned char)s[0]))
		return false;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("_.-", s[n]))
			return false;
	return n <= MARKDB_NAME_MAX;
}

bool markdb_valid_user(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= ' ' || s[n] == 0x7f || strchr(",\"'\\", s[n]))
			return false;
	return n <= MARKDB_NAME_MAX;
}

/* ---- markers ---- */

int markdb_markers(struct markdb *db, int (*fn)(void *arg, const struct markdb_marker *m),
		   void *arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;
	if (prep(db, &st,
		 "SELECT k.name, k.description, (SELECT count(DISTINCT card) FROM marks m "
		 "WHERE m.marker = k.id) FROM markers k ORDER BY k.name",
		 e) < 0)
		return -1;
	while ((rc = sqlite_lib.sqlite3_step(st)) == SQLITE_ROW) {
		struct markdb_marker m = {col_text(st, 0), col_text(st, 1),
					  sqlite_lib.sqlite3_column_int64(st, 2)};
		if ((ret = fn(arg, &m)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(db, rc, e, "reading markers");
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

static int marker_id(struct markdb *db, const char *name, long long *id, struct err *e)
{
	if (query_int(db, "SELECT id FROM markers WHERE name = ?1", name, 0, id, e) < 0)
		return -1;
	if (!*id)
		return err_set(e, DYN_ENOTFOUND, "unknown marker \"%s\" (see dyn mark markers)",
			       name);
	return 0;
}

int markdb_has_marker(struct markdb *db, const char *name, struct err *e)
{
	long long id;
	if (query_int(db, "SELECT id FROM markers WHERE name = ?1", name, 0, &id, e) < 0)
		return -1;
	return id != 0;
}

static int check_marker_name(const char *name, struct err *e)
{
	if (!markdb_valid_marker(name))
		return err_set(e, DYN_EUSAGE,
			       "invalid marker name \"%s\" (letters, digits, '_', '.' and '-', "
			       "starting with a letter or digit, at most %d)",
			       name, MARKDB_NAME_MAX);
	return 0;
}

int markdb_marker_add(struct markdb *db, const char *name, const char *description, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char now[21];
	int rc;
	if (check_marker_name(name, e) < 0)
		return -1;
	if (prep(db, &st, "INSERT INTO markers(name, description, created_at) VALUES (?1, ?2, ?3)",
		 e) < 0)
		return -1;
	utc_now(now);
	bind_text(st, 1, name);
	bind_text(st, 2, description ? description : "");
	bind_text(st, 3, now);
	rc = sqlite_lib.sqlite3_step(st);
	sqlite_lib.sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, DYN_EDATA, "marker \"%s\" exists", name);
	return rc == SQLITE_DONE ? 0 : db_err(db, rc, e, "adding a marker");
}

/* Recounts the marks of the cards that carry marker (or of card when marker is 0). */
static int recount(struct markdb *db, long long marker, long long card, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret;
	if (prep(db, &st,
		 marker ? "UPDATE cards SET nmarks = (SELECT count(*) FROM marks m WHERE m.card = "
			  "cards.id) WHERE id IN (SELECT card FROM marks WHERE marker = ?1)"
			: "UPDATE cards SET nmarks = (SELECT count(*) FROM marks m WHERE m.card = "
			  "cards.id) WHERE id = ?1",
		 e) < 0)
		return -1;
	sqlite_lib.sqlite3_bind_int64(st, 1, marker ? marker : card);
	ret = step_done(db, st, e);
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

int markdb_marker_rm(struct markdb *db, const char *name, bool force, long long *unmarked,
		     struct err *e)
{
	long long id, cards;
	sqlite3_stmt *st = NULL;
	if (markdb_begin(db, e) < 0)
		return -1;
	if (marker_id(db, name, &id, e) < 0 ||
	    query_int(db, "SELECT count(DISTINCT card) FROM marks WHERE marker = ?1", NULL, id,
		      &cards, e) < 0)
		goto fail;
	if (cards && !force) {
		err_set(e, DYN_EDATA,
			"marker \"%s\" is on %lld card%s (--force removes it from them)", name,
			cards, cards == 1 ? "" : "s");
		goto fail;
	}
	if (cards) {
		/* the cards' counts drop after their marks go: remember them first */
		if (db_exec(db,
			    "CREATE TEMP TABLE IF NOT EXISTS touched(card INTEGER PRIMARY KEY);"
			    "DELETE FROM touched",
			    e) < 0 ||
		    prep(db, &st,
			 "INSERT INTO touched SELECT DISTINCT card FROM marks WHERE marker = ?1",
			 e) < 0)
			goto fail;
		sqlite_lib.sqlite3_bind_int64(st, 1, id);
		if (step_done(db, st, e) < 0)
			goto fail;
		sqlite_lib.sqlite3_finalize(st);
		st = NULL;
	}
	if (prep(db, &st, "DELETE FROM marks WHERE marker = ?1", e) < 0)
		goto fail;
	sqlite_lib.sqlite3_bind_int64(st, 1, id);
	if (step_done(db, st, e) < 0)
		goto fail;
	sqlite_lib.sqlite3_finalize(st);
	st = NULL;
	if (cards && db_exec(db,
			     "UPDATE cards SET nmarks = (SELECT count(*) FROM marks m WHERE "
			     "m.card = cards.id) WHERE id IN (SELECT card FROM touched)",
			     e) < 0)
		goto fail;
	if (prep(db, &st, "DELETE FROM markers WHERE id = ?1", e) < 0)
		goto fail;
	sqlite_lib.sqlite3_bind_int64(st, 1, id);
	if (step_done(db, st, e) < 0 || markdb_commit(db, e) < 0)
		goto fail;
	sqlite_lib.sqlite3_finalize(st);
	if (unmarked)
		*unmarked = cards;
	return 0;
fail:
	sqlite_lib.sqlite3_finalize(st);
	markdb_rollback(db);
	return -1;
}

int markdb_marker_rename(struct markdb *db, const char *from, const char *to, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long id;
	int rc;
	if (check_marker_name(to, e) < 0 || marker_id(db, from, &id, e) < 0 ||
	    prep(db, &st, "UPDATE markers SET name = ?1 WHERE id = ?2", e) < 0)
		return -1;
	bind_text(st, 1, to);
	sqlite_lib.sqlite3_bind_int64(st, 2, id);
	rc = sqlite_lib.sqlite3_step(st);
	sqlite_lib.sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, DYN_EDATA, "marker \"%s\" exists", to);
	return rc == SQLITE_DONE ? 0 : db_err(db, rc, e, "renaming a marker");
}

/* ---- cards and marks ---- */

static int card_exists(struct markdb *db, long long card, struct err *e)
{
	long long n;
	if (query_int(db, "SELECT count(*) FROM cards WHERE id = ?1", NULL, card, &n, e) < 0)
		return -1;
	if (!n)
		return err_set(e, DYN_ENOTFOUND, "no card %lld", card);
	return 0;
}

/* Inserts user's marks on card (no transaction of its own). */
static int add_marks(struct markdb *db, long long card, const char *const *markers, size_t n,
		     const char *user, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char now[21];
	int ret = -1;
	utc_now(now);
	if (prep(db, &st,
		 /* seq orders marks made within one second (marked_at's resolution): the
		  * latest mark wins a tie between users */
		 "INSERT OR IGNORE INTO marks(card, marker, user, marked_at, seq) VALUES (?1, ?2, "
		 "?3, ?4, (SELECT coalesce(max(seq), 0) + 1 FROM marks))",
		 e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long long id;
		if (marker_id(db, markers[i], &id, e) < 0)
			goto out;
		sqlite_lib.sqlite3_bind_int64(st, 1, card);
		sqlite_lib.sqlite3_bind_int64(st, 2, id);
		bind_text(st, 3, user);
		bind_text(st, 4, now);
		if (step_done(db, st, e) < 0)
			goto out;
		sqlite_lib.sqlite3_reset(st);
	}
	ret = recount(db, 0, card, e);
out:
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

int markdb_card_add(struct markdb *db, const struct markdb_new_card *nc, long long *id,
		    struct err *e)
{
	sqlite3_stmt *st = NULL;
	const struct card *c = nc->card;
	double *xy = NULL;
	char now[21];
	int rc, ret = -1;

	if (query_int(db, "SELECT id FROM cards WHERE hash = ?1", nc->hash, 0, id, e) < 0)
		return -1;
	if (*id)
		return 0;
	if (prep(db, &st,
		 "INSERT INTO cards(hash, source, image, npoints, points, added_at, added_by) "
		 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		 e) < 0)
		return -1;
	xy = xmallocarray(2 * c->n + 1, sizeof(double));
	for (size_t i = 0; i < c->n; i++) {
		xy[2 * i] = c->x[i];
		xy[2 * i + 1] = c->y[i];
	}
	utc_now(now);
	bind_text(st, 1, nc->hash);
	bind_text(st, 2, c->id ? c->id : "");
	bind_text(st, 3, nc->image);
	sqlite_lib.sqlite3_bind_int64(st, 4, (long long)c->n);
	sqlite_lib.sqlite3_bind_blob(st, 5, xy, (int)(2 * c->n * sizeof(double)), SQLITE_STATIC);
	bind_text(st, 6, now);
	bind_text(st, 7, nc->user);
	rc = sqlite_lib.sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		db_err(db, rc, e, "adding a card");
		goto out;
	}
	*id = sqlite_lib.sqlite3_last_insert_rowid(db->db);
	if (nc->nmarkers && add_marks(db, *id, nc->markers, nc->nmarkers, nc->user, e) < 0)
		goto out;
	ret = 1;
out:
	sqlite_lib.sqlite3_finalize(st);
	free(xy);
	return ret;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The first card at or after from that user may be handed: unmarked, not skipped by user,
 * held by nobody. */
static int pick_from(struct markdb *db, const char *user, long long from, long long *card,
		     struct err *e)
{
	return query_int(
	    db,
	    "SELECT id FROM cards c WHERE nmarks = 0 AND id >= ?2 "
	    "AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.card = c.id) "
	    "AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.user = ?1 AND s.card = c.id) "
	    "ORDER BY id LIMIT 1",
	    user, from, card, e);
}

int markdb_next(struct markdb *db, const char *user, double ttl, struct rng *r, long long *card,
		double *held_until, struct err *e)
{
	sqlite3_stmt *st = NULL;
	double now = now_seconds();
	long long maxid, from;

	*card = 0;
	if (markdb_begin(db, e) < 0)
		return -1;
	if (prep(db, &st, "DELETE FROM holds WHERE until < ?1", e) < 0)
		goto fail;
	sqlite_lib.sqlite3_bind_double(st, 1, now);
	if (step_done(db, st, e) < 0)
		goto fail;
	sqlite_lib.sqlite3_finalize(st);
	st = NULL;
	if (query_int(db, "SELECT card FROM holds WHERE user = ?1", user, 0, card, e) < 0)
		goto fail;
	if (!*card) {
		/* a random place in the id range, then the first card there that may be
		 * handed, wrapping around */
		if (query_int(db, "SELECT coalesce(max(id), 0) FROM cards", NULL, 0, &maxid, e) < 0)
			goto fail;
		from = maxid ? 1 + (long long)rng_below(r, (uint64_t)maxid) : 1;
		if (pick_from(db, user, from, card, e) < 0 ||
		    (!*card && from > 1 && pick_from(db, user, 1, card, e) < 0))
			goto fail;
	}
	if (*card) {
		if (prep(db, &st,
			 "INSERT OR REPLACE INTO holds(user, card, until) VALUES (?1, ?2, ?3)",
			 e) < 0)
			goto fail;
		bind_text(st, 1, user);
		sqlite_lib.sqlite3_bind_int64(st, 2, *card);
		sqlite_lib.sqlite3_bind_double(st, 3, now + ttl);
		if (step_done(db, st, e) < 0)
			goto fail;
		sqlite_lib.sqlite3_finalize(st);
		st = NULL;
		*held_until = now + ttl;
	}
	if (markdb_commit(db, e) < 0)
		goto fail;
	return *card != 0;
fail:
	sqlite_lib.sqlite3_finalize(st);
	markdb_rollback(db);
	return -1;
}

static int release_hold(struct markdb *db, long long card, const char *user, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret;
	if (prep(db, &st, "DELETE FROM holds WHERE user = ?1 AND card = ?2", e) < 0)
		return -1;
	bind_text(st, 1, user);
	sqlite_lib.sqlite3_bind_int64(st, 2, card);
	ret = step_done(db, st, e);
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

int markdb_mark(struct markdb *db, long long card, const char *const *markers, size_t n,
		const char *user, struct err *e)
{
	sqlite3_stmt *st = NULL;
	if (markdb_begin(db, e) < 0)
		return -1;
	if (card_exists(db, card, e) < 0 ||
	    prep(db, &st, "DELETE FROM marks WHERE card = ?1 AND user = ?2", e) < 0)
		goto fail;
	sqlite_lib.sqlite3_bind_int64(st, 1, card);
	bind_text(st, 2, user);
	if (step_done(db, st, e) < 0)
		goto fail;
	sqlite_lib.sqlite3_finalize(st);
	st = NULL;
	if (add_marks(db, card, markers, n, user, e) < 0 || release_hold(db, card, user, e) < 0 ||
	    markdb_commit(db, e) < 0)
		goto fail;
	return 0;
fail:
	sqlite_lib.sqlite3_finalize(st);
	markdb_rollback(db);
	return -1;
}

int markdb_skip(struct markdb *db, long long card, const char *user, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char now[21];
	if (markdb_begin(db, e) < 0)
		return -1;
	if (card_exists(db, card, e) < 0 ||
	    prep(db, &st, "INSERT OR REPLACE INTO skips(user, card, at) VALUES (?1, ?2, ?3)", e) <
		0)
		goto fail;
	utc_now(now);
	bind_text(st, 1, user);
	sqlite_lib.sqlite3_bind_int64(st, 2, card);
	bind_text(st, 3, now);
	if (step_done(db, st, e) < 0)
		goto fail;
	sqlite_lib.sqlite3_finalize(st);
	st = NULL;
	if (release_hold(db, card, user, e) < 0 || markdb_commit(db, e) < 0)
		goto fail;
	return 0;
fail:
	sqlite_lib.sqlite3_finalize(st);
	markdb_rollback(db);
	return -1;
}

/* ---- reading ---- */

#define CARD_COLS                                                                                  \
	"SELECT c.id, c.hash, c.source, c.image, c.added_at, c.added_by, c.npoints, "              \
	"(SELECT group_concat(name, ',') FROM (SELECT DISTINCT k.name FROM marks m JOIN markers "  \
	"k ON k.id = m.marker WHERE m.card = c.id ORDER BY k.name)), "                             \
	"(SELECT group_concat(user, ',') FROM (SELECT DISTINCT user FROM marks m WHERE m.card = "  \
	"c.id ORDER BY user)), %s FROM cards c "

/* Fills c from a CARD_COLS row; the points (column 9) when points. */
static int card_row(sqlite3_stmt *st, struct markdb_card *c, bool points, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite_lib.sqlite3_column_int64(st, 0);
	c->hash = col_text(st, 1);
	c->source = col_text(st, 2);
	c->image = sqlite_lib.sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : col_text(st, 3);
	c->added_at = col_text(st, 4);
	c->added_by = col_text(st, 5);
	c->n = (size_t)sqlite_lib.sqlite3_column_int64(st, 6);
	c->markers = col_text(st, 7);
	c->users = col_text(st, 8);
	if (points) {
		const void *blob = sqlite_lib.sqlite3_column_blob(st, 9);
		size_t bytes = (size_t)sqlite_lib.sqlite3_column_bytes(st, 9);
		if (bytes != 2 * c->n * sizeof(double) || (!blob && c->n))
			return err_set(e, DYN_EDATA,
				       "card %lld: damaged points (%zu bytes for %zu "
				       "points)",
				       c->id, bytes, c->n);
		c->xy = blob;
	}
	return 0;
}

static int walk_cards(struct markdb *db, sqlite3_stmt *st, bool points,
		      int (*fn)(void *arg, const struct markdb_card *c), void *fn_arg,
		      size_t *count, struct err *e)
{
	struct markdb_card c;
	int rc, ret = 0;
	*count = 0;
	while ((rc = sqlite_lib.sqlite3_step(st)) == SQLITE_ROW) {
		if (card_row(st, &c, points, e) < 0)
			return -1;
		++*count;
		if ((ret = fn(fn_arg, &c)) != 0)
			return ret;
	}
	return rc == SQLITE_DONE ? 0 : db_err(db, rc, e, "reading cards");
}

int markdb_cards(struct markdb *db, enum markdb_filter filter, const char *arg, bool points,
		 int (*fn)(void *arg, const struct markdb_card *c), void *fn_arg, struct err *e)
{
	static const char *const where[] = {
	    [MARKDB_ALL] = "",
	    [MARKDB_UNMARKED] = "WHERE c.nmarks = 0 ",
	    [MARKDB_MARKER] = ("WHERE c.id IN (SELECT m.card FROM marks m JOIN markers k ON "
			       "k.id = m.marker WHERE k.name = ?1) "),
	    [MARKDB_USER] = "WHERE c.id IN (SELECT m.card FROM marks m WHERE m.user = ?1) ",
	};
	sqlite3_stmt *st = NULL;
	size_t count;
	int ret;
	if (filter == MARKDB_MARKER) {
		long long id;
		if (marker_id(db, arg, &id, e) < 0)
			return -1;
	}
	char *sql = fmt(CARD_COLS "%sORDER BY c.id", points ? "c.points" : "NULL", where[filter]);
	ret = prep(db, &st, sql, e);
	free(sql);
	if (ret < 0)
		return -1;
	if (filter == MARKDB_MARKER || filter == MARKDB_USER)
		bind_text(st, 1, arg);
	ret = walk_cards(db, st, points, fn, fn_arg, &count, e);
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

void markdb_card_copy(const struct markdb_card *mc, const char *id, const char *label,
		      struct card *c)
{
	size_t alloc = 0;
	card_release(c);
	for (size_t i = 0; i < mc->n; i++)
		card_push(c, &alloc, mc->xy[2 * i], mc->xy[2 * i + 1]);
	card_set_id(c, id, label);
}

int markdb_card(struct markdb *db, long long id, int (*fn)(void *arg, const struct markdb_card *c),
		void *fn_arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t count;
	int ret;
	char *sql = fmt(CARD_COLS "WHERE c.id = ?1", "c.points");
	ret = prep(db, &st, sql, e);
	free(sql);
	if (ret < 0)
		return -1;
	sqlite_lib.sqlite3_bind_int64(st, 1, id);
	ret = walk_cards(db, st, true, fn, fn_arg, &count, e);
	sqlite_lib.sqlite3_finalize(st);
	if (ret == 0 && count == 0)
		return err_set(e, DYN_ENOTFOUND, "no card %lld", id);
	return ret;
}

int markdb_card_marks(struct markdb *db, long long id,
		      int (*fn)(void *arg, const struct markdb_mark *m), void *fn_arg,
		      struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;
	if (prep(db, &st,
		 "SELECT k.name, m.user, m.marked_at FROM marks m JOIN markers k ON k.id = "
		 "m.marker WHERE m.card = ?1 ORDER BY m.marked_at, m.user, k.name",
		 e) < 0)
		return -1;
	sqlite_lib.sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite_lib.sqlite3_step(st)) == SQLITE_ROW) {
		struct markdb_mark m = {col_text(st, 0), col_text(st, 1), col_text(st, 2)};
		if ((ret = fn(fn_arg, &m)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(db, rc, e, "reading marks");
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

int markdb_card_holder(struct markdb *db, long long id, char **user, double *until, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	*user = NULL;
	*until = 0;
	if (prep(db, &st, "SELECT user, until FROM holds WHERE card = ?1 AND until >= ?2", e) < 0)
		return -1;
	sqlite_lib.sqlite3_bind_int64(st, 1, id);
	sqlite_lib.sqlite3_bind_double(st, 2, now_seconds());
	rc = sqlite_lib.sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*user = xstrdup(col_text(st, 0));
		*until = sqlite_lib.sqlite3_column_double(st, 1);
	}
	sqlite_lib.sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(db, rc, e, "reading holds");
}

/* Each marked card's marks grouped per user: the walk behind stats and the labeled set. */
struct vote {
	char *set;     /* the user's markers, '+'-joined in name order */
	long long seq; /* the latest of its marks */
	int count;
};

struct card_votes {
	long long card;
	struct vote *v;
	size_t n, alloc;
	char last[32]; /* the card's latest mark */
};

static void votes_reset(struct card_votes *cv)
{
	for (size_t i = 0; i < cv->n; i++)
		free(cv->v[i].set);
	cv->n = 0;
	cv->last[0] = 0;
}

/* Calls fn for each card with its users' marker sets (one vote each, sets merged by count). */
static int walk_votes(struct markdb *db, int (*fn)(void *arg, struct card_votes *cv), void *arg,
		      struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct card_votes cv = {0};
	struct strbuf set = STRBUF_INIT;
	char user[MARKDB_NAME_MAX + 1] = "", at[32] = "";
	long long card = 0, seq = 0;
	int rc, ret = 0;
	bool have = false;

	if (prep(db, &st,
		 "SELECT m.card, m.user, k.name, m.marked_at, m.seq FROM marks m JOIN markers k "
		 "ON k.id = m.marker ORDER BY m.card, m.user, k.name",
		 e) < 0)
		return -1;
	for (;;) {
		rc = sqlite_lib.sqlite3_step(st);
		bool row = rc == SQLITE_ROW;
		long long c = row ? sqlite_lib.sqlite3_column_int64(st, 0) : 0;
		const char *u = row ? col_text(st, 1) : "";
		if (have && (!row || c != card || strcmp(u, user) != 0)) {
			/* the previous user's set is complete: one vote */
			size_t i;
			for (i = 0; i < cv.n; i++)
				if (!strcmp(cv.v[i].set, set.buf))
					break;
			if (i == cv.n) {
				ALLOC_GROW(cv.v, cv.n + 1, cv.alloc);
				cv.v[cv.n].set = xstrdup(set.buf);
				cv.v[cv.n].count = 0;
				cv.v[cv.n].seq = 0;
				cv.n++;
			}
			cv.v[i].count++;
			if (seq > cv.v[i].seq)
				cv.v[i].seq = seq;
			if (strcmp(at, cv.last) > 0)
				snprintf(cv.last, sizeof(cv.last), "%s", at);
			strbuf_reset(&set);
			at[0] = 0;
			seq = 0;
			if (!row || c != card) {
				cv.card = card;
				ret = fn(arg, &cv);
				votes_reset(&cv);
				if (ret)
					break;
			}
		}
		if (!row)
			break;
		card = c;
		snprintf(user, sizeof(user), "%s", u);
		if (set.len)
			strbuf_addch(&set, '+');
		strbuf_adds(&set, col_text(st, 2));
		if (strcmp(col_text(st, 3), at) > 0)
			snprintf(at, sizeof(at), "%s", col_text(st, 3));
		if (sqlite_lib.sqlite3_column_int64(st, 4) > seq)
			seq = sqlite_lib.sqlite3_column_int64(st, 4);
		have = true;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && !ret)
		ret = db_err(db, rc, e, "reading marks");
	votes_reset(&cv);
	free(cv.v);
	strbuf_release(&set);
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

static int stats_votes(void *arg, struct card_votes *cv)
{
	struct markdb_stats *s = arg;
	int users = 0;
	for (size_t i = 0; i < cv->n; i++)
		users += cv->v[i].count;
	if (users >= 2) {
		s->multi++;
		s->agreed += cv->n == 1;
	}
	return 0;
}

int markdb_stats(struct markdb *db, struct markdb_stats *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (query_int(db, "SELECT count(*) FROM cards", NULL, 0, &s->cards, e) < 0 ||
	    query_int(db, "SELECT count(*) FROM cards WHERE nmarks > 0", NULL, 0, &s->marked, e) <
		0 ||
	    query_int(db, "SELECT count(*) FROM (SELECT DISTINCT card, user FROM marks)", NULL, 0,
		      &s->marks, e) < 0 ||
	    query_int(db, "SELECT count(DISTINCT user) FROM marks", NULL, 0, &s->users, e) < 0)
		return -1;
	return walk_votes(db, stats_votes, s, e);
}

int markdb_users(struct markdb *db,
		 int (*fn)(void *arg, const char *user, long long cards, long long skips),
		 void *fn_arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;
	if (prep(db, &st,
		 "SELECT user, sum(cards), sum(skips) FROM (SELECT user, count(DISTINCT card) AS "
		 "cards, 0 AS skips FROM marks GROUP BY user UNION ALL SELECT user, 0, count(*) "
		 "FROM skips GROUP BY user) GROUP BY user ORDER BY user",
		 e) < 0)
		return -1;
	while ((rc = sqlite_lib.sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = fn(fn_arg, col_text(st, 0), sqlite_lib.sqlite3_column_int64(st, 1),
			      sqlite_lib.sqlite3_column_int64(st, 2))) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(db, rc, e, "reading users");
	sqlite_lib.sqlite3_finalize(st);
	return ret;
}

struct labeled_walk {
	struct markdb *db;
	const char *since;
	sqlite3_stmt *card;
	int (*fn)(void *arg, const struct markdb_card *c, const char *label);
	void *arg;
	struct err *e;
};

static int labeled_votes(void *arg, struct card_votes *cv)
{
	struct labeled_walk *w = arg;
	struct markdb_card c;
	size_t best = 0;
	int rc, ret;

	if (w->since && strcmp(cv->last, w->since) < 0)
		return 0;
	for (size_t i = 1; i < cv->n; i++)
		if (cv->v[i].count > cv->v[best].count ||
		    (cv->v[i].count == cv->v[best].count && cv->v[i].seq > cv->v[best].seq))
			best = i;
	sqlite_lib.sqlite3_reset(w->card);
	sqlite_lib.sqlite3_bind_int64(w->card, 1, cv->card);
	rc = sqlite_lib.sqlite3_step(w->card);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : db_err(w->db, rc, w->e, "reading cards");
	if (card_row(w->card, &c, true, w->e) < 0)
		return -1;
	ret = w->fn(w->arg, &c, cv->v[best].set);
	return ret;
}

int markdb_labeled(struct markdb *db, const char *since,
		   int (*fn)(void *arg, const struct markdb_card *c, const char *label),
		   void *fn_arg, struct err *e)
{
	struct labeled_walk w = {db, since, NULL, fn, fn_arg, e};
	int ret;
	char *sql = fmt(CARD_COLS "WHERE c.id = ?1", "c.points");
	ret = prep(db, &w.card, sql, e);
	free(sql);
	if (ret < 0)
		return -1;
	/* one read transaction: a mark landing meanwhile is in or out, not half */
	if (db_exec(db, "BEGIN", e) < 0) {
		sqlite_lib.sqlite3_finalize(w.card);
		return -1;
	}
	ret = walk_votes(db, labeled_votes, &w, e);
	sqlite_lib.sqlite3_finalize(w.card);
	sqlite_lib.sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}
