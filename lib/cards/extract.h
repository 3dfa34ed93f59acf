/* A card read off a picture of one: the plotted curve's pixels found among axes, grid lines,
 * labels and noise, ordered into a closed loop, in plot coordinates. */
#ifndef DYN_CARDS_EXTRACT_H
#define DYN_CARDS_EXTRACT_H

#include "cards/card.h"
#include "io/image.h"

/* Fills c (released first) from the picture im: x right and y up in pixels of the plot area,
 * from_image set. When axes are found (a horizontal and a vertical line meeting at the origin,
 * the picture turned by up to 4 degrees), x and y are measured from the origin along them, y
 * from the zero load, so the load range relative to the maximum load survives; otherwise y is
 * measured from the lowest curve pixel and load_unanchored is set. id and label are left
 * NULL. Errors (DYN_EDATA) name the picture (name): blank, all dark, or no curve found. */
int card_extract(const struct img *im, const char *name, struct card *c, struct err *e);

#endif
