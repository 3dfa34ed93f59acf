/* Cards read off pictures. The steps:
 *   1. ink: pixels darker than the background (its median brightness) or strongly coloured,
 *      on a grid reduced so that the work is bounded whatever the picture's size;
 *   2. rules: horizontal and vertical runs of ink nearly as long as the longest such run and
 *      at least half the picture across: axes, the plot's frame and grid lines;
 *   3. the curve: the connected structure (gaps of a few pixels bridged, where a rule was
 *      taken out under it) with the most ink once rules are out; a rule lying wholly within
 *      the curve's box is the curve's own straight stretch (a pump card's flat top) and is
 *      given back;
 *   4. the loop: curve pixels ordered by angle around their centre in the curve's box scaled
 *      to a square (card shapes are close to star-shaped there), one point per angle step
 *      at the mean of its pixels, which also finds the middle of a thick line;
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
#define ANGLES 360

struct grid {
	size_t w, h, f; /* working size; f picture pixels a side per working pixel */
	unsigned char *ink;
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
	g->ink = xcalloc(g->w * g->h, 1);
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
			if (lum + INK_DARK <= bg || hi - lo >= INK_CHROMA)
				g->ink[(y / g->f) * g->w + x / g->f] = 1;
		}
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

int card_extract(const struct img *im, const char *name, struct card *c, struct err *e)
{
	struct grid g = {0};
	unsigned char *rule = NULL, *curve = NULL;
	double *sx = NULL, *sy = NULL, *cnt = NULL, cx = 0, cy = 0, hw, hh, npx = 0;
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
	sort_rules(&g, rule, curve, &bx, &axis_y, &axis_x);

	/* The loop: by angle around the curve's centre, in its box scaled to a square. */
	hw = (double)(bx.x1 - bx.x0 + 1) / 2;
	hh = (double)(bx.y1 - bx.y0 + 1) / 2;
	for (size_t y = bx.y0; y <= bx.y1; y++)
		for (size_t x = bx.x0; x <= bx.x1; x++)
			if (curve[y * g.w + x]) {
				cx += ((double)x - (double)bx.x0 - hw) / hw;
				cy += ((double)y - (double)bx.y0 - hh) / hh;
				npx++;
			}
	cx /= npx;
	cy /= npx;
	sx = xcalloc(ANGLES, sizeof(*sx));
	sy = xcalloc(ANGLES, sizeof(*sy));
	cnt = xcalloc(ANGLES, sizeof(*cnt));
	for (size_t y = bx.y0; y <= bx.y1; y++)
		for (size_t x = bx.x0; x <= bx.x1; x++) {
			double u, v, a;
			size_t k;
			if (!curve[y * g.w + x])
				continue;
			u = ((double)x - (double)bx.x0 - hw) / hw - cx;
			v = ((double)y - (double)bx.y0 - hh) / hh - cy;
			a = atan2(v, u) + M_PI;
			k = (size_t)(a / (2 * M_PI) * ANGLES);
			if (k >= ANGLES)
				k = ANGLES - 1;
			sx[k] += (double)x;
			sy[k] += (double)y;
			cnt[k]++;
		}
	{
		/* Plot coordinates in picture pixels: pixel centres, y up. */
		double f = (double)g.f, ox = axis_x >= 0 ? (double)axis_x : 0;
		double oy = axis_y >= 0 ? (double)axis_y : (double)bx.y1;
		for (size_t k = 0; k < ANGLES; k++)
			if (cnt[k] > 0)
				card_push(c, &alloc, (sx[k] / cnt[k] - ox) * f,
					  (oy - sy[k] / cnt[k]) * f);
	}
	c->from_image = true;
	c->load_unanchored = axis_y < 0;
	ret = 0;
out:
	if (ret < 0)
		card_release(c);
	free(g.ink);
	free(rule);
	free(curve);
	free(sx);
	free(sy);
	free(cnt);
	return ret;
}
