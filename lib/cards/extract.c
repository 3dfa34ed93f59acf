/* Cards read off pictures. The steps:
 *   1. ink: pixels clearly darker than the background (its median brightness) or more
 *      coloured than it, faint ones included (thin, light or JPEG-blurred lines), on a grid
 *      reduced so that the work is bounded whatever the picture's size;
 *   2. axes: the longest near-horizontal and near-vertical lines (the picture may be turned a
 *      few degrees), the lowest and the leftmost of them, meeting at a corner with free
 *      ends (a pump card's own corner turns into the card; a frame holds the curve); then the
 *      grid: grey lines fainter than the axes, across the plot as the axes are, evenly
 *      spaced (a curve's straight stretch stands alone);
 *   3. the curve: the connected structure (gaps of a few pixels bridged, and across a rule
 *      taken out under it) with the most ink once axes and grid are out; where it lay on an
 *      axis, the axis's pixels of the curve's colour are given back;
 *   4. the loop: the upper envelope of the curve's columns left to right, then the lower one
 *      back (order_by_columns says why that is a card's loop);
 *   5. plot coordinates: from the origin along the axes (the slant turned back), y up from
 *      the zero load, else from the curve's lowest pixel (load_unanchored). */
#include <math.h>

#include "cards/extract.h"
#include "base/base.h"

/* The working grid's longer side at most (a larger picture is reduced by whole blocks). */
#define WORK_SIDE 1024
/* Ink: this much darker than the background (0-255), or this much more colour (max - min)
 * than the background: thin, light or coloured lines (a line under a pixel wide, JPEG's
 * blur) are faint; a grid this faint is told from the curve afterwards (drop_grid). */
#define INK_DARK   40
#define INK_CHROMA 40
/* Bridged gaps, in working pixels. */
#define BRIDGE 3
/* ... and across a rule up to this thick. */
#define ACROSS 8

struct grid {
	size_t w, h, f; /* working size; f picture pixels a side per working pixel */
	unsigned char *ink;
	unsigned char *dk;  /* per working pixel: how much darker than the background, at most */
	unsigned char *rgb; /* per working pixel: the colour of its darkest picture pixel */
	/* For the straight-line search, per direction (near[1]: near vertical lines), made on
	 * first use: near[vert][u * (nv + 2) + v + 1] says whether a line pixel (ink_uv) lies
	 * within a pixel across the line at (u, v), for -1 <= v <= nv; u runs along the line, so
	 * the lines of one slope read it in order. */
	unsigned char *near[2];
};

static int cmp_uchar(const void *a, const void *b)
{
	return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* The background: the median brightness and colourfulness of a sample of pixels. */
static void background(const struct img *im, unsigned *lum, unsigned *chroma)
{
	size_t n = im->w * im->h, step = n / 4096 + 1, k = 0;
	unsigned char *s = xmalloc(n / step + 1), *c = xmalloc(n / step + 1);
	for (size_t i = 0; i < n; i += step) {
		const unsigned char *p = im->px + i * (size_t)im->channels;
		if (im->channels == 3) {
			unsigned lo = p[0] < p[1] ? p[0] : p[1], hi = p[0] > p[1] ? p[0] : p[1];
			lo = lo < p[2] ? lo : p[2];
			hi = hi > p[2] ? hi : p[2];
			s[k] = (unsigned char)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
			c[k++] = (unsigned char)(hi - lo);
		} else {
			s[k] = p[0];
			c[k++] = 0;
		}
	}
	qsort(s, k, 1, cmp_uchar);
	qsort(c, k, 1, cmp_uchar);
	*lum = s[k / 2];
	*chroma = c[k / 2];
	free(s);
	free(c);
}

static void grid_ink(struct grid *g, const struct img *im, unsigned bg, unsigned bg_chroma)
{
	size_t side = im->w > im->h ? im->w : im->h;
	g->f = (side + WORK_SIDE - 1) / WORK_SIDE;
	g->w = (im->w + g->f - 1) / g->f;
	g->h = (im->h + g->f - 1) / g->f;
	unsigned char *dark = xmalloc(g->w * g->h);
	g->ink = xcalloc(g->w * g->h, 1);
	g->dk = xcalloc(g->w * g->h, 1);
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
			unsigned d = lum < bg ? bg - lum : 0;
			if (d >= INK_DARK || hi - lo >= bg_chroma + INK_CHROMA)
				g->ink[q] = 1;
			if (d > g->dk[q])
				g->dk[q] = (unsigned char)d;
			if (lum <= dark[q]) {
				dark[q] = (unsigned char)lum;
				for (int k = 0; k < 3; k++)
					g->rgb[3 * q + (size_t)k] = p[im->channels == 3 ? k : 0];
			}
		}
	free(dark);
}

/* A straight line of ink, near horizontal (y = a + b x for x in [s, t]) or near vertical
 * (x = a + b y for y in [s, t]); |b| up to SLOPE_MAX, for a picture turned a little. */
struct line {
	bool found;
	double a, b;
	size_t s, t;
	double half; /* half its thickness, working pixels */
};

#define SLOPE_MAX  0.07 /* about 4 degrees */
#define LINE_FAINT 20	/* darker than the background by this much: a straight line's pixel */
#define GRID_MAX   32	/* grid lines looked at along one axis */

/* Ink at (u, v), where u runs along the line and v across it, or a pixel a little darker
 * than the background: a thin grey axis turned a little spreads over two pixels, each too
 * faint to be ink, and a line is long straight ink however faint. */
static bool ink_uv(const struct grid *g, bool vert, long u, long v)
{
	long x = vert ? v : u, y = vert ? u : v;
	if (x < 0 || y < 0 || (size_t)x >= g->w || (size_t)y >= g->h)
		return false;
	size_t q = (size_t)y * g->w + (size_t)x;
	return g->ink[q] || g->dk[q] >= LINE_FAINT;
}

/* The map of line pixels within a pixel across each place (see struct grid). */
static const unsigned char *near_map(struct grid *g, bool vert)
{
	size_t nu = vert ? g->h : g->w, nv = vert ? g->w : g->h, st = nv + 2;
	if (g->near[vert])
		return g->near[vert];
	unsigned char *m = xcalloc(nu * st, 1);
	for (size_t u = 0; u < nu; u++)
		for (size_t v = 0; v < nv; v++)
			if (ink_uv(g, vert, (long)u, (long)v)) {
				/* seen from v - 1, v and v + 1: indices v, v + 1, v + 2 */
				unsigned char *r = m + u * st + v;
				r[0] = r[1] = r[2] = 1;
			}
	g->near[vert] = m;
	return m;
}

/* The longest run of ink (gaps of up to 2 pixels bridged) of a line v = a + b u, with where it
 * starts and ends. */
struct run {
	size_t len, s, t;
	size_t start, last; /* the run being followed */
	bool in;
};

/* The runs of the na lines of slope b at v = a0 + k + b u, k = 0..na-1, into r, in one pass
 * along u: each place's ink is looked up once for all of them. A line pixel a pixel across
 * the line counts (a line a pixel thick drawn at a slant). */
static void runs_of_slope(struct grid *g, bool vert, double a0, double b, size_t na, struct run *r)
{
	size_t nu = vert ? g->h : g->w, nv = vert ? g->w : g->h, st = nv + 2;
	const unsigned char *m = near_map(g, vert);
	memset(r, 0, na * sizeof(*r));
	for (size_t u = 0; u < nu; u++) {
		/* v of line k: base + k (a0 + k + b u rounded: k is whole) */
		long base = (long)floor(a0 + b * (double)u + 0.5);
		const unsigned char *row = m + u * st;
		for (size_t k = 0; k < na; k++) {
			long v = base + (long)k;
			struct run *q = &r[k];
			if (v < -1 || v > (long)nv || !row[v + 1]) {
				if (q->in && u - q->last > 3)
					q->in = false;
				continue;
			}
			if (!q->in) {
				q->in = true;
				q->start = u;
			}
			q->last = u;
			if (q->last - q->start + 1 > q->len) {
				q->len = q->last - q->start + 1;
				q->s = q->start;
				q->t = q->last;
			}
		}
	}
}

/* The longest straight line, at least half the picture across; of lines nearly as long (within
 * a tenth of the picture: tick labels in line with the curve's flat top lengthen it), the one
 * nearest one side: the lowest (vert false, far true), the topmost (vert false, far false),
 * the rightmost (vert true, far true) or the leftmost. An axis spans the plot and the curve
 * lies within; taking long lines only keeps a line slanted across an axis and its tick marks
 * from passing for it. Slopes step so that the line moves about a pixel across the picture. */
static void find_line(struct grid *g, bool vert, bool far, struct line *out)
{
	size_t nu = vert ? g->h : g->w, nv = vert ? g->w : g->h, longest = 0;
	double db = fmax(1.0 / (double)nu, 0.005), reach = SLOPE_MAX * (double)nu + 2;
	double slack = fmax(2, 0.1 * (double)nu), best_pos = 0;
	size_t best_len = 0, nb = 0, na = (size_t)floor((double)nv + 2 * reach) + 1;
	struct run *runs;
	memset(out, 0, sizeof(*out));
	for (double b = -SLOPE_MAX; b <= SLOPE_MAX + 1e-9; b += db)
		nb++;
	/* every line's run once (na offsets a step apart, for each slope), then the choice */
	runs = xmallocarray(nb * na, sizeof(*runs));
	size_t ib = 0;
	for (double b = -SLOPE_MAX; b <= SLOPE_MAX + 1e-9 && ib < nb; b += db, ib++) {
		runs_of_slope(g, vert, -reach, b, na, runs + ib * na);
		for (size_t k = 0; k < na; k++)
			if (runs[ib * na + k].len > longest)
				longest = runs[ib * na + k].len;
	}
	ib = 0;
	for (double b = -SLOPE_MAX; b <= SLOPE_MAX + 1e-9 && ib < nb; b += db, ib++)
		for (size_t k = 0; k < na; k++) {
			const struct run *r = &runs[ib * na + k];
			double a = -reach + (double)k;
			size_t s = r->s, t = r->t, len = r->len;
			if (len * 2 < nu || (double)len + slack < (double)longest)
				continue;
			double pos = a + b * 0.5 * (double)(s + t);
			double key = far ? pos : -pos, bkey = far ? best_pos : -best_pos;
			/* the outermost; a longer run of the same line (a pixel away) wins */
			if (!out->found || key > bkey + 1.5 ||
			    (key > bkey - 1.5 && len > best_len)) {
				out->found = true;
				out->a = a;
				out->b = b;
				out->s = s;
				out->t = t;
				best_pos = pos;
				best_len = len;
			}
		}
	free(runs);
	if (!out->found)
		return;
	/* Its thickness: the ink across it at a few places along it, the median. */
	size_t th[5];
	for (int k = 0; k < 5; k++) {
		long u = (long)(out->s + (out->t - out->s) * (size_t)(2 * k + 1) / 10);
		long c = lround(out->a + out->b * (double)u), lo = c, hi = c;
		if (!ink_uv(g, vert, u, c))
			c = ink_uv(g, vert, u, c - 1) ? c - 1 : c + 1;
		lo = hi = c;
		while (lo > c - 40 && ink_uv(g, vert, u, lo - 1))
			lo--;
		while (hi < c + 40 && ink_uv(g, vert, u, hi + 1))
			hi++;
		th[k] = (size_t)(hi - lo + 1);
	}
	qsort(th, 5, sizeof(th[0]), cmp_size);
	out->half = 0.5 * (double)th[2];
}

/* v of the line at u. */
static double line_at(const struct line *l, double u)
{
	return l->a + l->b * u;
}

/* Darkness at (u, v) (u along, v across), 0 outside. */
static unsigned dk_uv(const struct grid *g, bool vert, long u, long v)
{
	long x = vert ? v : u, y = vert ? u : v;
	if (x < 0 || y < 0 || (size_t)x >= g->w || (size_t)y >= g->h)
		return 0;
	return g->dk[(size_t)y * g->w + (size_t)x];
}

/* The darkest within a pixel across the line at u. */
static unsigned dk_near(const struct grid *g, bool vert, long u, double v)
{
	long c = lround(v);
	unsigned a = dk_uv(g, vert, u, c - 1), b = dk_uv(g, vert, u, c),
		 d = dk_uv(g, vert, u, c + 1);
	return a > b ? (a > d ? a : d) : (b > d ? b : d);
}

/* How colourful a line is: the median along it of the colour spread (max - min) of its
 * darkest pixel across it. */
static unsigned line_chroma(const struct grid *g, bool vert, const struct line *l)
{
	size_t n = l->t - l->s + 1, k = 0;
	unsigned char *d = xmalloc(n);
	for (size_t u = l->s; u <= l->t; u++) {
		long c = lround(l->a + l->b * (double)u), best = c;
		for (long v = c - 1; v <= c + 1; v++)
			if (dk_uv(g, vert, (long)u, v) > dk_uv(g, vert, (long)u, best))
				best = v;
		long x = vert ? best : (long)u, y = vert ? (long)u : best;
		if (x < 0 || y < 0 || (size_t)x >= g->w || (size_t)y >= g->h) {
			d[k++] = 0;
			continue;
		}
		const unsigned char *p = &g->rgb[3 * ((size_t)y * g->w + (size_t)x)];
		int lo = p[0] < p[1] ? p[0] : p[1], hi = p[0] > p[1] ? p[0] : p[1];
		lo = lo < p[2] ? lo : p[2];
		hi = hi > p[2] ? hi : p[2];
		d[k++] = (unsigned char)(hi - lo);
	}
	qsort(d, k, 1, cmp_uchar);
	unsigned med = d[k / 2];
	free(d);
	return med;
}

/* How dark a line is: the median along it of the darkest pixel across it. */
static unsigned line_dark(const struct grid *g, bool vert, const struct line *l)
{
	size_t n = l->t - l->s + 1, k = 0;
	unsigned char *d = xmalloc(n);
	for (size_t u = l->s; u <= l->t; u++)
		d[k++] = (unsigned char)dk_near(g, vert, (long)u, l->a + l->b * (double)u);
	qsort(d, k, 1, cmp_uchar);
	unsigned med = d[k / 2];
	free(d);
	return med;
}

/* Does a line go on from (u0, v0) along u in direction dir (slope b) for len pixels: ink at
 * least dmin dark within 2 pixels across right from the start and over most of the way? */
static bool goes_on(const struct grid *g, bool vert, double u0, int dir, double v0, double b,
		    double len, unsigned dmin)
{
	size_t n = 0, hit = 0;
	for (double k = 0; k <= len; k += 1) {
		double u = u0 + dir * k, v = v0 + b * dir * k;
		bool ink = dk_near(g, vert, lround(u), v) >= dmin ||
			   dk_near(g, vert, lround(u), v - 2) >= dmin ||
			   dk_near(g, vert, lround(u), v + 2) >= dmin;
		if (k < 3 && !ink)
			return false;
		n++;
		hit += ink;
	}
	return n && hit * 10 >= n * 6;
}

/* Marks the band of line l, half its thickness and a pixel and a half either side, in rule[]
 * with bit. */
static void mark_line(const struct grid *g, bool vert, const struct line *l, double half,
		      unsigned char *rule, unsigned char bit)
{
	for (size_t u = l->s > 2 ? l->s - 2 : 0; u <= l->t + 2; u++) {
		double v = line_at(l, (double)u);
		for (long d = lround(v - half - 1.5); d <= lround(v + half + 1.5); d++) {
			long x = vert ? d : (long)u, y = vert ? (long)u : d;
			if (x >= 0 && y >= 0 && (size_t)x < g->w && (size_t)y < g->h)
				rule[(size_t)y * g->w + (size_t)x] |= bit;
		}
	}
}

/* Grid lines: straight grey lines parallel to the axis ax across the plot as the axis is (from
 * the other axis to ax's far end), much fainter than the axis (a curve's own straight stretch, a
 * pump card's flat top, is drawn as dark as the axes or darker). Marked in rule[] like the axes. */
static void drop_grid(struct grid *g, const struct line *ax, const struct line *other, bool vert,
		      unsigned char *rule)
{
	size_t nu = vert ? g->h : g->w, nv = vert ? g->w : g->h, span = ax->t - ax->s + 1;
	unsigned faint = line_dark(g, vert, ax) * 55 / 100, grey = line_chroma(g, vert, ax) + 25;
	double reach = SLOPE_MAX * (double)nu + 2;
	struct line best = {0}, found[GRID_MAX + 1];
	size_t best_len = 0, group = 0, n = 0;
	unsigned darkest = 0;
	/* the axis is a line of the lattice when it lies on a tick */
	found[n++] = *ax;
	/* A line is met at a few neighbouring offsets (ink is looked for a pixel either side):
	 * each group of them is one line, kept at its longest run. */
	size_t na = (size_t)floor((double)nv + 2 * reach) + 1, ia = 0;
	struct run *runs = xmallocarray(na, sizeof(*runs));
	runs_of_slope(g, vert, -reach, ax->b, na, runs);
	for (double a = -reach; a <= (double)nv + reach + 1; a += 1, ia++) {
		struct line l = {true, a, ax->b, 0, 0, 0.5};
		size_t len = 0;
		if (ia < na && a <= (double)nv + reach) {
			len = runs[ia].len;
			l.s = runs[ia].s;
			l.t = runs[ia].t;
		}
		/* across the plot as the axis is: from the other axis to about the axis's far end
		 * (the top of the vertical axis, the right end of the horizontal one, which specks
		 * and JPEG's ringing may lengthen) */
		double near = line_at(other, line_at(&l, vert ? (double)l.t : (double)l.s));
		double tol = ax->half + other->half + 4, far = tol + 0.05 * (double)nu;
		bool cand =
		    len * 10 >= span * 6 &&
		    fabs(line_at(&l, 0.5 * (double)(l.s + l.t)) -
			 line_at(ax, 0.5 * (double)(l.s + l.t))) >= ax->half + 3 &&
		    (vert ? (double)l.t >= near - tol && (double)l.s <= (double)ax->s + far
			  : (double)l.s <= near + tol && (double)l.t >= (double)ax->t - far);
		if (cand) {
			unsigned d = line_dark(g, vert, &l);
			if (len > best_len) {
				best = l;
				best_len = len;
			}
			darkest = d > darkest ? d : darkest;
			group++;
			continue;
		}
		/* grey: a coloured line is the curve's, however faint */
		if (group && darkest < faint && line_chroma(g, vert, &best) < grey &&
		    n <= GRID_MAX) {
			best.half = fmax(0.5, 0.5 * ((double)group - 2));
			best.a = a - 0.5 * (double)group - 0.5;
			found[n++] = best;
		}
		group = 0;
		best_len = 0;
		darkest = 0;
	}
	free(runs);
	/* A grid is a lattice: evenly spaced lines, at least three in a row (with the axis when
	 * it lies on one). A curve's straight stretch that passes for a grid line (a pump card's
	 * flat top across the plot) stands alone. */
	double step_min = 0.08 * (double)nv;
	for (size_t i = 1; i < n; i++) {
		bool lattice = false;
		for (size_t j = 0; j < n && !lattice; j++)
			for (size_t k = 0; k < n && !lattice; k++) {
				double ai = found[i].a, aj = found[j].a, ak = found[k].a;
				if (j == i || k == i || j == k || fabs(aj - ai) < step_min)
					continue;
				/* i, j, k in a row, in any order */
				lattice = fabs((ai + ak) - 2 * aj) <= 2 ||
					  fabs((ai + aj) - 2 * ak) <= 2 ||
					  fabs((aj + ak) - 2 * ai) <= 2;
			}
		if (lattice)
			mark_line(g, vert, &found[i], found[i].half, rule, vert ? 2 : 1);
	}
}

/* Axes: the lowest long horizontal line and the leftmost long vertical one meeting at a corner
 * (the origin), each with a free end (the vertical axis's top, the horizontal one's right
 * end). A card's own corner (a pump card's pick-up meeting its bottom line) has no free end:
 * its lines turn into the rest of the card. A frame closes too, but holds the curve. Marks the
 * lines in rule[] (1 horizontal, 2 vertical, 4 the picture left of the vertical axis); false
 * when there are no axes. */
static bool find_axes(struct grid *g, unsigned char *rule, struct line *hx, struct line *vx)
{
	struct line top, right;
	double size = (double)(g->w > g->h ? g->w : g->h);
	find_line(g, false, true, hx);
	find_line(g, true, false, vx);
	if (!hx->found || !vx->found)
		return false;
	/* axes are thin lines: a thick one is a noisy branch of the curve (a thin band's) */
	if (hx->half > 2 + 0.02 * size || vx->half > 2 + 0.02 * size)
		return false;
	double tol = fmax(3, 0.03 * size) + hx->half + vx->half;
	/* the corner: the vertical line reaches down to the horizontal one, which starts there
	 * (or a little to the left: the tick mark of the zero load, the axis's label) */
	double cy = line_at(hx, line_at(vx, (double)vx->t)), cx = line_at(vx, cy);
	if ((double)hx->s > cx + tol || (double)hx->s < cx - tol - 0.12 * size ||
	    (double)vx->t < cy - tol || (double)vx->t > cy + tol + 0.12 * size)
		return false;
	/* free ends: no line going on to the right from the vertical line's top, nor up from
	 * the horizontal line's right end, as dark as the lines themselves (a faint grid line
	 * may start there) */
	unsigned dmin = (line_dark(g, false, hx) + line_dark(g, true, vx)) * 3 / 10;
	double xt = line_at(vx, (double)vx->s), yr = line_at(hx, (double)hx->t);
	bool turns =
	    goes_on(g, false, xt + vx->half + 1, 1, (double)vx->s, hx->b, 0.2 * (double)g->w,
		    dmin) ||
	    goes_on(g, true, yr - hx->half - 1, -1, (double)hx->t, vx->b, 0.2 * (double)g->h, dmin);
	bool frame = false;
	if (turns) {
		/* A frame: its top and right sides close the box and the curve lies inside. */
		size_t inside = 0, area = 0;
		double in = 0.04 * size;
		find_line(g, false, false, &top);
		find_line(g, true, true, &right);
		if (!top.found || !right.found)
			return false;
		for (size_t y = (size_t)fmax(0, line_at(&top, cx) + top.half + in);
		     (double)y < cy - hx->half - in && y < g->h; y++)
			for (size_t x = (size_t)fmax(0, cx + vx->half + in);
			     (double)x < line_at(&right, (double)y) - right.half - in && x < g->w;
			     x++) {
				area++;
				inside += g->ink[y * g->w + x];
			}
		if (inside < 24 || inside * 40 < area)
			return false;
		frame = true;
	}
	mark_line(g, false, hx, hx->half, rule, 1);
	mark_line(g, true, vx, vx->half, rule, 2);
	/* Left of the vertical axis lie its labels, never the curve (positions start at the
	 * axis): out of reach, even across the axis. */
	for (size_t y = 0; y < g->h; y++) {
		double edge = line_at(vx, (double)y) - vx->half - 1.5;
		for (size_t x = 0; (double)x < edge && x < g->w; x++)
			rule[y * g->w + x] |= 4;
	}
	if (frame) {
		mark_line(g, false, &top, top.half, rule, 1);
		mark_line(g, true, &right, right.half, rule, 2);
	}
	drop_grid(g, hx, vx, false, rule);
	drop_grid(g, vx, hx, true, rule);
	return true;
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
				bool crossed = false;
				int faint = 0;
				for (long k = 1, off = 0; k <= ACROSS + off; k++) {
					long x = (long)px + k * dx, y = (long)py + k * dy;
					size_t q;
					if (x < 0 || y < 0 || (size_t)x >= w || (size_t)y >= h)
						break;
					q = (size_t)y * w + (size_t)x;
					if (rule[q]) {
						/* a thick rule's band does not count, up to
						 * another ACROSS */
						off += off < ACROSS;
						crossed = true;
						continue;
					}
					if (!crossed)
						break;
					/* beyond the rule: the line, maybe a little aside (it
					 * crosses at a slant) or past its faint edge */
					for (long j = 0; j <= 2 * BRIDGE; j++) {
						long o = j % 2 ? (j + 1) / 2 : -(j / 2);
						long xo = x + o * dy, yo = y + o * dx;
						size_t qo;
						if (xo < 0 || yo < 0 || (size_t)xo >= w ||
						    (size_t)yo >= h)
							continue;
						qo = (size_t)yo * w + (size_t)xo;
						if (g->ink[qo] && !rule[qo] && !lab[qo]) {
							lab[qo] = (unsigned)label;
							stack[sp++] = qo;
							break;
						}
					}
					if (!g->ink[q] && faint++ < 2)
						continue;
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

static int cmp_uchar_med(const void *a, const void *b)
{
	return cmp_uchar(a, b);
}

/* The median colour of the ink pixels marked with bit in mask, within the box inside or out of
 * it (in), into col; false when there are none. */
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
			if (!(mask[q] & bit) || !g->ink[q] || within != in)
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
			if (!(rule[q] & 3) || curve[q])
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
	struct line hx, vx;
	bool axes;
	size_t alloc = 0, found;
	unsigned bg, bg_chroma;
	int ret = -1;

	card_release(c);
	if (!im->px || im->w < 2 || im->h < 2)
		return err_set(e, DYN_EDATA, "%s: empty picture", name);
	background(im, &bg, &bg_chroma);
	/* a light background leaves room for ink darker than it by well over INK_DARK */
	if (bg < 140) {
		err_set(e, DYN_EDATA,
			"%s: the picture is dark all over (no light background to find a curve on)",
			name);
		goto out;
	}
	grid_ink(&g, im, bg, bg_chroma);
	rule = xcalloc(g.w * g.h, 1);
	curve = xcalloc(g.w * g.h, 1);
	axes = find_axes(&g, rule, &hx, &vx);
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
	if (axes)
		claim_from_rules(&g, rule, curve, &bx);
	order_by_columns(&g, curve, &bx, line_width(&g, curve, &bx), &path);
	densify(&path);
	{
		/* Plot coordinates in picture pixels, y up: from the origin along the axes
		 * (turned back by the picture's slant), else from the curve's lowest pixel. */
		double f = (double)g.f, cy = 0, cx = 0, cs = 1, sn = 0;
		if (axes) {
			cy = line_at(&hx, line_at(&vx, (double)vx.t));
			cx = line_at(&vx, cy);
			cy = line_at(&hx, cx);
			cs = 1 / sqrt(1 + hx.b * hx.b);
			sn = hx.b * cs;
		} else {
			cy = (double)bx.y1;
		}
		for (size_t k = 0; k < path.n; k++) {
			double dx = path.x[k] - cx, dy = path.y[k] - cy;
			card_push(c, &alloc, (dx * cs + dy * sn) * f, (dx * sn - dy * cs) * f);
		}
	}
	c->from_image = true;
	c->load_unanchored = !axes;
	ret = 0;
out:
	if (ret < 0)
		card_release(c);
	free(g.ink);
	free(g.near[0]);
	free(g.near[1]);
	free(g.dk);
	free(g.rgb);
	free(rule);
	free(curve);
	path_release(&path);
	return ret;
}
