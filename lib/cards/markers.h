/* The 20 default dynamometer-card markers (reference shapes of pump conditions, see
 * ../shared/dynamograms.md): their names, one-line descriptions and lookup by name. */
#ifndef DYN_CARDS_MARKERS_H
#define DYN_CARDS_MARKERS_H

#include <stddef.h>

/* Indices into card_markers, in the table's order. */
enum card_marker_id {
	CARD_NORMAL,
	CARD_FLUID_POUND,
	CARD_PUMP_OFF,
	CARD_GAS_INTERFERENCE,
	CARD_GAS_LOCK,
	CARD_TRAVELING_VALVE_LEAK,
	CARD_STANDING_VALVE_LEAK,
	CARD_BOTH_VALVES_LEAK,
	CARD_WORN_PUMP,
	CARD_TUBING_LEAK,
	CARD_PUMP_HITTING_DOWN,
	CARD_PUMP_HITTING_UP,
	CARD_PLUNGER_OUT_OF_BARREL,
	CARD_PARTED_RODS,
	CARD_STUCK_PLUNGER,
	CARD_TUBING_MOVEMENT,
	CARD_PUMPING_WHILE_FLOWING,
	CARD_HIGH_VISCOSITY,
	CARD_SAND,
	CARD_PARAFFIN_FRICTION,
	CARD_MARKERS_N
};

struct card_marker {
	const char *name;	 /* "fluid-pound" */
	const char *description; /* one line, lowercase, no trailing period */
};

/* Static table, CARD_MARKERS_N entries; not to be freed. */
extern const struct card_marker card_markers[CARD_MARKERS_N];

/* Index of the default marker called NAME (exact match), or -1 when there is none. */
int card_marker_find(const char *name);

#endif
