/* Text finding in a photo of a stamped part: candidate marking lines (oriented boxes at any of
 * the 4 right-angle rotations, with a small skew) and ring text around circles, cut out as
 * upright line images for the recognizer. Classical: gradient energy, morphology, components. */
#ifndef DYN_OCR_FIND_H
#define DYN_OCR_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/image.h"

/* An oriented rectangle in a photo's pixels (x right, y down, pixel i spanning [i, i+1)):
 * centre, length w along the reading direction, height h across it, and the reading direction
 * as an angle in degrees from +x towards +y: 0 reads left to right, 90 top to bottom, 180
 * upside down, 270 bottom to top. */
struct ocr_box {
	double cx, cy, w, h, angle;
};

/* Intersection over union of two oriented boxes (their areas as polygons); 0 when either is
 * empty. The reading direction does not matter: a box and its 180-degree turn overlap fully. */
double ocr_box_iou(const struct ocr_box *a, const struct ocr_box *b);

enum ocr_cand_kind {
	OCR_CAND_LINE, /* a straight line: box */
	OCR_CAND_RING, /* text along a circle: ring; box is the square around it */
};

/* Text on a circle about (cx, cy) between radii r_in and r_out, over the arc from a0 through
 * span degrees (angles as ocr_box's, so increasing clockwise on screen). Unwrapped, the text
 * reads clockwise with its tops outwards; the other reading is the 180-degree turn. */
struct ocr_ring {
	double cx, cy, r_in, r_out, a0, span;
};

struct ocr_cand {
	enum ocr_cand_kind kind;
	struct ocr_box box;
	struct ocr_ring ring;
	/* In [0, 1]: how much the region looks like a line of text (contrast of its strokes to
	 * the photo's background, its fill, stroke crossings along it). Candidates come sorted
	 * by it, best first. */
	double score;
};

struct ocr_find_opts {
	/* the long side of the gray copy the search runs on; 0: 1024 (range 256..4096) */
	size_t work_side;
	/* at most this many candidates (best first); 0: 16 */
	size_t max_cands;
	/* candidates scoring below are dropped; 0: 0.15 */
	double min_score;
	/* also look for ring text: on a face between two concentric circles (a flange's rim and
	 * its bore, found by gradient directions voting for their centre), the band of radii
	 * whose edges stand out from the face, over the arc where they do; one ring a photo */
	bool rings;
};

/* Candidate text regions of a photo (gray or RGB, any size img_decode accepts and at least
 * 16x16), in the photo's pixels; o NULL: the defaults (no rings). *cands (n of them, possibly
 * none) is owned by the caller: free(). Errors (DYN_EUSAGE): bad options; (DYN_EDATA) an
 * empty, too small or too large picture (over IMG_MAX_SIDE a side or IMG_MAX_PIXELS),
 * checked before anything is allocated. */
int ocr_find(const struct img *im, const struct ocr_find_opts *o, struct ocr_cand **cands,
	     size_t *n, struct err *e);

/* The fraction of a cut line's height that the candidate's own box (the ink) fills: the rest
 * is margin, as on the recognizer's synthetic lines (their capitals fill about 0.55). */
#define OCR_CUT_FILL 0.55

/* Cuts candidate c out of photo im as an upright gray line image of the given height (8..256)
 * into out (released first): the box, or the unwrapped ring, with a margin around so that the
 * box fills OCR_CUT_FILL of the height, sampled with an area filter when shrinking; width in
 * proportion, at most 64 * height. flip turns the reading by 180 degrees (the other of the two
 * readings a line or ring allows: the recognizer's confidence decides). Errors (DYN_EUSAGE):
 * height out of range, an empty candidate or picture. */
int ocr_find_cut(const struct img *im, const struct ocr_cand *c, int height, bool flip,
		 struct img *out, struct err *e);

#endif
