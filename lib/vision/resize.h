/* Resampling of 8-bit planes (a gray picture, one channel, one plane of a video frame) to another
 * size: a triangle filter, bilinear when enlarging and widened by the factor when shrinking. */
#ifndef DYN_VISION_RESIZE_H
#define DYN_VISION_RESIZE_H

#include <stddef.h>

#include "base/err.h"

/* Where a plane's samples sit on its picture, along one axis. The picture spans [0, extent) in
 * its own units (the pixels of the full-size plane); sample i of the plane has its centre at
 * i * step + phase. A full-size plane: step 1, phase 0.5. A chroma plane of 4:2:0 video
 * sited between luma pixels (JPEG): step 2, phase 1; co-sited with the even ones (MPEG-2
 * horizontally): step 2, phase 0.5. */
struct vis_axis {
	size_t n;      /* samples in the plane */
	size_t extent; /* the picture's size in its units */
	double step, phase;
};

/* The precomputed weights of one mapping of a plane onto dw x dh samples covering the whole
 * picture evenly, and a work row: heap object, vis_resize_free. Not for two threads at once. */
struct vis_resize;

/* Sizes over VIS_RESIZE_MAX_SIDE are refused (DYN_EDATA), so are empty ones and axes that
 * place no sample on the picture. */
#define VIS_RESIZE_MAX_SIDE 65536
int vis_resize_new(struct vis_resize **r, const struct vis_axis *x, const struct vis_axis *y,
		   size_t dw, size_t dh, struct err *e);
/* The common case: a full-size sw x sh plane. */
int vis_resize_plain(struct vis_resize **r, size_t sw, size_t sh, size_t dw, size_t dh,
		     struct err *e);
void vis_resize_free(struct vis_resize **r);

/* Resamples src (rows sstride bytes apart, of the size given to vis_resize_new) into dst (dh
 * rows of dw bytes, dstride apart). */
void vis_resize_run(struct vis_resize *r, unsigned char *dst, size_t dstride,
		    const unsigned char *src, size_t sstride);

/* One-shot: resamples the interleaved channels (1..4) of a sw x sh picture (rows packed) into a
 * packed dw x dh picture at dst, which the caller allocated. */
int vis_resize_image(unsigned char *dst, size_t dw, size_t dh, const unsigned char *src, size_t sw,
		     size_t sh, int channels, struct err *e);

#endif
