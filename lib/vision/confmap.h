/* Confidence maps for pose networks: Gaussian targets at the output stride (as SLEAP makes
 * them), peaks found back with sub-pixel refinement, and crops centred on one animal.
 *
 * Geometry (SLEAP's): output pixel (i, j) of a map sampled at stride s stands for input pixel
 * (x, y) = (j * s, i * s), and a node at (px, py) gives it
 *     exp(-((j s - px)^2 + (i s - py)^2) / (2 sigma^2))
 * with sigma in input pixels, as SLEAP's configuration documents it (one version of its
 * sleap/nn/data/confidence_maps.py passes sigma times the stride instead): 1 at a point lying on
 * the grid, 0 in every pixel for a point that is not a target (missing, occluded, NaN). Maps are
 * float32, one channel per node, laid out (nnodes, out_h, out_w) as lib/nn's NCHW wants them. */
#ifndef DYN_VISION_CONFMAP_H
#define DYN_VISION_CONFMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "io/image.h"
#include "vision/pose.h"

struct confmap_geom {
	size_t in_w, in_h; /* the network's input */
	size_t stride;	   /* input pixels per output pixel */
	size_t out_w, out_h;
	float sigma; /* in input pixels */
};

/* Checks and fills g: stride >= 1 dividing in_w and in_h, sigma finite and > 0; otherwise a
 * usage error naming the value ("--output-stride 3 does not divide the input size 640x480"). */
int confmap_geom_init(struct confmap_geom *g, size_t in_w, size_t in_h, size_t stride, double sigma,
		      struct err *e);

/* The maps of one instance: out has nnodes * out_h * out_w floats. */
void confmap_make(const struct confmap_geom *g, const struct pose_point *pts, size_t nnodes,
		  float *out);
/* All instances of a frame in one set of maps (each pixel the largest of the instances'
 * values): pts holds ninst * nnodes points. ninst 0 gives zero maps. */
void confmap_make_multi(const struct confmap_geom *g, const struct pose_point *pts, size_t ninst,
			size_t nnodes, float *out);

/* How a peak's position is refined below the output pixel:
 *   CONFMAP_REFINE_NONE: the pixel's own position;
 *   CONFMAP_REFINE_QUADRATIC: along x and along y apart, the vertex of the parabola through the
 *     peak and its two neighbours, offset (l - r) / (2 (l - 2c + r)), within half a pixel
 *     (0 at the map's border or where the three values are not strictly concave);
 *   CONFMAP_REFINE_GAUSSIAN: the same parabola through the logarithms of the three values,
 *     which is exact for a sampled Gaussian (the targets above), falling back to
 *     CONFMAP_REFINE_QUADRATIC where a value is not > 0;
 *   CONFMAP_REFINE_INTEGRAL: SLEAP's integral refinement, the centroid of the values in the
 *     5x5 patch around the peak (clipped to the map; negative values count as 0). */
enum confmap_refine {
	CONFMAP_REFINE_NONE,
	CONFMAP_REFINE_QUADRATIC,
	CONFMAP_REFINE_GAUSSIAN,
	CONFMAP_REFINE_INTEGRAL,
};

struct confmap_peak {
	float x, y;  /* input pixels; NaN when score < the threshold */
	float score; /* the map's value at its largest pixel */
};

/* One peak per node: the largest value of each map (the first in row order among equals),
 * refined, in input pixels (output position times the stride). out has nnodes entries. */
void confmap_peaks(const struct confmap_geom *g, const float *maps, size_t nnodes,
		   enum confmap_refine refine, float threshold, struct confmap_peak *out);

/* Every peak of one map (several animals' anchors): the pixels at or above threshold (and > 0)
 * that are at least their 8 neighbours (on a plateau, its first pixel in row order), refined
 * as confmap_peaks refines, strongest first (ties in row order), at most max of them into out
 * (max entries). Returns how many. */
size_t confmap_peaks_multi(const struct confmap_geom *g, const float *map,
			   enum confmap_refine refine, float threshold, size_t max,
			   struct confmap_peak *out);

/* The centre of an instance: its anchor node when that is usable (anchor >= 0), else the
 * middle of the box around its usable points, as SLEAP centres its crops. False when the
 * instance has no usable point. */
bool confmap_instance_center(const struct pose_point *pts, size_t nnodes, long anchor, float *cx,
			     float *cy);

/* Where a crop_w x crop_h crop centred on (cx, cy) starts: its centre pixel (crop_w / 2,
 * crop_h / 2) on (cx, cy) rounded to the nearest pixel. A point (x, y) of the frame is
 * (x - x0, y - y0) in the crop, and back. */
void confmap_crop_origin(float cx, float cy, size_t crop_w, size_t crop_h, long *x0, long *y0);
/* The crop_w x crop_h pixels of src from (x0, y0) into out (crop_w * crop_h * src->channels
 * bytes, interleaved), zero outside src. */
void confmap_crop(const struct img *src, long x0, long y0, size_t crop_w, size_t crop_h,
		  unsigned char *out);

/* A crop_w x crop_h cut of src centred (to the nearest pixel) on the instance's centre: out
 * (released first) gets the pixels, zero outside src; out_pts (nnodes entries) the points moved
 * into the crop, and *x0, *y0 where the crop's top-left pixel sits in src (add them back to map
 * a prediction in the crop to the frame). Errors: an instance without usable points, a crop
 * side under IMG_MIN_SIDE or over src's limits. */
int confmap_crop_instance(const struct img *src, const struct pose_point *pts, size_t nnodes,
			  long anchor, size_t crop_w, size_t crop_h, struct img *out,
			  struct pose_point *out_pts, long *x0, long *y0, struct err *e);

#endif
