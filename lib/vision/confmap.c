/* Confidence maps: Gaussian targets, peaks with sub-pixel refinement, centred crops. */
#include <math.h>

#include "base/base.h"
#include "vision/confmap.h"

#define INTEGRAL_HALF 2 /* the 5x5 patch of SLEAP's integral refinement */

int confmap_geom_init(struct confmap_geom *g, size_t in_w, size_t in_h, size_t stride, double sigma,
		      struct err *e)
{
	if (!(sigma > 0) || !isfinite(sigma))
		return err_set(e, DYN_EUSAGE, "--sigma %g: expected a number > 0 (input pixels)",
			       sigma);
	if (stride < 1 || in_w % stride || in_h % stride)
		return err_set(e, DYN_EUSAGE,
			       "--output-stride %zu does not divide the input size %zux%zu", stride,
			       in_w, in_h);
	g->in_w = in_w;
	g->in_h = in_h;
	g->stride = stride;
	g->out_w = in_w / stride;
	g->out_h = in_h / stride;
	g->sigma = (float)sigma;
	return 0;
}

/* Adds one instance to maps already holding others (max), or sets it (first). */
static void draw(const struct confmap_geom *g, const struct pose_point *pts, size_t nnodes,
		 float *out, bool first)
{
	size_t hw = g->out_w * g->out_h;
	double k = 1.0 / (2.0 * (double)g->sigma * g->sigma);
	double *gx = xmallocarray(g->out_w, sizeof(*gx));
	double *gy = xmallocarray(g->out_h, sizeof(*gy));
	for (size_t n = 0; n < nnodes; n++) {
		float *m = out + n * hw;
		if (!pose_point_usable(&pts[n])) {
			if (first)
				memset(m, 0, hw * sizeof(*m));
			continue;
		}
		/* The Gaussian is separable: a row factor times a column factor. */
		for (size_t j = 0; j < g->out_w; j++) {
			double d = (double)(j * g->stride) - pts[n].x;
			gx[j] = exp(-d * d * k);
		}
		for (size_t i = 0; i < g->out_h; i++) {
			double d = (double)(i * g->stride) - pts[n].y;
			gy[i] = exp(-d * d * k);
		}
		for (size_t i = 0; i < g->out_h; i++)
			for (size_t j = 0; j < g->out_w; j++) {
				float v = (float)(gy[i] * gx[j]);
				float *p = &m[i * g->out_w + j];
				if (first || v > *p)
					*p = v;
			}
	}
	free(gx);
	free(gy);
}

void confmap_make(const struct confmap_geom *g, const struct pose_point *pts, size_t nnodes,
		  float *out)
{
	draw(g, pts, nnodes, out, true);
}

void confmap_make_multi(const struct confmap_geom *g, const struct pose_point *pts, size_t ninst,
			size_t nnodes, float *out)
{
	if (!ninst) {
		memset(out, 0, nnodes * g->out_w * g->out_h * sizeof(*out));
		return;
	}
	for (size_t k = 0; k < ninst; k++)
		draw(g, pts + k * nnodes, nnodes, out, k == 0);
}

/* Vertex of the parabola through (-1, l), (0, c), (1, r), within half a pixel. */
static double quad_offset(double l, double c, double r)
{
	double den = l - 2 * c + r, off;
	if (!(den < 0))
		return 0;
	off = 0.5 * (l - r) / den;
	return off > 0.5 ? 0.5 : off < -0.5 ? -0.5 : off;
}

/* The parabola's vertex through the values, or through their logarithms (lg) when all three
 * are positive: a Gaussian's logarithm is a parabola. */
static double refine_offset(double l, double c, double r, bool lg)
{
	if (lg && l > 0 && c > 0 && r > 0)
		return quad_offset(log(l), log(c), log(r));
	return quad_offset(l, c, r);
}

/* The position in input pixels of the peak at output pixel (bi, bj) of map m, refined. */
static void refine_at(const struct confmap_geom *g, const float *m, size_t bi, size_t bj,
		      enum confmap_refine refine, float *x, float *y)
{
	size_t w = g->out_w, h = g->out_h, best = bi * w + bj;
	double dx = 0, dy = 0;
	if (refine == CONFMAP_REFINE_QUADRATIC || refine == CONFMAP_REFINE_GAUSSIAN) {
		bool lg = refine == CONFMAP_REFINE_GAUSSIAN;
		if (bj > 0 && bj + 1 < w)
			dx = refine_offset(m[best - 1], m[best], m[best + 1], lg);
		if (bi > 0 && bi + 1 < h)
			dy = refine_offset(m[best - w], m[best], m[best + w], lg);
	} else if (refine == CONFMAP_REFINE_INTEGRAL) {
		double sum = 0, sx = 0, sy = 0;
		size_t i0 = bi >= INTEGRAL_HALF ? bi - INTEGRAL_HALF : 0;
		size_t j0 = bj >= INTEGRAL_HALF ? bj - INTEGRAL_HALF : 0;
		size_t i1 = bi + INTEGRAL_HALF < h ? bi + INTEGRAL_HALF : h - 1;
		size_t j1 = bj + INTEGRAL_HALF < w ? bj + INTEGRAL_HALF : w - 1;
		for (size_t i = i0; i <= i1; i++)
			for (size_t j = j0; j <= j1; j++) {
				double v = m[i * w + j] > 0 ? m[i * w + j] : 0;
				sum += v;
				sx += v * ((double)j - (double)bj);
				sy += v * ((double)i - (double)bi);
			}
		if (sum > 0) {
			dx = sx / sum;
			dy = sy / sum;
		}
	}
	*x = (float)(((double)bj + dx) * (double)g->stride);
	*y = (float)(((double)bi + dy) * (double)g->stride);
}

void confmap_peaks(const struct confmap_geom *g, const float *maps, size_t nnodes,
		   enum confmap_refine refine, float threshold, struct confmap_peak *out)
{
	size_t w = g->out_w, h = g->out_h;
	for (size_t n = 0; n < nnodes; n++) {
		const float *m = maps + n * w * h;
		size_t best = 0;
		for (size_t p = 1; p < w * h; p++)
			if (m[p] > m[best])
				best = p;
		out[n].score = m[best];
		if (!(m[best] >= threshold)) {
			out[n].x = out[n].y = NAN;
			continue;
		}
		refine_at(g, m, best / w, best % w, refine, &out[n].x, &out[n].y);
	}
}

static int cmp_peak_score(const void *a, const void *b)
{
	const struct confmap_peak *p = a, *q = b;
	/* higher scores first; equal scores keep row order (qsort is not stable: by position) */
	if (p->score != q->score)
		return p->score < q->score ? 1 : -1;
	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	return (p->x > q->x) - (p->x < q->x);
}

size_t confmap_peaks_multi(const struct confmap_geom *g, const float *map,
			   enum confmap_refine refine, float threshold, size_t max,
			   struct confmap_peak *out)
{
	size_t w = g->out_w, h = g->out_h, n = 0, cap = 0;
	struct confmap_peak *all = NULL;
	for (size_t i = 0; i < h; i++)
		for (size_t j = 0; j < w; j++) {
			float v = map[i * w + j];
			bool peak = v >= threshold && v > 0;
			/* a plateau's first pixel in row order is its peak: strictly above the
			 * neighbours before it, at least the ones after */
			for (int di = -1; di <= 1 && peak; di++)
				for (int dj = -1; dj <= 1 && peak; dj++) {
					long ni = (long)i + di, nj = (long)j + dj;
					float u;
					if ((!di && !dj) || ni < 0 || nj < 0 || ni >= (long)h ||
					    nj >= (long)w)
						continue;
					u = map[(size_t)ni * w + (size_t)nj];
					peak = di < 0 || (!di && dj < 0) ? v > u : v >= u;
				}
			if (!peak)
				continue;
			ALLOC_GROW(all, n + 1, cap);
			all[n].score = v;
			refine_at(g, map, i, j, refine, &all[n].x, &all[n].y);
			n++;
		}
	if (n)
		qsort(all, n, sizeof(*all), cmp_peak_score);
	if (n > max)
		n = max;
	if (n)
		memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

bool confmap_instance_center(const struct pose_point *pts, size_t nnodes, long anchor, float *cx,
			     float *cy)
{
	float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
	if (anchor >= 0 && (size_t)anchor < nnodes && pose_point_usable(&pts[anchor])) {
		*cx = pts[anchor].x;
		*cy = pts[anchor].y;
		return true;
	}
	for (size_t n = 0; n < nnodes; n++) {
		if (!pose_point_usable(&pts[n]))
			continue;
		x0 = fminf(x0, pts[n].x);
		x1 = fmaxf(x1, pts[n].x);
		y0 = fminf(y0, pts[n].y);
		y1 = fmaxf(y1, pts[n].y);
	}
	if (!(x0 <= x1))
		return false;
	*cx = 0.5f * (x0 + x1);
	*cy = 0.5f * (y0 + y1);
	return true;
}

void confmap_crop_origin(float cx, float cy, size_t crop_w, size_t crop_h, long *x0, long *y0)
{
	/* the centre falls on pixel (crop_w / 2, crop_h / 2) of the crop */
	*x0 = lround(cx) - (long)(crop_w / 2);
	*y0 = lround(cy) - (long)(crop_h / 2);
}

void confmap_crop(const struct img *src, long x0, long y0, size_t crop_w, size_t crop_h,
		  unsigned char *out)
{
	size_t c = (size_t)src->channels;
	memset(out, 0, crop_w * crop_h * c);
	for (size_t i = 0; i < crop_h; i++) {
		long sy = y0 + (long)i;
		long sx0 = x0, sx1 = x0 + (long)crop_w; /* source columns [sx0, sx1) */
		long a = sx0 < 0 ? 0 : sx0, b = sx1 > (long)src->w ? (long)src->w : sx1;
		if (sy < 0 || sy >= (long)src->h || a >= b)
			continue;
		memcpy(out + (i * crop_w + (size_t)(a - sx0)) * c,
		       src->px + ((size_t)sy * src->w + (size_t)a) * c, (size_t)(b - a) * c);
	}
}

int confmap_crop_instance(const struct img *src, const struct pose_point *pts, size_t nnodes,
			  long anchor, size_t crop_w, size_t crop_h, struct img *out,
			  struct pose_point *out_pts, long *x0, long *y0, struct err *e)
{
	float cx, cy;
	img_release(out);
	if (crop_w < IMG_MIN_SIDE || crop_h < IMG_MIN_SIDE || crop_w > IMG_MAX_SIDE ||
	    crop_h > IMG_MAX_SIDE || crop_w * crop_h > IMG_MAX_PIXELS)
		return err_set(e, DYN_EUSAGE, "a %zux%zu crop (sides of %d to %d pixels)", crop_w,
			       crop_h, IMG_MIN_SIDE, IMG_MAX_SIDE);
	if (!confmap_instance_center(pts, nnodes, anchor, &cx, &cy))
		return err_set(e, DYN_EDATA,
			       "an instance without a labeled visible point to centre "
			       "a crop on");
	confmap_crop_origin(cx, cy, crop_w, crop_h, x0, y0);
	out->w = crop_w;
	out->h = crop_h;
	out->channels = src->channels;
	out->px = xmallocarray(crop_w * crop_h, (size_t)src->channels);
	confmap_crop(src, *x0, *y0, crop_w, crop_h, out->px);
	for (size_t n = 0; n < nnodes; n++) {
		out_pts[n] = pts[n];
		out_pts[n].x = pts[n].x - (float)*x0;
		out_pts[n].y = pts[n].y - (float)*y0;
	}
	return 0;
}
