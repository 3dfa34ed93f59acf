/* Synthetic dynamometer cards for training and tests: a pump card drawn per marker with a random
 * severity, carried up the rod string by the damped wave equation, with field-like noise. */
#ifndef DYN_CARDS_GEN_H
#define DYN_CARDS_GEN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "cards/card.h"
#include "core/rng.h"

struct card_gen_opts {
	bool pump;	   /* the pump (downhole) card instead of the surface card */
	bool clean;	   /* no noise, spikes, gaps nor random start: shapes for tests */
	size_t min_points; /* points per card are drawn in [min_points, max_points] */
	size_t max_points;
};

/* Defaults: surface cards, field-like noise, 100 to 400 points. */
void card_gen_opts_init(struct card_gen_opts *o);

/* What was drawn for one card (SI units except loads, which are in kN). */
struct card_gen_info {
	double stroke;	   /* polished-rod stroke, m */
	double spm;	   /* strokes per minute */
	double depth;	   /* pump depth, m */
	double rod_weight; /* buoyant weight of the rods hanging from the surface, kN */
	double fluid_load; /* fluid load on the plunger of a full pump, kN */
	double severity;   /* the marker's fault parameter (fillage, leak rate, ...) */
};

/* Draws one card of default marker MARKER (enum card_marker_id) from R, which is advanced:
 * the same generator state gives the same card on every platform. OUT must be empty (fresh
 * from card_init or zeroed); it receives label (the marker's name), n, x (m) and y (kN), all
 * owned by OUT; id is left NULL for the caller. INFO may be NULL. */
int card_generate(struct card *out, size_t marker, struct rng *r, const struct card_gen_opts *o,
		  struct card_gen_info *info, struct err *e);

#endif
