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
	 * zero line is kept when the picture shows axes (see card_features). */
	bool from_image;
};

void card_init(struct card *c);
void card_release(struct card *c);

/* Checks a card before it is used: at least 8 points, all finite, a load that varies, a
 * position that varies, a closed loop (a card whose ends are far apart is open) that is not
 * the same few points repeated. Errors (DYN_EDATA) name the card: "c.csv:c0007: card has 5
 * points (at least 8 are needed)". */
int card_validate(const struct card *c, struct err *e);

#endif
