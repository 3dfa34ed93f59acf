/* Pictures of dynamometer cards for training image models: a card drawn into an RGB8 raster
 * with random styling (line, colours, axes, grid, ticks, noise, small rotation) and encoded as
 * PNG or JPEG in memory. Deterministic for a generator state. */
#ifndef DYN_CARDS_RENDER_H
#define DYN_CARDS_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "cards/card.h"
#include "core/rng.h"

enum card_image_format {
	CARD_IMAGE_ANY, /* PNG or JPEG, drawn at random */
	CARD_IMAGE_PNG,
	CARD_IMAGE_JPEG,
};

/* An RGB8 picture, rows top to bottom, 3 bytes a pixel. Embedded value: card_raster_release
 * frees rgb. */
struct card_raster {
	size_t width, height;
	unsigned char *rgb;
};

void card_raster_release(struct card_raster *img);

struct card_render_opts {
	size_t width, height;	       /* pixels, 16 to 4096 each */
	enum card_image_format format; /* for card_render_encoded */
	/* Black 2-pixel line on white, axes from zero load, no grid, noise nor rotation: for
	 * tests that look for the curve. Layout: plot area from 10% to 95% of the width and 5%
	 * to 90% of the height; positions padded by 2% of their span; loads from
	 * min(0, lowest - 5% of the range) to 5% above the highest. */
	bool plain;
	bool noiseless; /* no pixel noise (card_render_encoded sets it for PNG: screenshots) */
};

/* Defaults: 256 x 256, PNG or JPEG at random, random styling. */
void card_render_opts_init(struct card_render_opts *o);

/* Draws card C into OUT (allocated here; release with card_raster_release), advancing R.
 * With axes the load axis starts at zero (or below, for negative loads), so that a thin band
 * high above the axis looks different from a fat card; without axes the card fills the plot.
 * Fails (DYN_EDATA) on a card with fewer than 2 points or non-finite values. */
int card_render(struct card_raster *out, const struct card *c, struct rng *r,
		const struct card_render_opts *o, struct err *e);

/* Encodes IMG as PNG or JPEG (quality 1-100; ignored for PNG). *buf (malloc'd, owned by the
 * caller) and *len receive the file's bytes. FORMAT must not be CARD_IMAGE_ANY. */
int card_raster_encode(const struct card_raster *img, enum card_image_format format, int quality,
		       unsigned char **buf, size_t *len, struct err *e);

/* card_render then card_raster_encode, with the format of O (drawn from R when ANY) and a JPEG
 * quality drawn from R in [35, 95]; *format receives the format used. PNG pictures get no
 * pixel noise (they stand for screenshots), JPEG ones may (scans and photos). */
int card_render_encoded(const struct card *c, struct rng *r, const struct card_render_opts *o,
			unsigned char **buf, size_t *len, enum card_image_format *format,
			struct err *e);

#endif
