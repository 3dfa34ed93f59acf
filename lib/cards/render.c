/* Card pictures: a small vector rasterizer (anti-aliased thick segments through coverage
 * layers) and the encoders of stb_image_write (Debian's libstb). */
#include <math.h>

#include <stb_image_write.h>

#include "base/base.h"
#include "cards/render.h"

/* Coverage of one layer (0..1 a pixel) drawn in one colour. */
struct layer {
	size_t w, h;
	float *cov;
};

/* Where the plot's corners land on the picture: an affine map from data to pixels with a
 * small rotation about the picture's centre. */
struct view {
	double x0, x1, y0, y1;	   /* data range */
	double px0, px1, py0, py1; /* plot area, pixels (py0 top) */
	double cx, cy, cosa, sina;
};

static double unif(struct rng *r, double a, double b)
{
	return a + (b - a) * rng_uniform(r);
}

/* Rotates a point of the unrotated picture about its centre. */
static void rotate(const struct view *v, double u, double w, double *px, double *py)
{
	*px = v->cx + v->cosa * (u - v->cx) - v->sina * (w - v->cy);
	*py = v->cy + v->sina * (u - v->cx) + v->cosa * (w - v->cy);
}

static void to_pixel(const struct view *v, double x, double y, double *px, double *py)
{
	double u = v->px0 + (x - v->x0) / (v->x1 - v->x0) * (v->px1 - v->px0);
	double w = v->py1 - (y - v->y0) / (v->y1 - v->y0) * (v->py1 - v->py0);
	rotate(v, u, w, px, py);
}

/* Adds segment (ax, ay)-(bx, by) of half-width hw (pixels) to the layer: coverage falls from
 * 1 to 0 over the pixel at the edge; the layer keeps the maximum so joints do not darken. */
static void stroke(struct layer *l, double ax, double ay, double bx, double by, double hw)
{
	double pad = hw + 1;
	long i0 = (long)floor(fmin(ax, bx) - pad), i1 = (long)ceil(fmax(ax, bx) + pad);
	long j0 = (long)floor(fmin(ay, by) - pad), j1 = (long)ceil(fmax(ay, by) + pad);
	if (i0 < 0)
		i0 = 0;
	if (j0 < 0)
		j0 = 0;
	if (i1 > (long)l->w - 1)
		i1 = (long)l->w - 1;
	if (j1 > (long)l->h - 1)
		j1 = (long)l->h - 1;
	double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
	/* lines thinner than a pixel are drawn a pixel wide and fainter */
	double thin = fmin(1, 2 * hw), reach = fmax(hw, 0.5);
	for (long j = j0; j <= j1; j++)
		for (long i = i0; i <= i1; i++) {
			double px = (double)i + 0.5 - ax, py = (double)j + 0.5 - ay;
			double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			double ex = px - t * dx, ey = py - t * dy, d = sqrt(ex * ex + ey * ey);
			double c = reach + 0.5 - d;
			if (c <= 0)
				continue;
			c = (c > 1 ? 1 : c) * thin;
			float *p = &l->cov[(size_t)j * l->w + (size_t)i];
			if ((float)c > *p)
				*p = (float)c;
		}
}

static void composite(struct card_raster *img, struct layer *l, const double rgb[3])
{
	for (size_t p = 0; p < img->width * img->height; p++) {
		double a = l->cov[p];
		if (a <= 0)
			continue;
		for (int k = 0; k < 3; k++) {
			double v = img->rgb[3 * p + k] * (1 - a) + 255 * rgb[k] * a;
			img->rgb[3 * p + k] = (unsigned char)(v + 0.5);
		}
		l->cov[p] = 0;
	}
}

/* Tick labels in a 3x5 dot font: digits, point and minus (rows top down, bit 2 = left). */
static const unsigned char glyphs[12][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7},
    {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 2, 2},
    {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}, {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0},
};

/* Draws TEXT with cells of CELL pixels, its box's anchor at (u, w) of the unrotated picture:
 * ax 0 left, 0.5 centre, 1 right; ay likewise from the top. */
static void label(struct layer *l, const struct view *v, double u, double w, const char *text,
		  double cell, double ax, double ay)
{
	size_t n = strlen(text);
	double left = u - ax * ((double)n * 4 - 1) * cell, top = w - ay * 5 * cell;
	for (size_t k = 0; k < n; k++) {
		int g = text[k] == '.' ? 10 : text[k] == '-' ? 11 : text[k] - '0';
		if (g < 0 || g > 11)
			continue;
		for (int row = 0; row < 5; row++)
			for (int col = 0; col < 3; col++)
				if (glyphs[g][row] >> (2 - col) & 1) {
					double px, py;
					rotate(v, left + ((double)k * 4 + col + 0.5) * cell,
					       top + (row + 0.5) * cell, &px, &py);
					stroke(l, px, py, px, py, 0.5 * cell);
				}
	}
}

static void tick_text(char buf[32], double t, double step)
{
	if (fabs(t) < 1e-9 * step)
		t = 0;
	snprintf(buf, 32, "%.4g", t);
}

/* 3 to 6 "nice" steps (1, 2, 2.5 or 5 times a power of ten) across [lo, hi]. */
static double tick_step(double lo, double hi, int want)
{
	double raw = (hi - lo) / want, p = pow(10, floor(log10(raw))), m = raw / p;
	return p * (m < 1.5 ? 1 : m < 2.2 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10);
}

void card_raster_release(struct card_raster *img)
{
	FREE_AND_NULL(img->rgb);
	img->width = img->height = 0;
}

void card_render_opts_init(struct card_render_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->width = 256;
	o->height = 256;
	o->format = CARD_IMAGE_ANY;
}

int card_render(struct card_raster *out, const struct card *c, struct rng *r,
		const struct card_render_opts *o, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (o->width < 16 || o->height < 16 || o->width > 4096 || o->height > 4096)
		return err_set(e, DYN_EUSAGE, "card_render: size %zux%zu out of range (16 to 4096)",
			       o->width, o->height);
	if (c->n < 2)
		return err_set(e, DYN_EDATA,
			       "%s: card has %zu points (at least 2 are needed to draw)",
			       c->id ? c->id : "card", c->n);
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	for (size_t i = 0; i < c->n; i++) {
		if (!isfinite(c->x[i]) || !isfinite(c->y[i]))
			return err_set(e, DYN_EDATA, "%s: point %zu is not finite",
				       c->id ? c->id : "card", i + 1);
		xmin = fmin(xmin, c->x[i]);
		xmax = fmax(xmax, c->x[i]);
		ymin = fmin(ymin, c->y[i]);
		ymax = fmax(ymax, c->y[i]);
	}
	size_t w = o->width, h = o->height;
	double size = (double)(w < h ? w : h), scale = size / 256;

	/* Style. */
	bool plain = o->plain;
	bool axes = plain || rng_uniform(r) < 0.7;
	bool grid = !plain && axes && rng_uniform(r) < 0.5;
	bool ticks = !plain && axes && rng_uniform(r) < 0.8;
	double lw = plain ? 1 : unif(r, 0.45, 1.9) * scale; /* half-width */
	double alpha = plain ? 0 : unif(r, -3, 3) * M_PI / 180;
	double noise = plain || rng_uniform(r) < 0.4 ? 0 : unif(r, 1, 6);
	if (o->noiseless)
		noise = 0;
	double bg[3] = {1, 1, 1}, ink[3] = {0, 0, 0};
	if (!plain) {
		double base = unif(r, 0.93, 1);
		for (int k = 0; k < 3; k++)
			bg[k] = fmin(1, base + unif(r, -0.02, 0.03));
		/* a dark colour: one channel may be bright, the others not, luminance <= 0.45 */
		static const double palette[][3] = {{0, 0, 0},	      {0.1, 0.2, 0.7},
						    {0.75, 0.1, 0.1}, {0.05, 0.45, 0.1},
						    {0.4, 0.1, 0.5},  {0.1, 0.35, 0.45}};
		size_t pick = rng_below(r, ARRAY_SIZE(palette));
		for (int k = 0; k < 3; k++)
			ink[k] = fmin(1, fmax(0, palette[pick][k] + unif(r, -0.08, 0.08)));
	}

	/* Layout: margins leave room for axes, the load axis from zero when axes are drawn. */
	struct view v;
	double m_left = axes ? unif(r, 0.08, 0.16) : unif(r, 0.02, 0.08);
	double m_bottom = axes ? unif(r, 0.08, 0.16) : unif(r, 0.02, 0.08);
	if (plain)
		m_left = m_bottom = 0.1;
	v.px0 = m_left * (double)w;
	v.px1 = (double)w * (1 - (plain ? 0.05 : unif(r, 0.03, 0.08)));
	v.py0 = (double)h * (plain ? 0.05 : unif(r, 0.03, 0.08));
	v.py1 = (double)h * (1 - m_bottom);
	double xspan = xmax > xmin ? xmax - xmin : fmax(1, fabs(xmax));
	v.x0 = xmin - xspan * (plain ? 0.02 : unif(r, 0, 0.05));
	v.x1 = xmax + xspan * (plain ? 0.02 : unif(r, 0, 0.05));
	double yspan = ymax > ymin ? ymax - ymin : fmax(1, fabs(ymax));
	if (axes) {
		v.y0 = fmin(0, ymin - 0.05 * yspan);
		v.y1 = fmax(ymax + (ymax - v.y0) * (plain ? 0.05 : unif(r, 0.03, 0.2)),
			    v.y0 + 1e-9 + yspan);
	} else {
		v.y0 = ymin - yspan * unif(r, 0.02, 0.1);
		v.y1 = ymax + yspan * unif(r, 0.02, 0.1);
	}
	v.cx = 0.5 * (double)w;
	v.cy = 0.5 * (double)h;
	v.cosa = cos(alpha);
	v.sina = sin(alpha);

	out->width = w;
	out->height = h;
	out->rgb = xmallocarray(w * h, 3);
	unsigned char paper[3];
	for (int k = 0; k < 3; k++)
		paper[k] = (unsigned char)lround(255 * bg[k]);
	for (size_t p = 0; p < w * h; p++)
		memcpy(out->rgb + 3 * p, paper, 3);
	struct layer l = {w, h, xcalloc(w * h, sizeof(float))};
	double ax, ay, bx, by;

	if (axes) {
		double xs = tick_step(v.x0, v.x1, 3 + (int)rng_below(r, 4));
		double ys = tick_step(v.y0, v.y1, 3 + (int)rng_below(r, 4));
		double tick = unif(r, 2, 5) * scale;
		if (grid) {
			for (double t = ceil(v.x0 / xs) * xs; t <= v.x1; t += xs) {
				to_pixel(&v, t, v.y0, &ax, &ay);
				to_pixel(&v, t, v.y1, &bx, &by);
				stroke(&l, ax, ay, bx, by, 0.4 * scale);
			}
			for (double t = ceil(v.y0 / ys) * ys; t <= v.y1; t += ys) {
				to_pixel(&v, v.x0, t, &ax, &ay);
				to_pixel(&v, v.x1, t, &bx, &by);
				stroke(&l, ax, ay, bx, by, 0.4 * scale);
			}
			double g = unif(r, 0.75, 0.88);
			composite(out, &l, (double[3]){g, g, g});
		}
		/* axes along the plot's left and bottom edges (the bottom one is zero load) */
		to_pixel(&v, v.x0, v.y0, &ax, &ay);
		to_pixel(&v, v.x1, v.y0, &bx, &by);
		double aw = plain ? 0.5 : unif(r, 0.4, 0.9) * scale;
		stroke(&l, ax, ay, bx, by, aw);
		to_pixel(&v, v.x0, v.y1, &bx, &by);
		stroke(&l, ax, ay, bx, by, aw);
		if (ticks) {
			double dxp, dyp; /* one pixel outwards, in data units */
			dxp = (v.x1 - v.x0) / (v.px1 - v.px0) * tick;
			dyp = (v.y1 - v.y0) / (v.py1 - v.py0) * tick;
			bool text = rng_uniform(r) < 0.7;
			double cell = unif(r, 0.8, 1.3) * scale;
			char buf[32];
			for (double t = ceil(v.x0 / xs) * xs; t <= v.x1; t += xs) {
				to_pixel(&v, t, v.y0, &ax, &ay);
				to_pixel(&v, t, v.y0 - dyp, &bx, &by);
				stroke(&l, ax, ay, bx, by, aw);
				if (text) {
					tick_text(buf, t, xs);
					double u =
					    v.px0 + (t - v.x0) / (v.x1 - v.x0) * (v.px1 - v.px0);
					label(&l, &v, u, v.py1 + tick + 2 * cell, buf, cell, 0.5,
					      0);
				}
			}
			for (double t = ceil(v.y0 / ys) * ys; t <= v.y1; t += ys) {
				to_pixel(&v, v.x0, t, &ax, &ay);
				to_pixel(&v, v.x0 - dxp, t, &bx, &by);
				stroke(&l, ax, ay, bx, by, aw);
				if (text) {
					tick_text(buf, t, ys);
					double wy =
					    v.py1 - (t - v.y0) / (v.y1 - v.y0) * (v.py1 - v.py0);
					label(&l, &v, v.px0 - tick - 2 * cell, wy, buf, cell, 1,
					      0.5);
				}
			}
		}
		double g = plain ? 0.2 : unif(r, 0.1, 0.45);
		composite(out, &l, (double[3]){g, g, g});
	}

	/* The card, point to point as recorded (an open loop stays open). */
	to_pixel(&v, c->x[0], c->y[0], &ax, &ay);
	for (size_t i = 1; i < c->n; i++) {
		to_pixel(&v, c->x[i], c->y[i], &bx, &by);
		stroke(&l, ax, ay, bx, by, lw);
		ax = bx;
		ay = by;
	}
	composite(out, &l, ink);
	free(l.cov);

	if (noise > 0) {
		/* grey noise, near-normal from the sum of four random bytes (sd 147.8) */
		double k = noise / 147.8;
		uint64_t bits = 0;
		for (size_t p = 0; p < w * h; p++) {
			if (p % 2 == 0)
				bits = rng_u64(r);
			int s = (int)(bits & 255) + (int)(bits >> 8 & 255) +
				(int)(bits >> 16 & 255) + (int)(bits >> 24 & 255) - 510;
			bits >>= 32;
			for (int ch = 0; ch < 3; ch++) {
				double val = out->rgb[3 * p + ch] + k * s + 0.5;
				out->rgb[3 * p + ch] = (unsigned char)(val < 0	   ? 0
								       : val > 255 ? 255
										   : (int)val);
			}
		}
	}
	return 0;
}

static void sink(void *ctx, void *data, int size)
{
	if (size > 0)
		strbuf_add(ctx, data, (size_t)size);
}

int card_raster_encode(const struct card_raster *img, enum card_image_format format, int quality,
		       unsigned char **buf, size_t *len, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int ok = 0, w = (int)img->width, h = (int)img->height;
	if (!img->rgb || img->width > 4096 || img->height > 4096)
		return err_set(e, DYN_EUSAGE, "card_raster_encode: no picture or one too large");
	if (format == CARD_IMAGE_PNG)
		ok = stbi_write_png_to_func(sink, &sb, w, h, 3, img->rgb, 3 * w);
	else if (format == CARD_IMAGE_JPEG)
		ok = stbi_write_jpg_to_func(sink, &sb, w, h, 3, img->rgb,
					    quality < 1	    ? 1
					    : quality > 100 ? 100
							    : quality);
	else
		return err_set(e, DYN_EUSAGE, "card_raster_encode: format must be png or jpeg");
	if (!ok || sb.len == 0) {
		strbuf_release(&sb);
		return err_set(e, DYN_EDATA, "card_raster_encode: the encoder failed");
	}
	*buf = (unsigned char *)strbuf_detach(&sb, len);
	return 0;
}

int card_render_encoded(const struct card *c, struct rng *r, const struct card_render_opts *o,
			unsigned char **buf, size_t *len, enum card_image_format *format,
			struct err *e)
{
	struct card_raster img;
	enum card_image_format f = o->format;
	if (f == CARD_IMAGE_ANY)
		f = rng_uniform(r) < 0.5 ? CARD_IMAGE_PNG : CARD_IMAGE_JPEG;
	int quality = 35 + (int)rng_below(r, 61);
	struct card_render_opts ro = *o;
	ro.noiseless = o->noiseless || f == CARD_IMAGE_PNG;
	if (card_render(&img, c, r, &ro, e))
		return -1;
	int ret = card_raster_encode(&img, f, quality, buf, len, e);
	card_raster_release(&img);
	if (ret == 0 && format)
		*format = f;
	return ret;
}
