/* The card reader: cards from points files (CSV, JSON), pictures (PNG, JPEG, BMP, TGA) and
 * archives of them (zip, tar, 7z; compressed or not), one card at a time. */
#ifndef DYN_CARDS_READ_H
#define DYN_CARDS_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "cards/card.h"

/* Limits of one input: a card with more points, an input that reads (decompressed) to more
 * bytes, or a JSON document or picture (read whole) larger than CARD_MAX_DOC_BYTES is refused
 * without being read into memory. */
#define CARD_MAX_POINTS	   100000
#define CARD_MAX_BYTES	   ((unsigned long long)256 << 20)
#define CARD_MAX_DOC_BYTES ((size_t)64 << 20)

/* What to read. Zero means the default given. */
struct card_read_opts {
	/* CSV columns: a file with the card column holds many cards (long format: the rows of
	 * a card together, cards in any order), else one card. Defaults "card", "position",
	 * "load", "marker"; "x" and "y" are taken for position and load when those are absent,
	 * and a file of two numeric columns without a header is position, load. */
	const char *card_col, *x_col, *y_col, *label_col;
	size_t max_points;	      /* CARD_MAX_POINTS */
	unsigned long long max_bytes; /* per input: CARD_MAX_BYTES */
	size_t max_doc_bytes;	      /* CARD_MAX_DOC_BYTES */
	bool no_validate;	      /* hand out cards without card_validate */
	bool keep_pictures;	      /* keep a picture's bytes for card_reader_picture */
};

struct card_reader;

/* Reads the n paths in order ("-": standard input). Opening checks nothing yet: errors come
 * from card_reader_next. *r is owned by the caller: card_reader_free. */
void card_reader_open(struct card_reader **r, const char *const *paths, size_t n,
		      const struct card_read_opts *o);
void card_reader_free(struct card_reader **r);

/* The next card into c (released first; the caller releases the last): 1, 0 after the last,
 * -1 on error with c empty. Inputs:
 *   CSV   position,load (one card a file) or long format card,position,load[,marker];
 *   JSON  {"points": [[x, y], ...]}, [[x, y], ...], [{"x": .., "y": ..}, ...], the old
 *         service's {"raw_data": [[x, y] or {"x", "y"}, ...]}, {"x": [...], "y": [...]},
 *         and an array of such card objects, each with an optional "id" and "marker";
 *   pictures, through card_extract;
 *   archives of all these: a member without a label of its own takes its directory's name
 *   ("train/fluid-pound/003.png": "fluid-pound", the ImageFolder convention), and so does a
 *   picture on disk (not a points file, whose directory is no marker).
 * Ids: "file.csv" (one card), "file.csv:c0007" (long format), "cards.json:3" (its "id", or
 * its 1-based place), "cards.zip:normal/1.png", "stdin:3".
 * After an error the reader goes on: with the next card when one failed card_validate, with
 * the next member or input when a file could not be read (the rest of it is skipped). */
int card_reader_next(struct card_reader *r, struct card *c, struct err *e);
/* With keep_pictures: 1 and the file's bytes (owned by r, valid until the next call of
 * card_reader_next) when the last card was read off a picture, else 0. */
int card_reader_picture(const struct card_reader *r, const void **buf, size_t *len);

#endif
