/* Dynamometer cards: one pump stroke as load against rod position, from points files or from
 * pictures; validation, and normalization into a network's inputs (../shared/dynamograms.md). */
#ifndef DYN_CARDS_CARD_H
#define DYN_CARDS_CARD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* One card. Embedded value: card_init / card_release (frees what it points to). */
struct card {
	char *id; /* where it came from: "file.csv:c0007", "cards.zip:normal/12.png", "stdin:3" */
	char *label; /* marker name when the input carried one, else NULL */
	size_t n;    /* points, in recorded order */
	double *x;   /* rod position (m, or plot units for a picture) */
	double *y;   /* load (kN, or plot units for a picture) */
	/* A card read off a picture: x and y are plot coordinates (x right, y up, the plotted
	 * area's own scale), so absolute loads are unknown; the load range relative to the plot's
	 * zero line is kept when the picture shows axes (see card_curve in cards/norm.h). */
	bool from_image;
	/* A picture without a horizontal axis: y's zero (zero load) is unknown, so the load
	 * range relative to the maximum load cannot be measured (card_curve then gives the
	 * min-max load in its range channel). Always false for points. */
	bool load_unanchored;
};

void card_init(struct card *c);
void card_release(struct card *c);

/* Checks a card before it is used: at least 8 points, all finite, a load that varies, a
 * position that varies, a closed loop (a card whose ends are far apart is open) that is not
 * the same few points repeated. Errors (DYN_EDATA) name the card: "c.csv:c0007: card has 5
 * points (at least 8 are needed)". */
int card_validate(const struct card *c, struct err *e);

/* The thresholds of card_validate. A card is open when its ends are more than
 * CARD_OPEN_GAP of the stroke (the position's range) apart, and more than CARD_OPEN_STEPS
 * times its longest step in position between consecutive points (so that a coarsely sampled
 * card, whose step back to the start is long like all its steps, is not called open). Loads
 * are not compared: they jump at constant position where valves open. Half the stroke: a
 * field card may stop short of its start (oilfield12-half.csv card c0132 by 0.40 of its
 * stroke) and still be one stroke; half an upstroke is not. */
#define CARD_MIN_POINTS	  8
#define CARD_MIN_DISTINCT 4
#define CARD_OPEN_GAP	  0.5
#define CARD_OPEN_STEPS	  1.5

/* Appends a point, growing the arrays (alloc: their capacity, owned by the caller's card). */
void card_push(struct card *c, size_t *alloc, double x, double y);
/* Sets id (and label, NULL for none) to copies of the strings. */
void card_set_id(struct card *c, const char *id, const char *label);
/* dst (uninitialized) becomes a deep copy of src. */
void card_copy(struct card *dst, const struct card *src);
/* Drops the points, id and label but keeps the arrays for reuse. */
void card_clear(struct card *c);

#endif
