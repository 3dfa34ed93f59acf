/* Synthetic photos of stamped parts for testing and measuring text finding: 1-3 marking lines
 * and sometimes ring text around a flange on a textured metal background, the whole turned by
 * 0, 90, 180 or 270 degrees, with the true line boxes and texts. */
#ifndef DYN_OCR_PHOTO_H
#define DYN_OCR_PHOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "io/image.h"
#include "ocr/find.h"
#include "ocr/synth.h"

struct ocr_photo_opts {
	size_t w, h;  /* the stored size, whatever the rotation; 0: 4032x3024 */
	int channels; /* 1 gray, 3 RGB (a tinted metal); 0: 3 */
	int rotation; /* 0, 90, 180 or 270 degrees clockwise; -1: drawn from the seed */
	int lines;    /* straight lines: 1..3; 0: drawn from the seed (1..3); -1: none */
	double ring;  /* chance of a flange with ring text; 0: none, 1: always */
};

/* One line of text on the photo: its text (owned by the photo), its tight box around the ink
 * (the angle its reading direction), and for ring text the ring (box then the square around
 * the ring's outer circle, angle 0). The glyphs are ocr_synth_render(s, seed, text, -1): a
 * test can draw the same line straight. */
struct ocr_photo_line {
	char *text;
	uint64_t seed;
	struct ocr_box box;
	bool is_ring;
	struct ocr_ring ring;
};

/* Embedded value: ocr_photo_init / ocr_photo_release (frees the image, texts, lines). */
struct ocr_photo {
	struct img im;
	struct ocr_photo_line *lines;
	size_t n;
	int rotation;
};

void ocr_photo_init(struct ocr_photo *p);
void ocr_photo_release(struct ocr_photo *p);

/* Draws photo p (released first) from seed alone: the same seed and options give the same
 * bytes. Glyphs come from s, which should be made with effects 0 (clean masks: the photo
 * shades its own relief) and a height of 32..128; texts are ocr_synth_text's. Errors
 * (DYN_EUSAGE): options out of range (a side under 256 or over 8192). */
int ocr_synth_photo(const struct ocr_synth *s, uint64_t seed, const struct ocr_photo_opts *o,
		    struct ocr_photo *p, struct err *e);

#endif
