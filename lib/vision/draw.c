/* Poses drawn onto frames (see draw.h): a small rasterizer of discs and round-ended thick lines
 * whose pixels are blended by coverage, every loop bounded by the frame. */
#include <math.h>

#include "vision/draw.h"
#include "base/base.h"

/* Coordinates beyond this draw nothing: squares of smaller ones stay finite in a double. */
#define DRAW_LIMIT 1e100

static bool drawable(const struct img *im)
{
	return im && im->px && im->w && im->h && (im->channels == 1 || im->channels == 3);
}

static bool usable(double v)
{
	return isfinite(v) && fabs(v) <= DRAW_LIMIT;
}

/* Blends pixel (x, y) towards rgb by cov in (0, 1]: 1 gives the colour exactly. */
static void blend(struct img *im, size_t x, size_t y, const unsigned char rgb[3], double cov)
{
	unsigned a = (unsigned)lrint((cov > 1 ? 1 : cov) * 256), k;
	unsigned char *p = im->px + (y * im->w + x) * (size_t)im->channels;
	if (!a)
		return;
	if (im->channels == 3) {
		for (k = 0; k < 3; k++)
			p[k] = (unsigned char)((p[k] * (256 - a) + rgb[k] * a + 128) >> 8);
	} else {
		unsigned l = (unsigned)lrint(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
		p[0] = (unsigned char)((p[0] * (256 - a) + l * a + 128) >> 8);
	}
}

/* The pixel indices of [lo, hi] inside 0..n-1 into *a..*b; false when there are none. The
 * comparisons happen in double, before any conversion, so that no value overflows one. */
static bool span(double lo, double hi, size_t n, size_t *a, size_t *b)
{
	lo = ceil(lo);
	hi = floor(hi);
	if (!(lo <= hi) || hi < 0 || lo > (double)(n - 1))
		return false;
	*a = lo < 0 ? 0 : (size_t)lo;
	*b = hi > (double)(n - 1) ? n - 1 : (size_t)hi;
	return true;
}

void draw_disc(struct img *im, double cx, double cy, double radius, const unsigned char rgb[3])
{
	double reach = radius + 0.5;
	size_t x, y, xa, xb, ya, yb;
	if (!drawable(im) || !usable(cx) || !usable(cy) || !(radius > 0) || !usable(radius))
		return;
	if (!span(cx - reach, cx + reach, im->w, &xa, &xb) ||
	    !span(cy - reach, cy + reach, im->h, &ya, &yb))
		return;
	for (y = ya; y <= yb; y++)
		for (x = xa; x <= xb; x++) {
			double cov = reach - hypot((double)x - cx, (double)y - cy);
			if (cov > 0)
				blend(im, x, y, rgb, cov);
		}
}

/* Cuts the segment to the rectangle [xmin, xmax] x [ymin, ymax] (Liang and Barsky's
 * parametric clipping): false when nothing of it is inside. A cut end is put on the border
 * it crosses, its other coordinate found from the line's slope: computed as a + t * (b - a)
 * from ends 1e30 away, it would lose all its digits. */
static bool clip(double *x0, double *y0, double *x1, double *y1, double xmin, double ymin,
		 double xmax, double ymax)
{
	double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
	double p[4] = {-dx, dx, -dy, dy};
	double q[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
	double edge[4] = {xmin, xmax, ymin, ymax};
	int i, in = -1, out = -1;
	for (i = 0; i < 4; i++) {
		double r;
		if (p[i] == 0) {
			if (q[i] < 0)
				return false;
			continue;
		}
		r = q[i] / p[i];
		if (p[i] < 0) {
			if (r > t1)
				return false;
			if (r > t0)
				t0 = r, in = i;
		} else {
			if (r < t0)
				return false;
			if (r < t1)
				t1 = r, out = i;
		}
	}
	if (in >= 0 && in < 2) {
		*y0 += (edge[in] - *x0) * (dy / dx);
		*x0 = edge[in];
	} else if (in >= 2) {
		*x0 += (edge[in] - *y0) * (dx / dy);
		*y0 = edge[in];
	}
	if (out >= 0 && out < 2) {
		*y1 += (edge[out] - *x1) * (dy / dx);
		*x1 = edge[out];
	} else if (out >= 2) {
		*x1 += (edge[out] - *y1) * (dx / dy);
		*y1 = edge[out];
	}
	return true;
}

/* Widens [*lo, *hi] by where row y crosses the disc of centre (cx, cy) and radius r. */
static void row_disc(double cx, double cy, double r, double y, double *lo, double *hi)
{
	double dy = y - cy, half;
	if (fabs(dy) > r)
		return;
	half = sqrt(r * r - dy * dy);
	*lo = fmin(*lo, cx - half);
	*hi = fmax(*hi, cx + half);
}

/* Widens [*lo, *hi] by where row y crosses the convex polygon of the 4 corners cx, cy. */
static void row_quad(const double cx[4], const double cy[4], double y, double *lo, double *hi)
{
	int i;
	for (i = 0; i < 4; i++) {
		int j = (i + 1) % 4;
		double x;
		if ((cy[i] < y && cy[j] < y) || (cy[i] > y && cy[j] > y))
			continue;
		if (cy[i] == cy[j]) {
			*lo = fmin(*lo, fmin(cx[i], cx[j]));
			*hi = fmax(*hi, fmax(cx[i], cx[j]));
			continue;
		}
		x = cx[i] + (y - cy[i]) * (cx[j] - cx[i]) / (cy[j] - cy[i]);
		*lo = fmin(*lo, x);
		*hi = fmax(*hi, x);
	}
}

void draw_line(struct img *im, double x0, double y0, double x1, double y1, double width,
	       const unsigned char rgb[3])
{
	double reach = width / 2 + 0.5, margin, dx, dy, len2, qx[4] = {0}, qy[4] = {0};
	size_t x, y, ya, yb;
	if (!drawable(im) || !usable(x0) || !usable(y0) || !usable(x1) || !usable(y1) ||
	    !(width > 0) || !usable(width))
		return;
	/* Cut far outside the frame (the round ends there stay out of sight) so that the
	 * arithmetic below works on numbers of the frame's size. */
	margin = reach + 1;
	if (!clip(&x0, &y0, &x1, &y1, -margin, -margin, (double)(im->w - 1) + margin,
		  (double)(im->h - 1) + margin))
		return;
	dx = x1 - x0;
	dy = y1 - y0;
	len2 = dx * dx + dy * dy;
	if (len2 > 0) {
		/* The body: a rectangle reach either side of the segment. */
		double len = sqrt(len2), nx = -dy / len * reach, ny = dx / len * reach;
		qx[0] = x0 + nx, qy[0] = y0 + ny;
		qx[1] = x1 + nx, qy[1] = y1 + ny;
		qx[2] = x1 - nx, qy[2] = y1 - ny;
		qx[3] = x0 - nx, qy[3] = y0 - ny;
	}
	if (!span(fmin(y0, y1) - reach, fmax(y0, y1) + reach, im->h, &ya, &yb))
		return;
	for (y = ya; y <= yb; y++) {
		double fy = (double)y, lo = INFINITY, hi = -INFINITY;
		size_t xa, xb;
		/* The shape is convex: each row crosses it in one run, found from its parts. */
		row_disc(x0, y0, reach, fy, &lo, &hi);
		row_disc(x1, y1, reach, fy, &lo, &hi);
		if (len2 > 0)
			row_quad(qx, qy, fy, &lo, &hi);
		if (!span(lo - 1, hi + 1, im->w, &xa, &xb))
			continue;
		for (x = xa; x <= xb; x++) {
			double px = (double)x - x0, py = fy - y0, t = 0, cov;
			if (len2 > 0) {
				t = (px * dx + py * dy) / len2;
				t = t < 0 ? 0 : t > 1 ? 1 : t;
			}
			cov = reach - hypot(px - t * dx, py - t * dy);
			if (cov > 0)
				blend(im, x, y, rgb, cov);
		}
	}
}

void draw_to_rgb(struct img *im)
{
	unsigned char *px;
	size_t i, n;
	if (!im->px || im->channels != 1)
		return;
	n = im->w * im->h;
	px = xmallocarray(n, 3);
	for (i = 0; i < n; i++)
		px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = im->px[i];
	free(im->px);
	im->px = px;
	im->channels = 3;
}

void pose_draw_colour(size_t i, size_t nnodes, unsigned char rgb[3])
{
	double h = nnodes ? 6.0 * (double)(i % nnodes) / (double)nnodes : 0, f;
	int sector = (int)h;
	unsigned char up, down;
	f = h - sector;
	up = (unsigned char)lrint(255 * f);
	down = (unsigned char)(255 - up);
	switch (sector) {
	case 0:
		rgb[0] = 255, rgb[1] = up, rgb[2] = 0;
		break;
	case 1:
		rgb[0] = down, rgb[1] = 255, rgb[2] = 0;
		break;
	case 2:
		rgb[0] = 0, rgb[1] = 255, rgb[2] = up;
		break;
	case 3:
		rgb[0] = 0, rgb[1] = down, rgb[2] = 255;
		break;
	case 4:
		rgb[0] = up, rgb[1] = 0, rgb[2] = 255;
		break;
	default:
		rgb[0] = 255, rgb[1] = 0, rgb[2] = down;
		break;
	}
}

static bool node_shown(const float *x, const float *y, const float *score, float threshold,
		       size_t i)
{
	return isfinite(x[i]) && isfinite(y[i]) && (!score || score[i] >= threshold);
}

void pose_draw(struct img *im, const struct pose_skeleton *s, const float *x, const float *y,
	       const float *score, float threshold, const struct pose_draw_opts *o)
{
	static const struct pose_draw_opts dflt = POSE_DRAW_OPTS_INIT;
	double side, radius, width;
	unsigned char rgb[3];
	size_t i, n;
	if (!o)
		o = &dflt;
	if (!drawable(im) || !s)
		return;
	n = s->nnodes;
	side = (double)(im->w < im->h ? im->w : im->h);
	radius = isfinite(o->radius) && o->radius > 0 ? o->radius : fmax(2, side / 120);
	width = isfinite(o->width) && o->width > 0 ? o->width : fmax(1, radius / 2);
	for (i = 0; i < s->nedges; i++) {
		size_t a = s->edges[2 * i], b = s->edges[2 * i + 1];
		if (a >= n || b >= n || !node_shown(x, y, score, threshold, a) ||
		    !node_shown(x, y, score, threshold, b))
			continue;
		if (o->edge_rgb >= 0) {
			rgb[0] = (unsigned char)(o->edge_rgb >> 16 & 0xff);
			rgb[1] = (unsigned char)(o->edge_rgb >> 8 & 0xff);
			rgb[2] = (unsigned char)(o->edge_rgb & 0xff);
		} else {
			pose_draw_colour(a, n, rgb);
		}
		draw_line(im, x[a], y[a], x[b], y[b], width, rgb);
	}
	for (i = 0; i < n; i++) {
		if (!node_shown(x, y, score, threshold, i))
			continue;
		pose_draw_colour(i, n, rgb);
		draw_disc(im, x[i], y[i], radius, rgb);
	}
}
