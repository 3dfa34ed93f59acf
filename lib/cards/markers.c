/* The table of default markers; its order is enum card_marker_id's. */
#include "base/base.h"
#include "cards/markers.h"

const struct card_marker card_markers[CARD_MARKERS_N] = {
    {"normal", "full pump: near parallelogram, flat top at the fluid load, flat bottom"},
    {"fluid-pound", "incomplete fillage: the downstroke holds the load, then drops sharply"},
    {"pump-off", "fluid pound with fillage under about 30%: a narrow strip on the left"},
    {"gas-interference", "free gas: lower-right corner cut along a convex curve, rounded pick-up"},
    {"gas-lock", "chamber full of gas: a thin lens that never reaches the fluid load nor zero"},
    {"traveling-valve-leak", "slow rounded pick-up, load sagging along the upstroke"},
    {"standing-valve-leak", "delayed unloading on the downstroke, rounded rising bottom"},
    {"both-valves-leak", "both branches rounded: an ellipse"},
    {"worn-pump", "plunger slippage: a milder traveling-valve leak"},
    {"tubing-leak", "normal shape with the top line below the expected fluid load"},
    {"pump-hitting-down", "sharp load drop at the bottom-left at the end of the downstroke"},
    {"pump-hitting-up", "sharp load spike at the top-right at the end of the upstroke"},
    {"plunger-out-of-barrel", "the upstroke loses its load partway up"},
    {"parted-rods", "no pump load: a thin band far below the normal load"},
    {"stuck-plunger", "no pump stroke: a thin line inclined along the rods' spring rate"},
    {"tubing-movement", "unanchored tubing: strongly slanted sides"},
    {"pumping-while-flowing", "the well flows through the pump: a very thin, low card"},
    {"high-viscosity",
     "viscous drag: fat card, upstroke above and downstroke below, round corners"},
    {"sand", "jagged, serrated load lines, mostly on the upstroke"},
    {"paraffin-friction", "friction along the tubing: card widened vertically, wavy"},
};

int card_marker_find(const char *name)
{
	for (int i = 0; i < CARD_MARKERS_N; i++)
		if (strcmp(card_markers[i].name, name) == 0)
			return i;
	return -1;
}
