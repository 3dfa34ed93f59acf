/* Synthetic photos of stamped parts: a metal surface (lighting, blotches, brushing, grain,
 * scratches, a table edge, holes), glyph masks of lib/ocr/synth placed as lines or around a
 * flange and shaded as relief under a random light, drawn upright and then turned. */
#include <math.h>

#include "base/base.h"
#include "core/rng.h"
#include "ocr/photo.h"

#define PI 3.14159265358979323846

void ocr_photo_init(struct ocr_photo *p)
{
	memset(p, 0, sizeof(*p));
	img_init(&p->im);
}

void ocr_photo_release(struct ocr_photo *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->lines[i].text);
	free(p->lines);
	img_release(&p->im);
	ocr_photo_init(p);
}

static double unif(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

struct plane {
	int w, h;
	float *p;
};

/* Adds value noise: a grid of normal values sx by sy pixels apart, interpolated smoothly,
 * times amp, the grid turned by ang radians (a grid along the axes would draw rows and columns
 * of blobs, which look like lines of text to a finder). Cells much longer than wide are
 * brushing streaks. */
static void add_noise(struct plane *pl, struct rng *r, double sx, double sy, double ang, double amp)
{
	/* turned, the grid covers the picture's circumscribed square; unturned, just it */
	double c = cos(ang), s = sin(ang), ext = ang != 0 ? pl->w + pl->h : 0;
	int gw = (int)((ang != 0 ? 2 * ext : pl->w) / sx) + 3;
	int gh = (int)((ang != 0 ? 2 * ext : pl->h) / sy) + 3;
	float *g = xmallocarray((size_t)gw * (size_t)gh, sizeof(float));
	for (size_t i = 0; i < (size_t)gw * (size_t)gh; i++)
		g[i] = (float)(rng_normal(r) * amp);
	for (int y = 0; y < pl->h; y++) {
		float *row = pl->p + (size_t)y * (size_t)pl->w;
		for (int x = 0; x < pl->w; x++) {
			double fu = (x * c + y * s + ext) / sx, fv = (-x * s + y * c + ext) / sy;
			int iu = (int)fu, iv = (int)fv;
			float tu = (float)(fu - iu), tv = (float)(fv - iv);
			const float *g0 = g + (size_t)iv * (size_t)gw + (size_t)iu, *g1 = g0 + gw;
			float a, b;
			tu = tu * tu * (3 - 2 * tu);
			tv = tv * tv * (3 - 2 * tv);
			a = g0[0] + (g0[1] - g0[0]) * tu;
			b = g1[0] + (g1[1] - g1[0]) * tu;
			row[x] += a + (b - a) * tv;
		}
	}
	free(g);
}

/* A clean line rendering as a mask in [0, 1] (1: ink), with its ink's bounding box. */
struct mask {
	int w, h;
	float *m;
	int x0, y0, x1, y1; /* ink within [x0, x1) x [y0, y1) */
};

static int mask_make(const struct ocr_synth *s, uint64_t seed, const char *text, struct mask *mk,
		     struct err *e)
{
	struct img im;
	img_init(&im);
	if (ocr_synth_render(s, seed, text, -1, &im, e) < 0)
		return -1;
	mk->w = (int)im.w;
	mk->h = (int)im.h;
	mk->m = xmallocarray(im.w * im.h, sizeof(float));
	mk->x0 = mk->w;
	mk->y0 = mk->h;
	mk->x1 = mk->y1 = 0;
	for (int y = 0; y < mk->h; y++)
		for (int x = 0; x < mk->w; x++) {
			float v = (1 - im.px[(size_t)y * im.w + (size_t)x] / 255.0f) / 0.9f;
			v = v < 0 ? 0 : v > 1 ? 1 : v;
			mk->m[(size_t)y * (size_t)mk->w + (size_t)x] = v;
			if (v > 0.3f) {
				mk->x0 = x < mk->x0 ? x : mk->x0;
				mk->y0 = y < mk->y0 ? y : mk->y0;
				mk->x1 = x + 1 > mk->x1 ? x + 1 : mk->x1;
				mk->y1 = y + 1 > mk->y1 ? y + 1 : mk->y1;
			}
		}
	if (mk->x1 <= mk->x0) {
		mk->x0 = mk->y0 = 0;
		mk->x1 = mk->w;
		mk->y1 = mk->h;
	}
	img_release(&im);
	return 0;
}

static float mask_at(const struct mask *mk, double x, double y)
{
	int ix, iy;
	float tx, ty, v00, v01, v10, v11;
	x -= 0.5;
	y -= 0.5;
	if (x < -1 || y < -1 || x >= mk->w || y >= mk->h)
		return 0;
	ix = (int)floor(x);
	iy = (int)floor(y);
	tx = (float)(x - ix);
	ty = (float)(y - iy);
#define M(X, Y)                                                                                    \
	((X) < 0 || (Y) < 0 || (X) >= mk->w || (Y) >= mk->h                                        \
	     ? 0.0f                                                                                \
	     : mk->m[(size_t)(Y) * (size_t)mk->w + (size_t)(X)])
	v00 = M(ix, iy);
	v01 = M(ix + 1, iy);
	v10 = M(ix, iy + 1);
	v11 = M(ix + 1, iy + 1);
#undef M
	return (v00 + (v01 - v00) * tx) * (1 - ty) + (v10 + (v11 - v10) * tx) * ty;
}

/* Where a mask lands on the upright photo: a straight line (origin o, direction (dx, dy), k
 * photo pixels a mask pixel) or an arc around (cx, cy) from angle a0, its middle row on radius
 * rmid, tops outwards. */
struct place {
	bool ring;
	double ox, oy, dx, dy, k;
	double cx, cy, rmid, a0;
	bool dots;
	double pitch;
	int wall; /* the groove walls' width in photo pixels */
};

static bool place_map(const struct place *pl, const struct mask *mk, double x, double y, double *mx,
		      double *my)
{
	if (!pl->ring) {
		double rx = x - pl->ox, ry = y - pl->oy;
		*mx = (rx * pl->dx + ry * pl->dy) / pl->k;
		*my = (-rx * pl->dy + ry * pl->dx) / pl->k;
	} else {
		double rx = x - pl->cx, ry = y - pl->cy, rad = sqrt(rx * rx + ry * ry);
		double a = atan2(ry, rx) - pl->a0;
		a = fmod(a + 4 * PI, 2 * PI);
		*mx = a * pl->rmid / pl->k;
		*my = (pl->rmid - rad) / pl->k + mk->h / 2.0;
	}
	return *mx >= -1 && *my >= -1 && *mx <= mk->w + 1 && *my <= mk->h + 1;
}

/* Stamps the mask into the upright photo over [x0, x1) x [y0, y1): the ink as a height field
 * (struck in or standing out, of uneven depth) shaded under light (lx, ly), with a tint of
 * dirt or fresh cut in the grooves. */
static void stamp(struct plane *up, const struct mask *mk, const struct place *pl, int x0, int y0,
		  int x1, int y1, struct rng *r)
{
	int tw, th;
	float *t;
	double az = unif(r, 0, 2 * PI);
	float lx = (float)cos(az), ly = (float)sin(az);
	float gain = (float)(unif(r, 0.25, 0.9) * (rng_uniform(r) < 0.8 ? 1 : -1));
	float tint = rng_uniform(r) < 0.3 ? 0 : (float)unif(r, -0.15, 0.1);
	/* dot-peen craters are too small for their shading to show: they read by the dark in
	 * them */
	if (pl->dots)
		tint = -(float)unif(r, 0.12, 0.3);
	x0 = x0 < 1 ? 1 : x0;
	y0 = y0 < 1 ? 1 : y0;
	x1 = x1 > up->w - 1 ? up->w - 1 : x1;
	y1 = y1 > up->h - 1 ? up->h - 1 : y1;
	if (x1 <= x0 || y1 <= y0)
		return;
	tw = x1 - x0 + 2;
	th = y1 - y0 + 2;
	t = xcalloc((size_t)tw * (size_t)th, sizeof(float));
	for (int y = 0; y < th; y++)
		for (int x = 0; x < tw; x++) {
			double mx, my;
			float v;
			if (!place_map(pl, mk, x0 - 1 + x + 0.5, y0 - 1 + y + 0.5, &mx, &my))
				continue;
			v = mask_at(mk, mx, my);
			if (pl->dots && v > 0) {
				double fx = mx / pl->pitch, fy = my / pl->pitch;
				fx -= floor(fx) + 0.5;
				fy -= floor(fy) + 0.5;
				v *= (float)fmax(0, 1 - (fx * fx + fy * fy) / 0.12);
			}
			t[(size_t)y * (size_t)tw + (size_t)x] = v;
		}
	/* walls of a given width: the mask box-blurred across them, along rows then columns */
	{
		int rb = pl->wall / 2;
		float *row = xmallocarray((size_t)(tw > th ? tw : th), sizeof(float));
		for (int pass = 0; pass < 2 && rb > 0; pass++) {
			int n = pass ? th : tw, m = pass ? tw : th;
			size_t step = pass ? (size_t)tw : 1, lstep = pass ? 1 : (size_t)tw;
			for (int l = 0; l < m; l++) {
				float *base = t + (size_t)l * lstep;
				for (int i = 0; i < n; i++)
					row[i] = base[(size_t)i * step];
				for (int i = 0; i < n; i++) {
					float acc = 0;
					for (int j = i - rb; j <= i + rb; j++)
						acc += row[j < 0 ? 0 : j >= n ? n - 1 : j];
					base[(size_t)i * step] = acc / (float)(2 * rb + 1);
				}
			}
		}
		free(row);
	}
	/* the slope times the wall's width: about one on a wall */
	for (int y = 1; y < th - 1; y++)
		for (int x = 1; x < tw - 1; x++) {
			const float *c = t + (size_t)y * (size_t)tw + (size_t)x;
			float gx = (c[1] - c[-1]) * 0.5f * (float)(pl->wall | 1);
			float gy = (c[tw] - c[-tw]) * 0.5f * (float)(pl->wall | 1);
			float *p =
			    up->p + (size_t)(y0 - 1 + y) * (size_t)up->w + (size_t)(x0 - 1 + x);
			*p = *p * (1 + gain * (gx * lx + gy * ly)) + tint * c[0];
		}
	free(t);
}

/* A dark disk (a hole, a bore) of radius rad. */
static void hole(struct plane *up, double cx, double cy, double rad, float level)
{
	int x0 = (int)fmax(0, cx - rad - 2), x1 = (int)fmin(up->w, cx + rad + 2);
	int y0 = (int)fmax(0, cy - rad - 2), y1 = (int)fmin(up->h, cy + rad + 2);
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			double d = hypot(x + 0.5 - cx, y + 0.5 - cy) - rad;
			float a = (float)(d < -1 ? 1 : d > 1 ? 0 : (1 - d) / 2);
			float *p = up->p + (size_t)y * (size_t)up->w + (size_t)x;
			/* a bright chamfer just inside the edge, then the dark */
			if (d > -4 && d < -1)
				*p = *p * 1.25f;
			else
				*p = *p * (1 - a) + level * a;
		}
}

/* A flange: a turned face of radius rad (concentric turning marks, a groove at the rim) with
 * a bore of radius bore. */
static void flange(struct plane *up, struct rng *r, double cx, double cy, double rad, double bore)
{
	float lift = (float)unif(r, -0.1, 0.1), marks = (float)unif(r, 0, 0.03);
	double freq = unif(r, 0.2, 0.6);
	int x0 = (int)fmax(0, cx - rad - 3), x1 = (int)fmin(up->w, cx + rad + 3);
	int y0 = (int)fmax(0, cy - rad - 3), y1 = (int)fmin(up->h, cy + rad + 3);
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
			float *p = up->p + (size_t)y * (size_t)up->w + (size_t)x;
			if (fabs(d - rad) < 2.5)
				*p *= 0.55f;
			else if (d < rad)
				*p = *p * (1 + lift) + marks * (float)sin(d * freq);
		}
	hole(up, cx, cy, bore, (float)unif(r, 0.05, 0.2));
}

static bool overlaps(const double *a, const double *b)
{
	return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

static void add_line(struct ocr_photo *p, char *text, uint64_t seed, const struct ocr_box *b,
		     bool is_ring, const struct ocr_ring *ring)
{
	p->lines = xreallocarray(p->lines, p->n + 1, sizeof(*p->lines));
	p->lines[p->n].text = text;
	p->lines[p->n].seed = seed;
	p->lines[p->n].box = *b;
	p->lines[p->n].is_ring = is_ring;
	if (ring)
		p->lines[p->n].ring = *ring;
	else
		memset(&p->lines[p->n].ring, 0, sizeof(*ring));
	p->n++;
}

/* Ring text around the flange (cx, cy, rad, bore), reading clockwise, tops outwards. */
static int ring_text(const struct ocr_synth *s, struct rng *r, struct plane *up, double cx,
		     double cy, double rad, double bore, struct ocr_photo *p, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	struct mask mk = {0};
	struct place pl = {.ring = true, .cx = cx, .cy = cy};
	uint64_t ts = rng_u64(r);
	double band = rad - bore, k, cap, arc;
	struct ocr_ring ring;
	struct ocr_box box;
	ocr_synth_text(s, ts, &sb);
	if (mask_make(s, ts, sb.buf, &mk, e) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	cap = band * unif(r, 0.18, 0.3);
	k = cap / (mk.y1 - mk.y0);
	pl.rmid = bore + band * unif(r, 0.45, 0.55);
	/* the text takes at most 0.7 of the circle: the rest is the gap where it starts */
	arc = (mk.x1 - mk.x0) * k;
	if (arc > 0.7 * 2 * PI * pl.rmid)
		k *= 0.7 * 2 * PI * pl.rmid / arc;
	pl.k = k;
	pl.a0 = unif(r, 0, 2 * PI);
	pl.dots = rng_uniform(r) < 0.2;
	pl.pitch = (mk.y1 - mk.y0) / 6.0;
	pl.wall = (int)fmax(1, unif(r, 0.03, 0.08) * (mk.y1 - mk.y0) * k);
	stamp(up, &mk, &pl, (int)(cx - rad), (int)(cy - rad), (int)(cx + rad) + 1,
	      (int)(cy + rad) + 1, r);
	/* the ink's radial band: mask rows y0..y1 map to radii rmid - (y - h/2) k */
	ring.cx = cx;
	ring.cy = cy;
	ring.r_out = pl.rmid - (mk.y0 - mk.h / 2.0) * k;
	ring.r_in = pl.rmid - (mk.y1 - mk.h / 2.0) * k;
	ring.a0 = fmod((pl.a0 + mk.x0 * k / pl.rmid) * 180 / PI, 360);
	ring.span = (mk.x1 - mk.x0) * k / pl.rmid * 180 / PI;
	box = (struct ocr_box){cx, cy, 2 * ring.r_out, 2 * ring.r_out, 0};
	add_line(p, strbuf_detach(&sb, NULL), ts, &box, true, &ring);
	free(mk.m);
	return 0;
}

/* Straight lines: a block of nl lines, left-aligned or centred, turned by a small skew, somewhere
 * in the upright frame off the reserved rectangles keep[0..nkeep). */
static int straight_lines(const struct ocr_synth *s, struct rng *r, struct plane *up, int nl,
			  const double (*keep)[4], size_t nkeep, struct ocr_photo *p, struct err *e)
{
	struct mask mk[3] = {{0}};
	char *texts[3] = {NULL};
	uint64_t seeds[3];
	double shortside = up->w < up->h ? up->w : up->h;
	double cap = shortside * unif(r, 0.018, 0.04), skew = unif(r, -3, 3) * PI / 180;
	double gap = unif(r, 0.7, 1.6), k = 1, bw = 0, bh = 0;
	bool centred = rng_uniform(r) < 0.5;
	int ret = -1;
	for (int i = 0; i < nl; i++) {
		struct strbuf sb = STRBUF_INIT;
		seeds[i] = rng_u64(r);
		ocr_synth_text(s, seeds[i], &sb);
		texts[i] = strbuf_detach(&sb, NULL);
		if (mask_make(s, seeds[i], texts[i], &mk[i], e) < 0)
			goto out;
	}
	for (int tries = 0; tries < 200; tries++) {
		double bx, by, rect[4], cx, cy;
		bool ok = true;
		if (tries % 50 == 0) {
			/* shrink the lettering until the block fits */
			if (tries)
				cap *= 0.75;
			k = cap / (mk[0].y1 - mk[0].y0);
			bw = bh = 0;
			for (int i = 0; i < nl; i++) {
				bw = fmax(bw, (mk[i].x1 - mk[i].x0) * k);
				bh += (mk[i].y1 - mk[i].y0) * k * (i ? 1 + gap : 1);
			}
		}
		bx = unif(r, 0.12 * up->w, 0.88 * up->w - bw);
		by = unif(r, 0.12 * up->h, 0.88 * up->h - bh);
		if (bx < 0.1 * up->w || by < 0.1 * up->h)
			continue;
		cx = bx + bw / 2;
		cy = by + bh / 2;
		/* the block's bounds once skewed, with a margin */
		{
			double hw = (bw * fabs(cos(skew)) + bh * fabs(sin(skew))) / 2 + cap;
			double hh = (bw * fabs(sin(skew)) + bh * fabs(cos(skew))) / 2 + cap;
			rect[0] = cx - hw;
			rect[1] = cy - hh;
			rect[2] = cx + hw;
			rect[3] = cy + hh;
		}
		for (size_t j = 0; j < nkeep && ok; j++)
			ok = !overlaps(rect, keep[j]);
		if (!ok)
			continue;
		double ty = by;
		for (int i = 0; i < nl; i++) {
			struct place pl = {.dx = cos(skew), .dy = sin(skew), .k = k};
			double iw = (mk[i].x1 - mk[i].x0) * k, ih = (mk[i].y1 - mk[i].y0) * k;
			double lx = centred ? bx + (bw - iw) / 2 : bx;
			/* the ink box's centre before the skew, then turned about the block's */
			double ux = lx + iw / 2 - cx, uy = ty + ih / 2 - cy;
			double icx = cx + ux * pl.dx - uy * pl.dy,
			       icy = cy + ux * pl.dy + uy * pl.dx;
			/* the mask's origin: its ink centre lands on (icx, icy) */
			double mcx = (mk[i].x0 + mk[i].x1) / 2.0, mcy = (mk[i].y0 + mk[i].y1) / 2.0;
			struct ocr_box box = {icx, icy, iw, ih, skew * 180 / PI};
			double ext = (mk[i].w + mk[i].h) * k;
			pl.ox = icx - k * (mcx * pl.dx - mcy * pl.dy);
			pl.oy = icy - k * (mcx * pl.dy + mcy * pl.dx);
			pl.dots = rng_uniform(r) < 0.2;
			pl.pitch = (mk[i].y1 - mk[i].y0) / 6.0;
			pl.wall = (int)fmax(1, unif(r, 0.03, 0.08) * ih);
			stamp(up, &mk[i], &pl, (int)(icx - ext / 2), (int)(icy - ext / 2),
			      (int)(icx + ext / 2) + 1, (int)(icy + ext / 2) + 1, r);
			add_line(p, texts[i], seeds[i], &box, false, NULL);
			texts[i] = NULL;
			ty += ih * (1 + gap);
		}
		break;
	}
	ret = 0;
out:
	for (int i = 0; i < nl; i++) {
		free(texts[i]);
		free(mk[i].m);
	}
	return ret;
}

/* Turns box b of an upright frame uw x uh by rot degrees clockwise (as img_orient turns the
 * pixels). */
static void turn(double *x, double *y, double *angle, int rot, double uw, double uh)
{
	double ox = *x, oy = *y;
	if (rot == 90) {
		*x = uh - oy;
		*y = ox;
	} else if (rot == 180) {
		*x = uw - ox;
		*y = uh - oy;
	} else if (rot == 270) {
		*x = oy;
		*y = uw - ox;
	}
	*angle = fmod(*angle + rot + 360, 360);
}

int ocr_synth_photo(const struct ocr_synth *s, uint64_t seed, const struct ocr_photo_opts *o,
		    struct ocr_photo *p, struct err *e)
{
	size_t w = o->w ? o->w : 4032, h = o->h ? o->h : 3024;
	int channels = o->channels ? o->channels : 3;
	struct plane up = {0};
	double keep[8][4];
	size_t nkeep = 0;
	struct rng r;
	int rot, nl, ret = -1;
	float tint[3];

	ocr_photo_release(p);
	if (w < 256 || h < 256 || w > 8192 || h > 8192)
		return err_set(e, DYN_EUSAGE, "ocr photo: %zux%zu photo (256..8192 a side)", w, h);
	if (channels != 1 && channels != 3)
		return err_set(e, DYN_EUSAGE, "ocr photo: %d channels (1 or 3)", channels);
	if (o->rotation != -1 && o->rotation != 0 && o->rotation != 90 && o->rotation != 180 &&
	    o->rotation != 270)
		return err_set(e, DYN_EUSAGE, "ocr photo: rotation %d (0, 90, 180, 270 or -1)",
			       o->rotation);
	if (o->lines < -1 || o->lines > 3 || !(o->ring >= 0 && o->ring <= 1))
		return err_set(e, DYN_EUSAGE, "ocr photo: %d lines, ring chance %g", o->lines,
			       o->ring);
	rng_init(&r, seed);
	rot = o->rotation >= 0 ? o->rotation : 90 * (int)rng_below(&r, 4);
	nl = o->lines > 0 ? o->lines : o->lines < 0 ? 0 : 1 + (int)rng_below(&r, 3);
	/* the stored photo is w x h; turned 90 or 270, its upright frame is h x w */
	up.w = (int)(rot % 180 ? h : w);
	up.h = (int)(rot % 180 ? w : h);
	up.p = xmallocarray((size_t)up.w * (size_t)up.h, sizeof(float));
	{
		float base = (float)unif(&r, 0.35, 0.7);
		double gx = unif(&r, -0.2, 0.2) / up.w, gy = unif(&r, -0.2, 0.2) / up.h;
		for (int y = 0; y < up.h; y++)
			for (int x = 0; x < up.w; x++)
				up.p[(size_t)y * (size_t)up.w + (size_t)x] =
				    base + (float)(gx * (x - up.w / 2) + gy * (y - up.h / 2));
	}
	add_noise(&up, &r, up.w / 3.0, up.h / 3.0, unif(&r, 0, PI), unif(&r, 0.02, 0.08));
	add_noise(&up, &r, up.w / 40.0, up.w / 40.0, unif(&r, 0, PI), unif(&r, 0.01, 0.05));
	if (rng_uniform(&r) < 0.4) {
		/* brushing along x or y */
		double len = unif(&r, 0.05, 0.3) * up.w, wid = unif(&r, 2, 4);
		add_noise(&up, &r, len, wid, rng_uniform(&r) < 0.5 ? 0 : PI / 2,
			  unif(&r, 0.005, 0.03));
	}
	add_noise(&up, &r, 3, 3, 0, unif(&r, 0.005, 0.03));
	if (o->ring > 0 && rng_uniform(&r) < o->ring) {
		double shortside = up.w < up.h ? up.w : up.h;
		double rad = shortside * unif(&r, 0.25, 0.4), bore = rad * unif(&r, 0.3, 0.45);
		double cx = unif(&r, rad + 8, up.w - rad - 8),
		       cy = unif(&r, rad + 8, up.h - rad - 8);
		flange(&up, &r, cx, cy, rad, bore);
		if (ring_text(s, &r, &up, cx, cy, rad, bore, p, e) < 0)
			goto out;
		keep[nkeep][0] = cx - rad;
		keep[nkeep][1] = cy - rad;
		keep[nkeep][2] = cx + rad;
		keep[nkeep][3] = cy + rad;
		nkeep++;
	}
	if (nl > 0) {
		size_t first = p->n;
		if (straight_lines(s, &r, &up, nl, (const double(*)[4])keep, nkeep, p, e) < 0)
			goto out;
		for (size_t i = first; i < p->n; i++) {
			const struct ocr_box *b = &p->lines[i].box;
			double m = b->h;
			double hw = (b->w * fabs(cos(b->angle * PI / 180)) + b->h) / 2 + m;
			double hh = (b->w * fabs(sin(b->angle * PI / 180)) + b->h) / 2 + m;
			if (nkeep < 8) {
				keep[nkeep][0] = b->cx - hw;
				keep[nkeep][1] = b->cy - hh;
				keep[nkeep][2] = b->cx + hw;
				keep[nkeep][3] = b->cy + hh;
				nkeep++;
			}
		}
	}
	/* holes and scratches away from the text: what a finder must not take for it */
	for (int i = 0, nh = (int)rng_below(&r, 3); i < nh; i++) {
		double shortside = up.w < up.h ? up.w : up.h;
		double rad = shortside * unif(&r, 0.02, 0.06);
		double hx = unif(&r, rad, up.w - rad), hy = unif(&r, rad, up.h - rad);
		double rect[4] = {hx - rad, hy - rad, hx + rad, hy + rad};
		bool ok = true;
		for (size_t j = 0; j < nkeep && ok; j++)
			ok = !overlaps(rect, keep[j]);
		if (ok)
			hole(&up, hx, hy, rad, (float)unif(&r, 0.05, 0.25));
	}
	for (int i = 0, ns = (int)rng_below(&r, 6); i < ns; i++) {
		double x0 = unif(&r, 0, up.w), y0 = unif(&r, 0, up.h), a = unif(&r, 0, 2 * PI);
		double len = unif(&r, 0.05, 0.4) * up.w;
		float v = (float)unif(&r, -0.15, 0.15);
		for (double t = 0; t < len; t += 0.7) {
			int x = (int)(x0 + t * cos(a)), y = (int)(y0 + t * sin(a));
			if (x >= 0 && y >= 0 && x < up.w && y < up.h)
				up.p[(size_t)y * (size_t)up.w + (size_t)x] += v;
		}
	}
	if (rng_uniform(&r) < 0.4) {
		/* the table the part lies on, past a slanted edge along one side */
		int side = (int)rng_below(&r, 4);
		double depth = unif(&r, 0.02, 0.08), slope = unif(&r, -0.03, 0.03);
		float level = (float)unif(&r, 0.05, 0.9);
		for (int y = 0; y < up.h; y++)
			for (int x = 0; x < up.w; x++) {
				double u = side < 2 ? (double)x / up.w : (double)y / up.h;
				double v = side < 2 ? (double)y / up.h : (double)x / up.w;
				if (side % 2)
					u = 1 - u;
				if (u < depth + slope * (v - 0.5))
					up.p[(size_t)y * (size_t)up.w + (size_t)x] = level;
			}
	}
	{
		double sigma = unif(&r, 0.005, 0.03);
		for (size_t i = 0; i < (size_t)up.w * (size_t)up.h; i++)
			up.p[i] += (float)(sigma * rng_normal(&r));
	}
	for (int c = 0; c < 3; c++)
		tint[c] = (float)unif(&r, 0.9, 1.1);
	p->im.w = (size_t)up.w;
	p->im.h = (size_t)up.h;
	p->im.channels = channels;
	p->im.px = xmallocarray(p->im.w * p->im.h, (size_t)channels);
	for (size_t i = 0; i < p->im.w * p->im.h; i++)
		for (int c = 0; c < channels; c++) {
			float v = up.p[i] * (channels == 3 ? tint[c] : 1) * 255 + 0.5f;
			p->im.px[i * (size_t)channels + (size_t)c] = (unsigned char)(v < 0     ? 0
										     : v > 255 ? 255
											       : v);
		}
	/* img_orient's 6 turns clockwise, 3 by 180, 8 counterclockwise */
	img_orient(&p->im, rot == 90 ? 6 : rot == 180 ? 3 : rot == 270 ? 8 : 1);
	for (size_t i = 0; i < p->n; i++) {
		struct ocr_photo_line *l = &p->lines[i];
		turn(&l->box.cx, &l->box.cy, &l->box.angle, rot, up.w, up.h);
		if (l->is_ring) {
			turn(&l->ring.cx, &l->ring.cy, &l->ring.a0, rot, up.w, up.h);
			l->box.angle = 0;
		}
	}
	p->rotation = rot;
	ret = 0;
out:
	free(up.p);
	if (ret < 0)
		ocr_photo_release(p);
	return ret;
}
