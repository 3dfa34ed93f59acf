/* Poses drawn onto frames (dyn predict --render): each node a filled disc in a colour of its
 * own, each edge a thick line, anti-aliased, clipped to the frame whatever the coordinates. */
#ifndef DYN_VISION_DRAW_H
#define DYN_VISION_DRAW_H

#include <stddef.h>

#include "io/image.h"
#include "vision/pose.h"

/* Coordinates are in pixels with the centre of the top-left pixel at (0, 0) (vision/pose.h's
 * convention): a disc of radius r at an integer (x, y) covers pixel (x, y) fully when r >= 0.5.
 * A pixel is blended with the colour by the part of it the shape covers (estimated from the
 * distance of its centre to the shape's edge), so pixels well inside get the colour exactly.
 * Coordinates that are NaN, infinite or beyond +-1e100 draw nothing; shapes partly outside the
 * frame are cut at its border. An img of 3 channels gets the colour, one of 1 channel its luma
 * (BT.601); any other image is left alone. */
void draw_disc(struct img *im, double cx, double cy, double radius, const unsigned char rgb[3]);
/* A line of the given width from (x0, y0) to (x1, y1) with round ends (every point within
 * width / 2 of the segment). */
void draw_line(struct img *im, double x0, double y0, double x1, double y1, double width,
	       const unsigned char rgb[3]);

/* Makes a gray image RGB (each pixel's value in all three channels), so that colours can be
 * drawn on it; an RGB image is left as it is. */
void draw_to_rgb(struct img *im);

/* How a pose is drawn. Zero sizes scale with the frame: a node's radius is the frame's
 * shorter side / 120 (at least 2 pixels), an edge's width half the radius (at least 1 pixel),
 * so that a 640x480 frame gets 4-pixel dots joined by 2-pixel lines. */
struct pose_draw_opts {
	float radius;  /* of a node's disc, pixels; 0 (or not finite, or < 0): scaled */
	float width;   /* of an edge's line, pixels; 0 (or not finite, or < 0): scaled */
	long edge_rgb; /* edges' colour as 0xRRGGBB; -1: the colour of each edge's first node */
};
#define POSE_DRAW_OPTS_INIT                                                                        \
	{                                                                                          \
		0, 0, -1                                                                           \
	}

/* Node i's colour among nnodes: hues evenly spaced around the colour wheel at full saturation
 * (red first), so that every node of a skeleton has its own. */
void pose_draw_colour(size_t i, size_t nnodes, unsigned char rgb[3]);

/* Draws one animal's pose onto im (RGB: draw_to_rgb first for a gray frame). x, y and score
 * hold s->nnodes values (score NULL: every node scores 1). Node i is drawn when x[i] and y[i]
 * are finite and score[i] >= threshold (a NaN score is not); an edge when both its nodes are
 * (edges naming a node past s->nnodes are skipped). Edges first, then the nodes over them.
 * o NULL: POSE_DRAW_OPTS_INIT. */
void pose_draw(struct img *im, const struct pose_skeleton *s, const float *x, const float *y,
	       const float *score, float threshold, const struct pose_draw_opts *o);

#endif
