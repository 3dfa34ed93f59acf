/* A card turned into a network's inputs (float32): the loop in a canonical direction and phase,
 * resampled to a fixed length (card_curve), a few scalars (card_scalars), or drawn as an image
 * (card_raster), the same for cards read from points and from pictures. */
#ifndef DYN_CARDS_NORM_H
#define DYN_CARDS_NORM_H

#include <stddef.h>

#include "cards/card.h"

/* Channels of card_curve, each npoints long (out[ch * npoints + i]):
 *   0  position, min-max scaled to [0, 1]
 *   1  load, min-max scaled to [0, 1]
 *   2  load / max |load|: keeps the load range (a parted-rod card is a thin band,
 *      (max - min) / max ~ 0.2, against ~0.44 for a normal card). For a picture without a
 *      horizontal axis (card.load_unanchored) the zero load is unknown: this channel is then
 *      a copy of channel 1.
 *   3  dx, 4  dy: unit tangent of the curve in the unit square (direction of travel). */
#define CARD_CURVE_CHANNELS 5

/* The loop in canonical form: clockwise in (position right, load up), i.e. the upstroke
 * (position increasing) carries the higher loads (a card recorded the other way is
 * reversed); starting at the bottom dead centre (the point nearest minimum position, ties
 * to the lower load: the start of the upstroke); resampled at npoints (>= 2) points evenly
 * spaced in arc length of the curve scaled into the unit square. out holds
 * CARD_CURVE_CHANNELS * npoints floats, owned by the caller. The card is validated first
 * (card_validate's errors). */
int card_curve(const struct card *c, size_t npoints, float *out, struct err *e);

/* Channels of card_series, each npoints long (out[ch * npoints + i]), from the loop in the
 * canonical form of card_curve (direction, start at the bottom dead centre, unit square):
 *   0, 1  position and load resampled evenly in the recorded order (by time for a controller's
 *         card; for a picture, the order the line was traced in), not in arc length: how fast
 *         the load changes during the stroke is lost in arc length
 *   2     load / max |load| in that order (channel 1 when load_unanchored, as in card_curve)
 *   3, 4  upstroke and downstroke load (min-max scaled) at npoints positions evenly spaced
 *         from 0 to 1, the loop split at its top dead centre (maximum position): the two
 *         branches side by side, as the shapes of ../shared/dynamograms.md are described.
 * out holds CARD_SERIES_CHANNELS * npoints floats, owned by the caller; npoints >= 2. */
#define CARD_SERIES_CHANNELS 5
int card_series(const struct card *c, size_t npoints, float *out, struct err *e);

/* Scalars of card_scalars:
 *   0  load range ratio (max - min) / max |load| (1 when load_unanchored)
 *   1  fill: area enclosed in the unit square (0 for a line, 1 for the full square)
 *   2  stroke-normalized area: area / (stroke * max |load|) (fill when load_unanchored)
 *   3  min load / max |load| (0 when load_unanchored)
 *   4  position of the maximum load along the stroke, in [0, 1] */
#define CARD_SCALARS 5
int card_scalars(const struct card *c, float out[CARD_SCALARS], struct err *e);

/* The curve drawn as a size x size image (row 0 at the top; load up, position right), values
 * in [0, 1]: an anti-aliased line about CARD_RASTER_WIDTH pixels wide (at least 1) along the
 * closed loop, scaled into the unit square with a margin of size / 16 pixels on each side.
 * The loop is resampled in arc length first, so sampling density does not change the
 * picture. size >= 8; out holds size * size floats, owned by the caller. */
#define CARD_RASTER_WIDTH(size) ((size) / 48.0 > 1.0 ? (size) / 48.0 : 1.0)
int card_raster(const struct card *c, size_t size, float *out, struct err *e);

/* Any of the three at once (NULL for those not wanted), the card validated and put in
 * canonical form once: curve (CARD_CURVE_CHANNELS * npoints), raster (size * size), scalars
 * (CARD_SCALARS), as card_curve, card_raster and card_scalars give them. */
int card_features(const struct card *c, size_t npoints, float *curve, size_t size, float *raster,
		  float *scalars, struct err *e);

#endif
