/* Confirmed samples of the marking reader: line crops whose text a person confirmed (dyn
 * predict --confirm), kept in the store for training (dyn fit ocr --confirmed). */
#ifndef DYN_OCR_CONFIRMED_H
#define DYN_OCR_CONFIRMED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/image.h"

/* In the store's directory: each crop as a gray PNG named by the SHA-256 of its bytes
 * (OCR_CONFIRMED_DIR/HASH.png, written once, atomically), and its text with where it came from
 * in the table samples of OCR_CONFIRMED_DB (SQLite in WAL mode, one transaction a confirmation,
 * so that several people confirming at once lose nothing). */
#define OCR_CONFIRMED_DIR "datasets/ocr"
#define OCR_CONFIRMED_DB  "datasets/ocr/confirmed.db"

/* A confirmation: the line crop (upright, as the recognizer reads it; gray or RGB, kept
 * gray), its confirmed text and where it came from. Borrowed. */
struct ocr_confirmation {
	const struct img *crop;
	const char *text;    /* UTF-8, what the line says */
	const char *source;  /* the photo's file name */
	const char *box;     /* the line's box in the photo (JSON, as predict prints it) */
	const char *reading; /* what the model read there */
	const char *model;   /* the model's id */
};

/* Keeps c in the store at directory store (created with datasets/ocr/ when missing): 1 when
 * added, 0 when that crop was confirmed before (its text becomes c's: the latest confirmation
 * wins). hash (unless NULL) receives the crop's hash, *total (unless NULL) the number of
 * samples kept after it. Errors: DYN_EDATA (a database that is not one, a file system error). */
int ocr_confirmed_add(const char *store, const struct ocr_confirmation *c, char hash[65],
		      long long *total, struct err *e);

/* A kept sample, fields borrowed for the callback: its crop's path (the store's directory
 * joined with OCR_CONFIRMED_DIR/HASH.png), hash, text and when it was confirmed. */
struct ocr_confirmed {
	const char *path, *hash, *text, *confirmed_at;
};
/* Calls fn for each sample in the order they were first confirmed; a non-zero return of fn
 * stops the walk and is returned (with e set by fn when -1). No database yet: no samples. */
int ocr_confirmed_each(const char *store,
		       int (*fn)(void *arg, const struct ocr_confirmed *s, struct err *e),
		       void *arg, struct err *e);

#endif
