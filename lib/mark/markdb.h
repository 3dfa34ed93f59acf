/* The marking dataset: cards, markers, who marked what, and which card each user holds, in an
 * SQLite database in the store ($DYN_STORE/datasets/dynamograms.db, WAL mode). Every change is
 * one transaction, so that many users can mark at once and a killed process loses nothing. */
#ifndef DYN_MARK_MARKDB_H
#define DYN_MARK_MARKDB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "cards/card.h"
#include "core/rng.h"

#define MARKDB_FILE	"datasets/dynamograms.db"
#define MARKDB_NAME_MAX 64

struct markdb;

enum markdb_mode {
	MARKDB_READ,  /* no database yet reads as an empty one with the default markers */
	MARKDB_WRITE, /* creates the database (and datasets/) when there is none */
};

/* Opens the marking database of the store in directory STORE. A file that is not an SQLite
 * database, or one made by a newer dyn, is an error and is left untouched. *db owned by the
 * caller: markdb_close. */
int markdb_open(struct markdb **db, const char *store, enum markdb_mode mode, struct err *e);
void markdb_close(struct markdb **db);
/* The database file's path (for messages). */
const char *markdb_path(const struct markdb *db);

/* Marker names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63} (so a name is also safe as a directory or
 * file name); user names: 1 to 64 printable characters without spaces, commas or quotes. */
bool markdb_valid_marker(const char *name);
bool markdb_valid_user(const char *user);

/* Markers in name order, with the number of cards that carry each (fields borrowed for the
 * call). A callback's non-zero return stops the walk and is returned. */
struct markdb_marker {
	const char *name, *description;
	long long cards;
};
int markdb_markers(struct markdb *db, int (*fn)(void *arg, const struct markdb_marker *m),
		   void *arg, struct err *e);
/* 1 when a marker called NAME exists, 0 when not, -1 on error. */
int markdb_has_marker(struct markdb *db, const char *name, struct err *e);
int markdb_marker_add(struct markdb *db, const char *name, const char *description, struct err *e);
/* Refused (DYN_EDATA) while cards carry the marker, unless force, which removes those marks
 * first (*unmarked: how many cards lost it; may be NULL). */
int markdb_marker_rm(struct markdb *db, const char *name, bool force, long long *unmarked,
		     struct err *e);
int markdb_marker_rename(struct markdb *db, const char *from, const char *to, struct err *e);

/* Importing: cards are added between markdb_begin and markdb_commit (one transaction per
 * chunk of cards); markdb_rollback undoes an unfinished one. */
int markdb_begin(struct markdb *db, struct err *e);
int markdb_commit(struct markdb *db, struct err *e);
void markdb_rollback(struct markdb *db);

struct markdb_new_card {
	const struct card *card;    /* its points; id is the source name */
	const char *hash;	    /* content hash (64 hex digits): duplicates share it */
	const char *image;	    /* the kept picture's file under datasets/cards/, or NULL */
	const char *user;	    /* who imported it (and marked it, with markers) */
	const char *const *markers; /* existing marker names; nmarkers 0 for an unmarked card */
	size_t nmarkers;
};
/* Adds a card inside a transaction: 1 with *id its new id, 0 when a card with the same hash
 * is already there (*id: that card's), -1 on error (DYN_ENOTFOUND for an unknown marker). */
int markdb_card_add(struct markdb *db, const struct markdb_new_card *nc, long long *id,
		    struct err *e);

/* Hands USER a random card that nobody has marked, that USER has not skipped and that no
 * other user holds; USER keeps it (the same card on every call) until it is marked or skipped
 * or ttl seconds pass without a call. 1 with *card set, 0 when no card is left, -1 on
 * error. *held_until receives the hold's end (seconds since the epoch). */
int markdb_next(struct markdb *db, const char *user, double ttl, struct rng *r, long long *card,
		double *held_until, struct err *e);
/* USER's markers on CARD become exactly markers[0..n) (a new mark replaces USER's earlier one,
 * other users' marks stay); USER's hold on it ends. DYN_ENOTFOUND names an unknown card or
 * marker. */
int markdb_mark(struct markdb *db, long long card, const char *const *markers, size_t n,
		const char *user, struct err *e);
/* USER will not be handed CARD again; USER's hold on it ends. */
int markdb_skip(struct markdb *db, long long card, const char *user, struct err *e);

/* A card as listed or shown; fields borrowed for the callback. markers: the distinct markers
 * any user gave it, comma-separated in name order ("" when unmarked); users likewise. xy: the
 * n points as x0, y0, x1, y1, ... (NULL unless asked for). */
struct markdb_card {
	long long id;
	const char *hash, *source, *image, *added_at, *added_by;
	const char *markers, *users;
	size_t n;
	const double *xy;
};
enum markdb_filter {
	MARKDB_ALL,
	MARKDB_UNMARKED,
	MARKDB_MARKER, /* cards that carry the marker arg */
	MARKDB_USER,   /* cards the user arg marked */
};
/* Cards in id order. */
int markdb_cards(struct markdb *db, enum markdb_filter filter, const char *arg, bool points,
		 int (*fn)(void *arg, const struct markdb_card *c), void *fn_arg, struct err *e);
/* c (initialized, released first) becomes a copy of mc's points, with id and label (NULL:
 * none); mc must carry its points. */
void markdb_card_copy(const struct markdb_card *mc, const char *id, const char *label,
		      struct card *c);

/* One card (DYN_ENOTFOUND when there is none), with its points. */
int markdb_card(struct markdb *db, long long id, int (*fn)(void *arg, const struct markdb_card *c),
		void *fn_arg, struct err *e);

/* A card's marks, skips and hold, for show. */
struct markdb_mark {
	const char *marker, *user, *at;
};
int markdb_card_marks(struct markdb *db, long long id,
		      int (*fn)(void *arg, const struct markdb_mark *m), void *fn_arg,
		      struct err *e);
/* The user holding CARD (a string owned by the caller, NULL when none) and until when. */
int markdb_card_holder(struct markdb *db, long long id, char **user, double *until, struct err *e);

struct markdb_stats {
	long long cards, marked, marks, users;
	long long multi;  /* cards marked by two users or more */
	long long agreed; /* of those, cards on which every user gave the same markers */
};
int markdb_stats(struct markdb *db, struct markdb_stats *st, struct err *e);
/* Per user: marks (cards marked) and skips, in user order. */
int markdb_users(struct markdb *db,
		 int (*fn)(void *arg, const char *user, long long cards, long long skips),
		 void *fn_arg, struct err *e);

/* The labeled set: each marked card with one label, the marker set most users gave it (a
 * set of several markers joined with '+' in name order; a tie goes to the latest mark), for
 * training. since (an ISO 8601 UTC time, or NULL) keeps only cards marked after it. */
int markdb_labeled(struct markdb *db, const char *since,
		   int (*fn)(void *arg, const struct markdb_card *c, const char *label),
		   void *fn_arg, struct err *e);

#endif
