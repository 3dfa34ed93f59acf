/* Cards read off pictures. The steps:
 *   1. ink: pixels darker than the background (its median brightness) or strongly coloured,
 *      on a grid reduced so that the work is bounded whatever the picture's size;
 *   2. rules: horizontal and vertical runs of ink nearly as long as the longest such run and
 *      at least half the picture across: axes, the plot's frame and grid lines;
 *   3. the curve: the connected structure (gaps of a few pixels bridged, where a rule was
 *      taken out under it) with the most ink once rules are out; a rule lying wholly within
 *      the curve's box is the curve's own straight stretch (a pump card's flat top) and is
 *      given back;
 *   4. the loop: the upper envelope of the curve's columns left to right, then the lower one
 *      back (order_by_columns says why that is a card's loop);
 *   5. plot coordinates: x from the vertical axis, y up from the horizontal axis (the zero
 *      load) when there is one, else from the curve's lowest pixel (load_unanchored). */
#include <math.h>

#include "cards/extract.h"
#include "base/base.h"

/* The working grid's longer side at most (a larger picture is reduced by whole blocks). */
#define WORK_SIDE 1024
/* Ink: this much darker than the background (0-255), or this much colour (max - min). */
#define INK_DARK   70
#define INK_CHROMA 90
/* Bridged gaps, in working pixels. */
#define BRIDGE 3
/* ... and across a rule up to this thick. */
#define ACROSS 8

struct grid {
	size_t w, h, f; /* working size; f picture pixels a side per working pixel */
	unsigned char *ink;
	unsigned char *rgb; /* per working pixel: the colour of its darkest picture pixel */
};

static int cmp_uchar(const void *a, const void *b)
{
	return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

/* Brightness of the background: the median of a sample of pixels. */
static unsigned background(const struct img *im)
{
	size_t n = im->w * im->h, step = n / 4096 + 1, k = 0;
	unsigned char *s = xmalloc(n / step + 1);
	unsigned med;
	for (size_t i = 0; i < n; i += step) {
		const unsigned char *p = im->px + i * (size_t)im->channels;
		s[k++] = im->channels == 3
			     ? (unsigned char)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8)
			     : p[0];
	}
	qsort(s, k, 1, cmp_uchar);
	med = s[k / 2];
	free(s);
	return med;
}

static void grid_ink(struct grid *g, const struct img *im, unsigned bg)
{
	size_t side = im->w > im->h ? im->w : im->h;
	g->f = (side + WORK_SIDE - 1) / WORK_SIDE;
	g->w = (im->w + g->f - 1) / g->f;
	g->h = (im->h + g->f - 1) / g->f;
	unsigned char *dark = xmalloc(g->w * g->h);
	g->ink = xcalloc(g->w * g->h, 1);
	g->rgb = xmallocarray(g->w * g->h, 3);
	memset(dark, 255, g->w * g->h);
	for (size_t y = 0; y < im->h; y++)
		for (size_t x = 0; x < im->w; x++) {
			const unsigned char *p = im->px + (y * im->w + x) * (size_t)im->channels;
			unsigned lum, lo, hi;
			if (im->channels == 3) {
				lum = (p[0] * 77u + p[1] * 150u + p[2] * 29u) >> 8;
				lo = p[0] < p[1] ? p[0] : p[1];
				lo = lo < p[2] ? lo : p[2];
				hi = p[0] > p[1] ? p[0] : p[1];
				hi = hi > p[2] ? hi : p[2];
			} else {
				lum = lo = hi = p[0];
			}
			size_t q = (y / g->f) * g->w + x / g->f;
			if (lum + INK_DARK <= bg || hi - lo >= INK_CHROMA)
				g->ink[q] = 1;
			if (lum <= dark[q]) {
				dark[q] = (unsigned char)lum;
				for (int k = 0; k < 3; k++)
					g->rgb[3 * q + (size_t)k] = p[im->channels == 3 ? k : 0];
			}
		}
	free(dark);
}

/* Marks rules in rule[] (1 horizontal, 2 vertical, 3 both). */
static void find_rules(const struct grid *g, unsigned char *rule)
{
	size_t longest = 0, min_len;
	size_t w = g->w, h = g->h;
	/* Horizontal. */
	for (int pass = 0; pass < 2; pass++) {
		min_len = longest * 9 / 10;
		if (min_len < w / 2)
			min_len = w / 2;
		for (size_t y = 0; y < h; y++) {
			size_t x = 0;
			while (x < w) {
				size_t s;
				if (!g->ink[y * w + x]) {
					x++;
					continue;
				}
				for (s = x; x < w && g->ink[y * w + x]; x++)
					;
				if (pass == 0 && x - s > longest)
					longest = x - s;
				if (pass == 1 && x - s >= min_len)
					for (size_t i = s; i < x; i++)
						rule[y * w + i] |= 1;
			}
		}
	}
	longest = 0;
	for (int pass = 0; pass < 2; pass++) {
		min_len = longest * 9 / 10;
		if (min_len < h / 2)
			min_len = h / 2;
		for (size_t x = 0; x < w; x++) {
			size_t y = 0;
			while (y < h) {
				size_t s;
				if (!g->ink[y * w + x]) {
					y++;
					continue;
				}
				for (s = y; y < h && g->ink[y * w + x]; y++)
					;
				if (pass == 0 && y - s > longest)
					longest = y - s;
				if (pass == 1 && y - s >= min_len)
					for (size_t i = s; i < y; i++)
						rule[i * w + x] |= 2;
			}
		}
	}
}

struct box {
	size_t x0, y0, x1, y1; /* inclusive */
};

/* Labels the ink left once rules are out, with gaps up to BRIDGE bridged, and returns in
 * curve[] the pixels of the structure with the most ink (and its box); their count. */
static size_t largest_structure(const struct grid *g, const unsigned char *rule,
				unsigned char *curve, struct box *bx)
{
	size_t w = g->w, h = g->h, n = w * h, best = 0, best_label = 0, label = 0;
	unsigned *lab = xcalloc(n, sizeof(*lab));
	size_t *stack = xmallocarray(n, sizeof(*stack));
	for (size_t start = 0; start < n; start++) {
		size_t sp = 0, count = 0;
		if (!g->ink[start] || rule[start] || lab[start])
			continue;
		label++;
		lab[start] = (unsigned)label;
		stack[sp++] = start;
		while (sp) {
			size_t p = stack[--sp], px = p % w, py = p / w;
			size_t ya = py >= BRIDGE ? py - BRIDGE : 0,
			       yb = py + BRIDGE < h ? py + BRIDGE : h - 1;
			size_t xa = px >= BRIDGE ? px - BRIDGE : 0,
			       xb = px + BRIDGE < w ? px + BRIDGE : w - 1;
			count++;
			for (size_t y = ya; y <= yb; y++)
				for (size_t x = xa; x <= xb; x++) {
					size_t q = y * w + x;
					if (g->ink[q] && !rule[q] && !lab[q]) {
						lab[q] = (unsigned)label;
						stack[sp++] = q;
					}
				}
			/* Through a rule taken out from under the line (the curve crossing
			 * an axis or a grid line): the ink just beyond it, straight across. */
			for (int d = 0; d < 4; d++) {
				long dx = d == 0   ? 1
					  : d == 1 ? -1
						   : 0,
				     dy = d == 2   ? 1
					  : d == 3 ? -1
						   : 0;
				for (long k = 1; k <= ACROSS; k++) {
					long x = (long)px + k * dx, y = (long)py + k * dy;
					size_t q;
					if (x < 0 || y < 0 || (size_t)x >= w || (size_t)y >= h)
						break;
					q = (size_t)y * w + (size_t)x;
					if (rule[q])
						continue;
					if (k > 1 && g->ink[q] && !lab[q]) {
						lab[q] = (unsigned)label;
						stack[sp++] = q;
					}
					break;
				}
			}
		}
		if (count > best) {
			best = count;
			best_label = label;
		}
	}
	bx->x0 = w;
	bx->y0 = h;
	bx->x1 = bx->y1 = 0;
	for (size_t p = 0; p < n; p++) {
		curve[p] = best && lab[p] == best_label;
		if (curve[p]) {
			size_t x = p % w, y = p / w;
			bx->x0 = x < bx->x0 ? x : bx->x0;
			bx->x1 = x > bx->x1 ? x : bx->x1;
			bx->y0 = y < bx->y0 ? y : bx->y0;
			bx->y1 = y > bx->y1 ? y : bx->y1;
		}
	}
	free(lab);
	free(stack);
	return best;
}

/* Drops from the curve the pieces (8-connected, nothing bridged) holding under 1% of its
 * pixels: noise specks and label dots a few pixels from the line, which the bridging took in
 * and which would stick out of the envelopes. The pieces of a line cut by grid lines are far
 * larger. Recomputes the box. */
static void drop_specks(const struct grid *g, unsigned char *curve, struct box *bx)
{
	size_t w = g->w, bw = bx->x1 - bx->x0 + 1, bh = bx->y1 - bx->y0 + 1, total = 0;
	size_t *stack = xmallocarray(bw * bh, sizeof(*stack)), *members;
	unsigned char *done = xcalloc(bw * bh, 1);
	for (size_t y = bx->y0; y <= bx->y1; y++)
		for (size_t x = bx->x0; x <= bx->x1; x++)
			total += curve[y * w + x];
	members = xmallocarray(bw * bh, sizeof(*members));
	for (size_t i = 0; i < bw * bh; i++) {
		size_t sp = 0, nm = 0;
		if (done[i] || !curve[(i / bw + bx->y0) * w + i % bw + bx->x0])
			continue;
		done[i] = 1;
		stack[sp++] = i;
		while (sp) {
			size_t p = stack[--sp], px = p % bw, py = p / bw;
			members[nm++] = p;
			for (size_t y = py ? py - 1 : 0; y <= py + 1 && y < bh; y++)
				for (size_t x = px ? px - 1 : 0; x <= px + 1 && x < bw; x++) {
					size_t q = y * bw + x;
					if (!done[q] && curve[(y + bx->y0) * w + x + bx->x0]) {
						done[q] = 1;
						stack[sp++] = q;
					}
				}
		}
		if (nm * 100 < total)
			for (size_t k = 0; k < nm; k++)
				curve[(members[k] / bw + bx->y0) * w + members[k] % bw + bx->x0] =
				    0;
	}
	free(stack);
	free(members);
	free(done);
	{
		struct box nb = {bx->x1, bx->y1, bx->x0, bx->y0};
		for (size_t y = bx->y0; y <= bx->y1; y++)
			for (size_t x = bx->x0; x <= bx->x1; x++)
				if (curve[y * w + x]) {
					nb.x0 = x < nb.x0 ? x : nb.x0;
					nb.x1 = x > nb.x1 ? x : nb.x1;
					nb.y0 = y < nb.y0 ? y : nb.y0;
					nb.y1 = y > nb.y1 ? y : nb.y1;
				}
		*bx = nb;
	}
}

/* Gives back the rule runs lying within the curve's box (its own straight stretches), and
 * finds the axes among the others: the lowest horizontal rule and the leftmost vertical one
 * (-1 when none). */
static void sort_rules(const struct grid *g, const unsigned char *rule, unsigned char *curve,
		       const struct box *bx, long *axis_y, long *axis_x)
{
	size_t w = g->w, h = g->h;
	const size_t tol = BRIDGE;
	*axis_y = *axis_x = -1;
	for (size_t y = 0; y < h; y++) {
		size_t x = 0;
		while (x < w) {
			size_t s;
			if (!(rule[y * w + x] & 1)) {
				x++;
				continue;
			}
			for (s = x; x < w && (rule[y * w + x] & 1); x++)
				;
			if (y + tol >= bx->y0 && y <= bx->y1 + tol && s + tol >= bx->x0 &&
			    x - 1 <= bx->x1 + tol) {
				for (size_t i = s; i < x; i++)
					curve[y * w + i] = 1;
			} else {
				*axis_y = (long)y;
			}
		}
	}
	for (size_t x = 0; x < w; x++) {
		size_t y = 0;
		while (y < h) {
			size_t s;
			if (!(rule[y * w + x] & 2)) {
				y++;
				continue;
			}
			for (s = y; y < h && (rule[y * w + x] & 2); y++)
				;
			if (x + tol >= bx->x0 && x <= bx->x1 + tol && s + tol >= bx->y0 &&
			    y - 1 <= bx->y1 + tol) {
				for (size_t i = s; i < y; i++)
					curve[i * w + x] = 1;
			} else if (*axis_x < 0) {
				*axis_x = (long)x;
			}
		}
	}
}

static int cmp_uchar_med(const void *a, const void *b)
{
	return cmp_uchar(a, b);
}

/* The median colour of the pixels where want(i) holds, into col; false when there are none. */
static bool median_colour(const struct grid *g, const unsigned char *mask, unsigned char bit,
			  const struct box *inside, bool in, unsigned char col[3])
{
	size_t n = 0, cap = 0;
	unsigned char *ch[3] = {NULL, NULL, NULL};
	bool ok;
	for (size_t y = 0; y < g->h; y++)
		for (size_t x = 0; x < g->w; x++) {
			size_t q = y * g->w + x;
			bool within = x >= inside->x0 && x <= inside->x1 && y >= inside->y0 &&
				      y <= inside->y1;
			if (!(mask[q] & bit) || within != in)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				for (int k = 0; k < 3; k++)
					ch[k] = xrealloc(ch[k], cap);
			}
			for (int k = 0; k < 3; k++)
				ch[k][n] = g->rgb[3 * q + (size_t)k];
			n++;
		}
	ok = n > 0;
	for (int k = 0; k < 3; k++) {
		if (ok) {
			qsort(ch[k], n, 1, cmp_uchar_med);
			col[k] = ch[k][n / 2];
		}
		free(ch[k]);
	}
	return ok;
}

static int colour_dist(const unsigned char *a, const unsigned char *b)
{
	int d = 0;
	for (int k = 0; k < 3; k++)
		d += abs((int)a[k] - (int)b[k]);
	return d;
}

static int chroma(const unsigned char *c)
{
	int lo = c[0] < c[1] ? c[0] : c[1], hi = c[0] > c[1] ? c[0] : c[1];
	lo = lo < c[2] ? lo : c[2];
	hi = hi > c[2] ? hi : c[2];
	return hi - lo;
}

/* Where the curve runs along an axis (a pump card's zero-load bottom drawn on the horizontal
 * axis, its left side on the vertical one), taking the axis out took the curve with it. Near
 * the curve's box, the rule pixels coloured like the curve rather than like the rules are
 * given back to it (a curve drawn in another colour than the axes; one drawn in the same
 * colour cannot be told from the axis under it). */
static void claim_from_rules(const struct grid *g, const unsigned char *rule, unsigned char *curve,
			     struct box *bx)
{
	unsigned char ccol[3], rcol[3];
	struct box near = *bx;
	const size_t tol = BRIDGE;
	int spread;
	near.x0 = near.x0 >= tol ? near.x0 - tol : 0;
	near.y0 = near.y0 >= tol ? near.y0 - tol : 0;
	near.x1 = near.x1 + tol < g->w ? near.x1 + tol : g->w - 1;
	near.y1 = near.y1 + tol < g->h ? near.y1 + tol : g->h - 1;
	/* The rules' colour away from the curve, where the curve cannot be over them. */
	if (!median_colour(g, curve, 1, bx, true, ccol) ||
	    !median_colour(g, rule, 3, &near, false, rcol) || colour_dist(ccol, rcol) < 90)
		return;
	spread = colour_dist(ccol, rcol);
	for (size_t y = near.y0; y <= near.y1; y++)
		for (size_t x = near.x0; x <= near.x1; x++) {
			size_t q = y * g->w + x;
			if (!rule[q] || curve[q])
				continue;
			const unsigned char *px = &g->rgb[3 * q];
			int dc = colour_dist(px, ccol);
			/* Nearer to the curve's colour than to the rules', and as coloured as the
			 * curve if it is (not a grid line of another grey than the axes). */
			if (dc < colour_dist(px, rcol) && 2 * dc < spread &&
			    (chroma(ccol) < 40 || 2 * chroma(px) >= chroma(ccol))) {
				curve[q] = 1;
				bx->x0 = x < bx->x0 ? x : bx->x0;
				bx->x1 = x > bx->x1 ? x : bx->x1;
				bx->y0 = y < bx->y0 ? y : bx->y0;
				bx->y1 = y > bx->y1 ? y : bx->y1;
			}
		}
}

/* Points of the loop in working pixels (x right, y down). */
struct path {
	double *x, *y;
	size_t n, alloc;
};

static void path_push(struct path *p, double x, double y)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 256;
		p->x = xreallocarray(p->x, p->alloc, sizeof(*p->x));
		p->y = xreallocarray(p->y, p->alloc, sizeof(*p->y));
	}
	p->x[p->n] = x;
	p->y[p->n] = y;
	p->n++;
}

static void path_release(struct path *p)
{
	free(p->x);
	free(p->y);
	memset(p, 0, sizeof(*p));
}

/* The drawn line's width: twice the curve's area over its outline (a band of width w and
 * length L has area wL and an outline of 2L), the outline counted in pixel sides between curve
 * and background. A slanted line's staircase outline makes this up to 1.4 times too small. */
static double line_width(const struct grid *g, const unsigned char *curve, const struct box *bx)
{
	size_t w = g->w, area = 0, edges = 0;
	for (size_t y = bx->y0; y <= bx->y1; y++)
		for (size_t x = bx->x0; x <= bx->x1; x++) {
			if (!curve[y * w + x])
				continue;
			area++;
			edges += x == 0 || !curve[y * w + x - 1];
			edges += x + 1 == w || !curve[y * w + x + 1];
			edges += y == 0 || !curve[(y - 1) * w + x];
			edges += y + 1 == g->h || !curve[(y + 1) * w + x];
		}
	return edges ? fmax(1.0, 2.0 * (double)area / (double)edges) : 1.0;
}

/* The loop from the curve's columns. Position runs one way on the upstroke and back on the
 * downstroke, so a card is two branches each crossing a column once: the upper envelope
 * (the first line met from the top of each column) taken left to right, then the lower
 * envelope right to left. Vertical stretches (a pump card's pick-up, a fluid pound's drop)
 * are a column's long run, whose top and bottom the two envelopes take; where the branches
 * cross, the loop touches itself instead, which draws the same picture. A column crossed by
 * one line only is either where the branches meet (a fluid pound's right part, a lens's tips)
 * or where one branch was lost (under an axis, in a gap): with both branches seen apart on
 * both sides, the line is taken for the nearer branch and the other one is interpolated. Points are
 * set half a line width inside a run, on the line's middle. */
static void order_by_columns(const struct grid *g, const unsigned char *curve, const struct box *bx,
			     double width, struct path *out)
{
	size_t w = g->w, nb = bx->x1 - bx->x0 + 1;
	double *up = xmallocarray(nb, sizeof(*up)), *lo = xmallocarray(nb, sizeof(*lo));
	double *mid = xmallocarray(nb, sizeof(*mid));
	/* 0 no ink, 1 one run, 2 two runs or more: both branches known */
	unsigned char *kind = xcalloc(nb, 1);
	long last = -1;
	size_t *next = xmallocarray(nb, sizeof(*next));
	for (size_t i = 0; i < nb; i++) {
		size_t x = bx->x0 + i, y = bx->y0, t0, t1, b0, b1;
		while (y <= bx->y1 && !curve[y * w + x])
			y++;
		if (y > bx->y1)
			continue;
		t0 = y;
		while (y <= bx->y1 && curve[y * w + x])
			y++;
		t1 = y - 1;
		y = bx->y1;
		while (!curve[y * w + x])
			y--;
		b1 = y;
		while (y > t0 && curve[(y - 1) * w + x])
			y--;
		b0 = y;
		up[i] = (double)t0 + (fmin((double)(t1 - t0 + 1), width) - 1) / 2;
		lo[i] = (double)b1 - (fmin((double)(b1 - b0 + 1), width) - 1) / 2;
		mid[i] = ((double)t0 + (double)b1) / 2;
		/* Two runs: both branches. One long run: a vertical stretch joining them, or a
		 * steep stretch of one branch (decided below). One short run: one line. */
		kind[i] = b0 > t1 + 1 ? 2 : 1;
		if (kind[i] == 1 && (double)(b1 - t0 + 1) <= 2 * width + 1)
			up[i] = lo[i] = mid[i];
	}
	/* The nearest column with both branches to the right of each column. */
	for (size_t i = nb; i-- > 0;)
		next[i] = kind[i] == 2 ? i : i + 1 < nb ? next[i + 1] : nb;
	for (size_t i = 0; i < nb; i++) {
		size_t r;
		if (kind[i] == 2) {
			last = (long)i;
			continue;
		}
		r = next[i];
		if (kind[i] == 1 && last >= 0 && r < nb) {
			double f = (double)(i - (size_t)last) / (double)(r - (size_t)last);
			double iu = up[last] + f * (up[r] - up[last]);
			double il = lo[last] + f * (lo[r] - lo[last]);
			/* Branches that meet here are within a line's width of each other. */
			if (il - iu < 2 * width)
				continue;
			if (fabs(mid[i] - iu) <= fabs(mid[i] - il)) {
				up[i] = mid[i];
				lo[i] = il;
			} else {
				up[i] = iu;
				lo[i] = mid[i];
			}
		}
	}
	for (size_t i = 0; i < nb; i++)
		if (kind[i])
			path_push(out, (double)(bx->x0 + i), up[i]);
	for (size_t i = nb; i-- > 0;)
		if (kind[i])
			path_push(out, (double)(bx->x0 + i), lo[i]);
	free(up);
	free(lo);
	free(mid);
	free(kind);
	free(next);
}

/* Points every pixel or so along the long steps (the vertical stretches between the
 * envelopes, and the way back to the start), so that the points are evenly spread along the
 * loop and its ends meet. */
static void densify(struct path *p)
{
	struct path d = {0};
	for (size_t i = 0; i < p->n; i++) {
		size_t j = (i + 1) % p->n;
		double dx = p->x[j] - p->x[i], dy = p->y[j] - p->y[i];
		size_t k = (size_t)floor(hypot(dx, dy));
		path_push(&d, p->x[i], p->y[i]);
		for (size_t s = 1; s < k; s++)
			path_push(&d, p->x[i] + dx * (double)s / (double)k,
				  p->y[i] + dy * (double)s / (double)k);
	}
	path_release(p);
	*p = d;
}

int card_extract(const struct img *im, const char *name, struct card *c, struct err *e)
{
	struct grid g = {0};
	unsigned char *rule = NULL, *curve = NULL;
	struct path path = {0};
	struct box bx;
	long axis_y, axis_x;
	size_t alloc = 0, found;
	unsigned bg;
	int ret = -1;

	card_release(c);
	if (!im->px || im->w < 2 || im->h < 2)
		return err_set(e, DYN_EDATA, "%s: empty picture", name);
	bg = background(im);
	if (bg < 2 * INK_DARK) {
		err_set(e, DYN_EDATA,
			"%s: the picture is dark all over (no light background to find a curve on)",
			name);
		goto out;
	}
	grid_ink(&g, im, bg);
	rule = xcalloc(g.w * g.h, 1);
	curve = xcalloc(g.w * g.h, 1);
	find_rules(&g, rule);
	found = largest_structure(&g, rule, curve, &bx);
	if (!found) {
		size_t ink = 0;
		for (size_t i = 0; i < g.w * g.h; i++)
			ink += g.ink[i];
		if (!ink)
			err_set(e, DYN_EDATA, "%s: blank picture (no curve found)", name);
		else
			err_set(e, DYN_EDATA, "%s: no curve found (only straight lines)", name);
		goto out;
	}
	/* A card spans the picture's width (the stroke) if not its height (a thin band). */
	if (found < 24 || (bx.x1 - bx.x0 + 1) * 6 < g.w || bx.y1 - bx.y0 < 2) {
		err_set(e, DYN_EDATA, "%s: no curve found (only specks, text or straight lines)",
			name);
		goto out;
	}
	drop_specks(&g, curve, &bx);
	sort_rules(&g, rule, curve, &bx, &axis_y, &axis_x);
	claim_from_rules(&g, rule, curve, &bx);
	order_by_columns(&g, curve, &bx, line_width(&g, curve, &bx), &path);
	densify(&path);
	{
		/* Plot coordinates in picture pixels: pixel centres, y up. */
		double f = (double)g.f, ox = axis_x >= 0 ? (double)axis_x : 0;
		double oy = axis_y >= 0 ? (double)axis_y : (double)bx.y1;
		for (size_t k = 0; k < path.n; k++)
			card_push(c, &alloc, (path.x[k] - ox) * f, (oy - path.y[k]) * f);
	}
	c->from_image = true;
	c->load_unanchored = axis_y < 0;
	ret = 0;
out:
	if (ret < 0)
		card_release(c);
	free(g.ink);
	free(g.rgb);
	free(rule);
	free(curve);
	path_release(&path);
	return ret;
}
