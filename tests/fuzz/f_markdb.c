/* Fuzz target: the marking database read from a hostile file: opening (not SQLite, another
 * schema, a newer one), then every reading dyn mark does (markers, cards with their points,
 * marks, stats, the labeled set). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "base/base.h"
#include "mark/markdb.h"

static int any_card(void *arg, const struct markdb_card *c)
{
	double *sum = arg;
	for (size_t i = 0; c->xy && i < 2 * c->n; i++)
		*sum += c->xy[i];
	return 0;
}

static int any_marker(void *arg, const struct markdb_marker *m)
{
	(void)arg;
	(void)m;
	return 0;
}

static int any_mark(void *arg, const struct markdb_mark *m)
{
	(void)arg;
	(void)m;
	return 0;
}

static int any_labeled(void *arg, const struct markdb_card *c, const char *label)
{
	(void)label;
	return any_card(arg, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct markdb *db = NULL;
	struct markdb_stats st;
	struct err e = ERR_INIT;
	char store[300];
	double sum = 0;
	if (!fuzz_dir())
		return 0;
	snprintf(store, sizeof(store), "%s/mstore", fuzz_dir());
	mkdir(store, 0700);
	snprintf(store, sizeof(store), "%s/mstore/datasets", fuzz_dir());
	mkdir(store, 0700);
	/* a journal left by the previous input would be replayed into this one */
	snprintf(store, sizeof(store), "%s/mstore/%s-wal", fuzz_dir(), MARKDB_FILE);
	unlink(store);
	snprintf(store, sizeof(store), "%s/mstore/%s-shm", fuzz_dir(), MARKDB_FILE);
	unlink(store);
	if (!fuzz_file(data, size, "mstore/" MARKDB_FILE))
		return 0;
	snprintf(store, sizeof(store), "%s/mstore", fuzz_dir());
	if (markdb_open(&db, store, MARKDB_READ, &e) < 0)
		return 0;
	markdb_markers(db, any_marker, NULL, &e);
	markdb_cards(db, MARKDB_ALL, NULL, true, any_card, &sum, &e);
	markdb_card_marks(db, 1, any_mark, NULL, &e);
	markdb_stats(db, &st, &e);
	markdb_labeled(db, NULL, any_labeled, &sum, &e);
	markdb_close(&db);
	return 0;
}
