/* Text finding (see find.h). On a gray copy shrunk by an integer factor: gradient magnitude
 * (stamped relief shows as edges, not as dark ink), a threshold relative to the photo's own
 * texture and to its neighbourhood, gaps closed along the text direction (rows, then the
 * transposed copy for columns), thin streaks opened away, components, and per component the
 * projection profile across it for the line's extent and any split into stacked lines. Rings:
 * gradient directions vote for centres, circles are the radii edges agree on, the ring text
 * is the band between circles whose edge energy stands out. */
#include <math.h>

#include "base/base.h"
#include "ocr/find.h"

#define PI 3.14159265358979323846

/* ---- boxes ---- */

static void box_corners(const struct ocr_box *b, double *px, double *py)
{
	double a = b->angle * PI / 180, c = cos(a), s = sin(a);
	static const double su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
	for (int i = 0; i < 4; i++) {
		double u = su[i] * b->w / 2, v = sv[i] * b->h / 2;
		px[i] = b->cx + u * c - v * s;
		py[i] = b->cy + u * s + v * c;
	}
}

static double poly_area(const double *x, const double *y, int n)
{
	double a = 0;
	for (int i = 0; i < n; i++) {
		int j = (i + 1) % n;
		a += x[i] * y[j] - x[j] * y[i];
	}
	return a / 2;
}

/* Clips polygon (x, y, n) by the half-plane left of the directed edge (ax, ay)->(bx, by) for a
 * counterclockwise clip polygon in a y-up sense (the sign is taken from the clip polygon's
 * own area by the caller). */
static int clip(const double *x, const double *y, int n, double ax, double ay, double bx, double by,
		double sign, double *ox, double *oy)
{
	int m = 0;
	for (int i = 0; i < n; i++) {
		int j = (i + 1) % n;
		double di = sign * ((bx - ax) * (y[i] - ay) - (by - ay) * (x[i] - ax));
		double dj = sign * ((bx - ax) * (y[j] - ay) - (by - ay) * (x[j] - ax));
		if (di >= 0) {
			ox[m] = x[i];
			oy[m] = y[i];
			m++;
		}
		if ((di >= 0) != (dj >= 0)) {
			double t = di / (di - dj);
			ox[m] = x[i] + t * (x[j] - x[i]);
			oy[m] = y[i] + t * (y[j] - y[i]);
			m++;
		}
	}
	return m;
}

double ocr_box_iou(const struct ocr_box *a, const struct ocr_box *b)
{
	double ax[4], ay[4], bx[4], by[4], px[16], py[16], qx[16], qy[16];
	double sa = fabs(a->w * a->h), sb = fabs(b->w * b->h), sign, inter, uni;
	int n = 4;
	if (!(sa > 0) || !(sb > 0))
		return 0;
	box_corners(a, ax, ay);
	box_corners(b, bx, by);
	memcpy(px, bx, sizeof(bx));
	memcpy(py, by, sizeof(by));
	sign = poly_area(ax, ay, 4) > 0 ? 1 : -1;
	/* Sutherland-Hodgman: b clipped by each edge of a; a convex n-gon gains at most one
	 * vertex per edge, so 4 + 4 fit */
	for (int i = 0; i < 4 && n > 0; i++) {
		int j = (i + 1) % 4;
		n = clip(px, py, n, ax[i], ay[i], ax[j], ay[j], sign, qx, qy);
		memcpy(px, qx, sizeof(double) * (size_t)n);
		memcpy(py, qy, sizeof(double) * (size_t)n);
	}
	inter = n >= 3 ? fabs(poly_area(px, py, n)) : 0;
	uni = sa + sb - inter;
	return uni > 0 ? inter / uni : 0;
}

/* ---- the work copy ---- */

struct work {
	int w, h;
	int f;	  /* photo pixels a work pixel, along each axis */
	float *m; /* gradient magnitude */
	float *gx, *gy;
	unsigned char *b; /* strong edges */
	float noise;	  /* the photo's typical gradient magnitude (its median) */
};

static void work_release(struct work *wk)
{
	free(wk->m);
	free(wk->gx);
	free(wk->gy);
	free(wk->b);
}

/* The photo in f x f blocks averaged to gray, lightly smoothed (a binomial 3x3): the grain of
 * the metal is mostly below a work pixel. */
static float *shrink(const struct img *im, int f, int w, int h)
{
	float *g = xcalloc_huge((size_t)w * (size_t)h, sizeof(float));
	float *t = xcalloc_huge((size_t)w * (size_t)h, sizeof(float));
	size_t c = (size_t)im->channels;
	float norm = 1.0f / (float)(f * f) / (c == 3 ? 256.0f : 1.0f);
	for (int y = 0; y < h; y++) {
		float *row = g + (size_t)y * (size_t)w;
		for (int j = 0; j < f; j++) {
			const unsigned char *src =
			    im->px + ((size_t)y * (size_t)f + (size_t)j) * im->w * c;
			if (c == 1) {
				for (int x = 0; x < w; x++) {
					unsigned acc = 0;
					for (int i = 0; i < f; i++)
						acc += src[(size_t)x * (size_t)f + (size_t)i];
					row[x] += (float)acc;
				}
			} else {
				for (int x = 0; x < w; x++) {
					unsigned acc = 0;
					const unsigned char *p = src + (size_t)x * (size_t)f * 3;
					for (int i = 0; i < f; i++, p += 3)
						acc += 77u * p[0] + 150u * p[1] + 29u * p[2];
					row[x] += (float)acc;
				}
			}
		}
		for (int x = 0; x < w; x++)
			row[x] *= norm;
	}
	/* [1 2 1] / 4 along rows into t, then along columns back into g */
	for (int y = 0; y < h; y++) {
		const float *r = g + (size_t)y * (size_t)w;
		float *o = t + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++) {
			float l = r[x > 0 ? x - 1 : x], rr = r[x < w - 1 ? x + 1 : x];
			o[x] = 0.25f * (l + 2 * r[x] + rr);
		}
	}
	for (int y = 0; y < h; y++) {
		const float *u = t + (size_t)(y > 0 ? y - 1 : y) * (size_t)w;
		const float *c0 = t + (size_t)y * (size_t)w;
		const float *d = t + (size_t)(y < h - 1 ? y + 1 : y) * (size_t)w;
		float *o = g + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++)
			o[x] = 0.25f * (u[x] + 2 * c0[x] + d[x]);
	}
	free(t);
	return g;
}

/* The value below which a fraction q of v[0..n) lies (a histogram of 2048 bins up to the
 * maximum). */
static float quantile(const float *v, size_t n, double q)
{
	unsigned *hist = xcalloc(2048, sizeof(unsigned));
	float mx = 0, ret = 0;
	size_t acc = 0, want = (size_t)(q * (double)n);
	for (size_t i = 0; i < n; i++)
		mx = v[i] > mx ? v[i] : mx;
	if (mx > 0) {
		for (size_t i = 0; i < n; i++)
			hist[(size_t)(v[i] / mx * 2047)]++;
		for (size_t k = 0; k < 2048; k++) {
			acc += hist[k];
			if (acc > want) {
				ret = ((float)k + 0.5f) / 2047 * mx;
				break;
			}
		}
	}
	free(hist);
	return ret;
}

/* The strong-edge mask of a (a gradient magnitude): over 2.5 times the median magnitude over
 * the photo (its texture; ref) and 1.3 times a's mean over the neighbourhood
 * (a square of side/16), so that neither a grainy photo nor a grainy patch of one lights up
 * whole. */
static void threshold(const float *a, int w, int h, float ref, unsigned char *b)
{
	int rad = (w > h ? w : h) / 32;
	size_t W = (size_t)(w + 1);
	double *ii = xcalloc_huge((size_t)(w + 1) * (size_t)(h + 1), sizeof(double));
	float thr_g = 2.5f * ref + 1.0f;
	for (int y = 0; y < h; y++) {
		double acc = 0;
		for (int x = 0; x < w; x++) {
			acc += a[(size_t)y * (size_t)w + (size_t)x];
			ii[(size_t)(y + 1) * W + (size_t)(x + 1)] =
			    ii[(size_t)y * W + (size_t)(x + 1)] + acc;
		}
	}
	for (int y = 0; y < h; y++) {
		int y0 = y - rad < 0 ? 0 : y - rad, y1 = y + rad + 1 > h ? h : y + rad + 1;
		for (int x = 0; x < w; x++) {
			int x0 = x - rad < 0 ? 0 : x - rad, x1 = x + rad + 1 > w ? w : x + rad + 1;
			double s =
			    ii[(size_t)y1 * W + (size_t)x1] - ii[(size_t)y0 * W + (size_t)x1] -
			    ii[(size_t)y1 * W + (size_t)x0] + ii[(size_t)y0 * W + (size_t)x0];
			float mean = (float)(s / ((double)(x1 - x0) * (y1 - y0)));
			float thr = 1.3f * mean > thr_g ? 1.3f * mean : thr_g;
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			b[i] = a[i] > thr;
		}
	}
	free(ii);
}

/* Gradients (Sobel), their magnitude and its strong edges. (Keeping for a line along the rows
 * only edges with a fair part of their gradient along x, to be rid of brushing along the
 * rows, lost more text than it rid of brushing, on generated photos.) */
static void edges(struct work *wk, const float *g)
{
	int w = wk->w, h = wk->h;
	size_t n = (size_t)w * (size_t)h;
	wk->m = xcalloc_huge(n, sizeof(float));
	wk->gx = xcalloc_huge(n, sizeof(float));
	wk->gy = xcalloc_huge(n, sizeof(float));
	wk->b = xcalloc_huge(n, 1);
	for (int y = 1; y < h - 1; y++)
		for (int x = 1; x < w - 1; x++) {
			const float *c = g + (size_t)y * (size_t)w + (size_t)x;
			float gx =
			    (c[-w + 1] + 2 * c[1] + c[w + 1]) - (c[-w - 1] + 2 * c[-1] + c[w - 1]);
			float gy =
			    (c[w - 1] + 2 * c[w] + c[w + 1]) - (c[-w - 1] + 2 * c[-w] + c[-w + 1]);
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			wk->gx[i] = gx;
			wk->gy[i] = gy;
			wk->m[i] = sqrtf(gx * gx + gy * gy);
		}
	wk->noise = quantile(wk->m, n, 0.5);
	threshold(wk->m, w, h, wk->noise, wk->b);
}

/* ---- straight lines ---- */

struct cands {
	struct ocr_cand *v;
	size_t n, alloc;
};

static void cands_add(struct cands *c, const struct ocr_cand *x)
{
	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	c->v[c->n++] = *x;
}

static void transpose_u8(const unsigned char *s, unsigned char *d, int w, int h)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			d[(size_t)x * (size_t)h + (size_t)y] = s[(size_t)y * (size_t)w + (size_t)x];
}

static void transpose_f(const float *s, float *d, int w, int h)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			d[(size_t)x * (size_t)h + (size_t)y] = s[(size_t)y * (size_t)w + (size_t)x];
}

/* Closes gaps of at most gap pixels between set pixels along each row. */
static void close_rows(unsigned char *b, int w, int h, int gap)
{
	for (int y = 0; y < h; y++) {
		unsigned char *r = b + (size_t)y * (size_t)w;
		int last = -1;
		for (int x = 0; x < w; x++) {
			if (!r[x])
				continue;
			if (last >= 0 && x - last - 1 <= gap)
				memset(r + last + 1, 1, (size_t)(x - last - 1));
			last = x;
		}
	}
}

/* Along each column: closes gaps of at most gap, then drops runs shorter than minrun (streaks
 * of brushing, scratches and circles running along the rows). */
static void clean_cols(unsigned char *b, int w, int h, int gap, int minrun)
{
	for (int x = 0; x < w; x++) {
		int last = -1, start = -1;
		for (int y = 0; y < h; y++) {
			if (!b[(size_t)y * (size_t)w + (size_t)x])
				continue;
			if (last >= 0 && y - last - 1 <= gap)
				for (int k = last + 1; k < y; k++)
					b[(size_t)k * (size_t)w + (size_t)x] = 1;
			last = y;
		}
		for (int y = 0; y <= h; y++) {
			bool on = y < h && b[(size_t)y * (size_t)w + (size_t)x];
			if (on && start < 0)
				start = y;
			if (!on && start >= 0) {
				if (y - start < minrun)
					for (int k = start; k < y; k++)
						b[(size_t)k * (size_t)w + (size_t)x] = 0;
				start = -1;
			}
		}
	}
}

/* One plane's lines read along its rows: plane b (closed), raw edges e, magnitude m. */
struct rows {
	int w, h;
	const unsigned char *b, *e;
	const float *m;
	float noise;
};

/* Scores a line band: s along its rows from s0 to s1, t across from t0 to t1, in the frame
 * turned by th (radians) about the origin. The score's parts, each mapped to [0, 1] and
 * multiplied: how strong its edges are against the photo's texture, how often a row through
 * it crosses edges (strokes) per line height and in all (several letters), its height (in
 * work pixels: lettering under 5 is not read), its length to height. The ranges were set on
 * generated photos, where lines and the rest separate best by the crossings (5th percentile
 * of lines 13 a row, 95th of the rest 11; per height 4.0 against a median of 1.6). */
static double band_score(const struct rows *rw, double th, double s0, double s1, double t0,
			 double t1)
{
	double c = cos(th), sn = sin(th), len = s1 - s0, hgt = t1 - t0, msum = 0;
	long mcount = 0, cross = 0, nrow = 0;
	double contrast, crossings, aspect, q1, q2, q3, q4, q5;
	if (hgt < 1 || len < 1)
		return 0;
	for (int k = 1; k <= 5; k++) {
		double t = t0 + hgt * k / 6.0;
		int prev = 0;
		for (double s = s0; s <= s1; s += 1) {
			int x = (int)(s * c - t * sn), y = (int)(s * sn + t * c), on;
			size_t i;
			if (x < 0 || y < 0 || x >= rw->w || y >= rw->h)
				continue;
			i = (size_t)y * (size_t)rw->w + (size_t)x;
			on = rw->e[i];
			if (on) {
				msum += rw->m[i];
				mcount++;
			}
			cross += on != prev;
			prev = on;
		}
		nrow++;
	}
	contrast = mcount ? msum / (double)mcount / (rw->noise + 1) : 0;
	crossings = (double)cross / (double)nrow / (len / hgt);
	aspect = len / hgt;
	q1 = fmin(1, fmax(0, (contrast - 2.5) / 3));
	q2 = fmin(1, fmax(0, (crossings - 1.5) / 3));
	q3 = fmin(1, fmax(0, ((double)cross / (double)nrow - 4) / 16));
	q4 = fmin(1, fmax(0, (hgt - 5) / 10));
	q5 = fmin(1, fmax(0, (aspect - 1.2) / 1.5));
	return pow(q1 * q2 * q3 * q4 * q5, 0.2);
}

/* A line in a plane read along its rows: from s0 to s1 along the direction turned by th
 * (radians) from the rows, from t0 to t1 across it. */
struct band {
	double th, s0, s1, t0, t1;
};

struct bands {
	struct band *v;
	size_t n, alloc;
};

/* The lines in one component (pixels pix[0..np) of the closed plane, indices y * w + x):
 * its skew from the second moments, then the profile of its raw edges across the skewed
 * direction, split at empty stretches into lines, each trimmed along. */
static void component_lines(const struct rows *rw, const int *pix, size_t np, struct bands *out)
{
	double th = 0, c, sn, mx = 0, best = -1;
	double tmin = INFINITY, tmax = -INFINITY;
	double *prof, *sv;
	int nb, x0 = rw->w, y0 = rw->h, x1 = 0, y1 = 0, span;
	for (size_t k = 0; k < np; k++) {
		int x = pix[k] % rw->w, y = pix[k] / rw->w;
		x0 = x < x0 ? x : x0;
		x1 = x > x1 ? x : x1;
		y0 = y < y0 ? y : y0;
		y1 = y > y1 ? y : y1;
	}
	/* the skew: of the angles within 8 degrees of the rows, the one across which the edges'
	 * profile is sharpest (the largest sum of squares), as a document's skew is found;
	 * a short word's profile hardly changes with it, and it stays level */
	span = (x1 - x0 + 1) + (y1 - y0 + 1) + 2;
	prof = xcalloc((size_t)span * 2, sizeof(double));
	for (int deg = -8; deg <= 8; deg++) {
		double a = deg * PI / 180, ca = cos(a), sa = sin(a), ss = 0;
		memset(prof, 0, sizeof(double) * (size_t)span * 2);
		for (size_t k = 0; k < np; k++) {
			double x = pix[k] % rw->w - x0, y = pix[k] / rw->w - y0;
			if (rw->e[pix[k]])
				prof[(int)(-x * sa + y * ca + span)] += 1;
		}
		for (int i = 0; i < 2 * span; i++)
			ss += prof[i] * prof[i];
		if (ss > best * (1 + 1e-9) || (ss >= best * (1 - 1e-9) && fabs(a) < fabs(th))) {
			best = ss;
			th = a;
		}
	}
	free(prof);
	if (x1 - x0 + 1 < 3 * (y1 - y0 + 1))
		th = 0;
	c = cos(th);
	sn = sin(th);
	for (size_t k = 0; k < np; k++) {
		double x = pix[k] % rw->w, y = pix[k] / rw->w, t = -x * sn + y * c;
		tmin = fmin(tmin, t);
		tmax = fmax(tmax, t);
	}
	nb = (int)(tmax - tmin) + 2;
	prof = xcalloc((size_t)nb, sizeof(double));
	sv = xmallocarray(np, sizeof(double));
	for (size_t k = 0; k < np; k++) {
		double x = pix[k] % rw->w, y = pix[k] / rw->w, t = -x * sn + y * c;
		if (rw->e[pix[k]])
			prof[(int)(t - tmin)] += 1;
	}
	for (int i = 0; i < nb; i++)
		mx = fmax(mx, prof[i]);
	/* bands of rows with a fair share of the strongest row's edges */
	for (int i = 0; i < nb;) {
		int j;
		double t0, t1, smin = INFINITY, smax = -INFINITY;
		size_t ns = 0;
		if (prof[i] < 0.12 * mx) {
			i++;
			continue;
		}
		for (j = i; j < nb && prof[j] >= 0.12 * mx; j++)
			;
		t0 = tmin + i;
		t1 = tmin + j;
		i = j;
		if (t1 - t0 < 4)
			continue;
		for (size_t k = 0; k < np; k++) {
			double x = pix[k] % rw->w, y = pix[k] / rw->w, t = -x * sn + y * c;
			if (t >= t0 && t < t1 && rw->e[pix[k]])
				sv[ns++] = x * c + y * sn;
		}
		for (size_t k = 0; k < ns; k++) {
			smin = fmin(smin, sv[k]);
			smax = fmax(smax, sv[k]);
		}
		if (ns && smax + 1 - smin >= 0.5 * (t1 - t0)) {
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			out->v[out->n++] = (struct band){th, smin, smax + 1, t0, t1};
		}
	}
	free(sv);
	free(prof);
}

/* Joins the words of a line: bands of about the same height and skew, one after the other
 * along their direction, less than 1.2 heights apart (word spaces; the gap closing only
 * bridges letter spacing, which lines of large lettering exceed). */
static void merge_bands(struct bands *b)
{
	bool again = true;
	while (again) {
		again = false;
		for (size_t i = 0; i < b->n; i++)
			for (size_t j = i + 1; j < b->n; j++) {
				struct band *p = &b->v[i], *q = &b->v[j];
				double hp = p->t1 - p->t0, hq = q->t1 - q->t0, hm = fmax(hp, hq);
				/* q in p's frame (the skews differ by little) */
				double th = p->th, c = cos(th), sn = sin(th);
				double qs = (q->s0 + q->s1) / 2, qt = (q->t0 + q->t1) / 2;
				double qx = qs * cos(q->th) - qt * sin(q->th);
				double qy = qs * sin(q->th) + qt * cos(q->th);
				double ps = qx * c + qy * sn, pt = -qx * sn + qy * c;
				double qs0 = ps - (q->s1 - q->s0) / 2,
				       qs1 = ps + (q->s1 - q->s0) / 2;
				double gap = fmax(p->s0, qs0) - fmin(p->s1, qs1);
				if (fabs(p->th - q->th) > 6 * PI / 180 || hm > 1.6 * fmin(hp, hq) ||
				    fabs(pt - (p->t0 + p->t1) / 2) > 0.35 * hm || gap > 2 * hm)
					continue;
				double ws = p->s1 - p->s0, wq = q->s1 - q->s0;
				p->s0 = fmin(p->s0, qs0);
				p->s1 = fmax(p->s1, qs1);
				p->t0 = fmin(p->t0, pt - hq / 2);
				p->t1 = fmax(p->t1, pt + hq / 2);
				/* the joined band takes the words' mean skew about its own centre:
				 * its extents are in the old frame, whose origin is the plane's
				 * corner, so turning the frame alone would swing the band about
				 * that corner */
				{
					double ms = (p->s0 + p->s1) / 2, mt = (p->t0 + p->t1) / 2;
					double mx = ms * c - mt * sn, my = ms * sn + mt * c;
					double nth = (p->th * ws + q->th * wq) / (ws + wq);
					double nc = cos(nth), ns = sin(nth);
					double ds = mx * nc + my * ns - ms,
					       dt = -mx * ns + my * nc - mt;
					p->th = nth;
					p->s0 += ds;
					p->s1 += ds;
					p->t0 += dt;
					p->t1 += dt;
				}
				b->v[j] = b->v[--b->n];
				again = true;
				j--;
			}
	}
}

/* The lines of a plane read along its rows. */
static void find_rows(const struct rows *rw, unsigned char *closed, int gap, int f, bool transposed,
		      struct cands *out)
{
	int w = rw->w, h = rw->h;
	size_t n = (size_t)w * (size_t)h;
	int *label = xcalloc_huge(n, sizeof(int));
	int *stack = xcalloc_huge(n, sizeof(int));
	int minh = 4, maxh = h / 4;
	struct bands bands = {0};
	close_rows(closed, w, h, gap);
	clean_cols(closed, w, h, 3, minh);
	for (size_t start = 0; start < n; start++) {
		size_t np = 0, sp = 0;
		int x0 = w, x1 = 0, y0 = h, y1 = 0;
		if (!closed[start] || label[start])
			continue;
		/* flood fill (4-connected); the stack's bottom keeps the component's pixels */
		label[start] = 1;
		stack[sp++] = (int)start;
		while (np < sp) {
			int p = stack[np++], x = p % w, y = p / w;
			x0 = x < x0 ? x : x0;
			x1 = x > x1 ? x : x1;
			y0 = y < y0 ? y : y0;
			y1 = y > y1 ? y : y1;
			if (x > 0 && closed[p - 1] && !label[p - 1]) {
				label[p - 1] = 1;
				stack[sp++] = p - 1;
			}
			if (x < w - 1 && closed[p + 1] && !label[p + 1]) {
				label[p + 1] = 1;
				stack[sp++] = p + 1;
			}
			if (y > 0 && closed[p - w] && !label[p - w]) {
				label[p - w] = 1;
				stack[sp++] = p - w;
			}
			if (y < h - 1 && closed[p + w] && !label[p + w]) {
				label[p + w] = 1;
				stack[sp++] = p + w;
			}
		}
		if (y1 - y0 + 1 < minh || np < 16 || y1 - y0 + 1 > 3 * maxh)
			continue;
		/* a line (or a word) is not much higher than long and fills much of its box;
		 * taller blobs may hold several lines, which the profile splits */
		if (2 * (x1 - x0 + 1) < (y1 - y0 + 1) ||
		    (double)np < 0.1 * (x1 - x0 + 1) * (y1 - y0 + 1))
			continue;
		component_lines(rw, stack, np, &bands);
	}
	merge_bands(&bands);
	for (size_t i = 0; i < bands.n; i++) {
		const struct band *b = &bands.v[i];
		double c = cos(b->th), sn = sin(b->th);
		double ms = (b->s0 + b->s1) / 2, mt = (b->t0 + b->t1) / 2;
		/* the band's centre back in the plane, then in the photo */
		double bx = ms * c - mt * sn, by = ms * sn + mt * c;
		struct ocr_cand cd = {.kind = OCR_CAND_LINE};
		/* a word of one or two letters joined no others: too short to be a line */
		if (b->t1 - b->t0 > maxh || b->s1 - b->s0 < 1.2 * (b->t1 - b->t0))
			continue;
		cd.score = band_score(rw, b->th, b->s0, b->s1, b->t0, b->t1);
		cd.box.w = (b->s1 - b->s0) * f;
		cd.box.h = (b->t1 - b->t0) * f;
		if (!transposed) {
			cd.box.cx = bx * f;
			cd.box.cy = by * f;
			cd.box.angle = fmod(b->th * 180 / PI + 360, 360);
		} else {
			cd.box.cx = by * f;
			cd.box.cy = bx * f;
			cd.box.angle = 90 - b->th * 180 / PI;
		}
		cands_add(out, &cd);
	}
	free(bands.v);
	free(label);
	free(stack);
}

/* ---- rings ---- */

/* The circle through strong edges that point along the radius of (cx, cy) and lie within tol
 * of radius r: an algebraic least-squares fit (x^2 + y^2 + D x + E y + F = 0, Kasa's), which
 * moves a coarse centre onto the circle's. False when too few edges agree. */
static bool circle_fit(const struct work *wk, float thr, double *cx, double *cy, double *r,
		       double tol)
{
	double a[3][4] = {{0}};
	long n = 0;
	int x0 = (int)fmax(1, *cx - *r - tol), x1 = (int)fmin(wk->w - 1, *cx + *r + tol + 1);
	int y0 = (int)fmax(1, *cy - *r - tol), y1 = (int)fmin(wk->h - 1, *cy + *r + tol + 1);
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			size_t i = (size_t)y * (size_t)wk->w + (size_t)x;
			double rx = x - *cx, ry = y - *cy, rr = sqrt(rx * rx + ry * ry), z, v[4];
			float m = wk->m[i];
			if (m < thr || fabs(rr - *r) > tol || rr < 1 ||
			    fabs((wk->gx[i] * rx + wk->gy[i] * ry) / (m * rr)) < 0.85)
				continue;
			z = (double)x * x + (double)y * y;
			v[0] = x;
			v[1] = y;
			v[2] = 1;
			v[3] = -z;
			for (int p = 0; p < 3; p++)
				for (int q = 0; q < 4; q++)
					a[p][q] += v[p] * v[q];
			n++;
		}
	if (n < 20)
		return false;
	/* Gaussian elimination with partial pivoting on the 3x3 normal equations */
	for (int c = 0; c < 3; c++) {
		int piv = c;
		for (int p = c + 1; p < 3; p++)
			if (fabs(a[p][c]) > fabs(a[piv][c]))
				piv = p;
		if (fabs(a[piv][c]) < 1e-9)
			return false;
		for (int q = 0; q < 4; q++) {
			double t = a[c][q];
			a[c][q] = a[piv][q];
			a[piv][q] = t;
		}
		for (int p = 0; p < 3; p++) {
			double f;
			if (p == c)
				continue;
			f = a[p][c] / a[c][c];
			for (int q = 0; q < 4; q++)
				a[p][q] -= f * a[c][q];
		}
	}
	{
		double D = a[0][3] / a[0][0], E = a[1][3] / a[1][1], F = a[2][3] / a[2][2];
		double ncx = -D / 2, ncy = -E / 2, r2 = ncx * ncx + ncy * ncy - F;
		if (!(r2 > 1) || fabs(ncx - *cx) > 2 * tol || fabs(ncy - *cy) > 2 * tol)
			return false;
		*cx = ncx;
		*cy = ncy;
		*r = sqrt(r2);
	}
	return true;
}

/* Radial profiles about (cx, cy) over radii 0..nr-1: the share of each radius's pixels that
 * are strong edges pointing along the radius (circles), and the mean gradient magnitude
 * (text). */
static void radial(const struct work *wk, float thr, double cx, double cy, int nr, double *circ,
		   double *energy)
{
	double *cnt = xcalloc((size_t)nr, sizeof(double));
	int x0 = (int)fmax(0, cx - nr), x1 = (int)fmin(wk->w, cx + nr + 1);
	int y0 = (int)fmax(0, cy - nr), y1 = (int)fmin(wk->h, cy + nr + 1);
	memset(circ, 0, sizeof(double) * (size_t)nr);
	memset(energy, 0, sizeof(double) * (size_t)nr);
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			size_t i = (size_t)y * (size_t)wk->w + (size_t)x;
			double rx = x - cx, ry = y - cy, rr = sqrt(rx * rx + ry * ry);
			int ri = (int)(rr + 0.5);
			float m = wk->m[i];
			if (ri >= nr || rr < 1)
				continue;
			cnt[ri] += 1;
			energy[ri] += m;
			if (m >= thr && fabs((wk->gx[i] * rx + wk->gy[i] * ry) / (m * rr)) > 0.85)
				circ[ri] += 1;
		}
	for (int ri = 0; ri < nr; ri++) {
		circ[ri] = cnt[ri] > 0 ? circ[ri] / cnt[ri] : 0;
		energy[ri] = cnt[ri] > 0 ? energy[ri] / cnt[ri] : 0;
	}
	free(cnt);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* A ring candidate. Gradient directions point across a circle's edge, through its centre:
 * every strong edge votes along its direction (both ways, over the radii a flange can have)
 * and the votes pile up at the centre; the centre is then fitted to its strongest circle.
 * Circles are the radii where most of the circumference has radial edges; the text is the
 * run of radii between them whose gradient energy stands out from the face's, and its arc
 * the circle less the largest quiet stretch. */
enum { NA = 180 }; /* angular cells of the unwrapped face */

static void find_rings(const struct work *wk, struct cands *out)
{
	int w = wk->w, h = wk->h, shortside = w < h ? w : h;
	int rmin = shortside / 16, rmax = shortside / 2, nr = rmax + 8;
	int aw = w / 2 + 1, ah = h / 2 + 1, best = -1;
	float *acc = xcalloc_huge((size_t)aw * (size_t)ah, sizeof(float));
	float thr = 3 * wk->noise + 1, bestv = 0;
	double *circ = xcalloc((size_t)nr, sizeof(double)),
	       *energy = xcalloc((size_t)nr, sizeof(double));
	double *tmp = xcalloc((size_t)(nr > NA ? nr : NA), sizeof(double));
	double *level = xcalloc((size_t)nr, sizeof(double)), *polar = NULL, *pcnt = NULL;
	bool *is_circ = xcalloc((size_t)nr, sizeof(bool));
	double ccx, ccy, bg, bestband = 0;
	int band0 = -1, band1 = -1, lo = nr, hi = 0, ntmp = 0, peak = -1, nrad;

	for (int y = 2; y < h - 2; y++)
		for (int x = 2; x < w - 2; x++) {
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			float m = wk->m[i], dx, dy;
			if (m < thr)
				continue;
			dx = wk->gx[i] / m;
			dy = wk->gy[i] / m;
			for (int sgn = -1; sgn <= 1; sgn += 2)
				for (int r = rmin; r <= rmax; r += 2) {
					int cx = (int)(x + 0.5 + sgn * r * dx) / 2;
					int cy = (int)(y + 0.5 + sgn * r * dy) / 2;
					if (cx < 0 || cy < 0 || cx >= aw || cy >= ah)
						break;
					acc[(size_t)cy * (size_t)aw + (size_t)cx] += 1;
				}
		}
	for (int y = 1; y < ah - 1; y++)
		for (int x = 1; x < aw - 1; x++) {
			float v = 0;
			for (int j = -1; j <= 1; j++)
				for (int i = -1; i <= 1; i++)
					v += acc[(size_t)(y + j) * (size_t)aw + (size_t)(x + i)];
			if (v > bestv) {
				bestv = v;
				best = y * aw + x;
			}
		}
	if (best < 0)
		goto out;
	ccx = (best % aw) * 2 + 1;
	ccy = (best / aw) * 2 + 1;
	/* fit the centre to the circle most edges agree on, twice (the second with the
	 * better centre's sharper profile) */
	for (int it = 0; it < 2; it++) {
		double r;
		radial(wk, thr, ccx, ccy, nr, circ, energy);
		peak = -1;
		for (int ri = rmin / 2; ri < nr; ri++)
			if (peak < 0 || circ[ri] > circ[peak])
				peak = ri;
		r = peak;
		if (!circle_fit(wk, thr, &ccx, &ccy, &r, it ? 3 : 6))
			break;
	}
	radial(wk, thr, ccx, ccy, nr, circ, energy);
	for (int ri = 4; ri < nr; ri++)
		if (circ[ri] > 0.3 && circ[ri] >= circ[ri - 1] &&
		    (ri + 1 >= nr || circ[ri] >= circ[ri + 1])) {
			for (int k = ri - 3; k <= ri + 3; k++)
				if (k >= 0 && k < nr)
					is_circ[k] = true;
			lo = ri < lo ? ri : lo;
			hi = ri > hi ? ri : hi;
		}
	/* two circles at least (a rim and a bore, a flange's edges): one alone is a hole or a
	 * boss, whose neighbourhood says nothing of a face with text on it */
	if (hi - lo < 16)
		goto out;
	/* the face unwrapped: mean gradient magnitude in cells of one radius by 2 degrees */
	nrad = hi - lo + 1;
	polar = xcalloc((size_t)nrad * NA, sizeof(double));
	pcnt = xcalloc((size_t)nrad * NA, sizeof(double));
	{
		int x0 = (int)fmax(0, ccx - hi - 1), x1 = (int)fmin(w, ccx + hi + 2);
		int y0 = (int)fmax(0, ccy - hi - 1), y1 = (int)fmin(h, ccy + hi + 2);
		for (int y = y0; y < y1; y++)
			for (int x = x0; x < x1; x++) {
				double rx = x - ccx, ry = y - ccy, rr = sqrt(rx * rx + ry * ry);
				int ri = (int)(rr + 0.5) - lo, ai;
				if (ri < 0 || ri >= nrad)
					continue;
				ai = (int)((atan2(ry, rx) + PI) / (2 * PI) * NA) % NA;
				polar[(size_t)ri * NA + (size_t)ai] +=
				    wk->m[(size_t)y * (size_t)w + (size_t)x];
				pcnt[(size_t)ri * NA + (size_t)ai] += 1;
			}
	}
	/* cell means, then smoothed over 3 radii by 10 degrees (a cell alone holds a few
	 * pixels); per radius, the level only a tenth of the circle's cells top: text covers
	 * part of the circle, and of that part, its strokes cover part */
	for (size_t i = 0; i < (size_t)nrad * NA; i++)
		polar[i] = pcnt[i] > 0 ? polar[i] / pcnt[i] : -1;
	for (int ri = 0; ri < nrad; ri++) {
		int nv = 0;
		for (int a = 0; a < NA; a++) {
			double sum = 0, c = 0;
			for (int dr = -1; dr <= 1; dr++)
				for (int da = -2; da <= 2; da++) {
					int rr = ri + dr;
					double v;
					if (rr < 0 || rr >= nrad)
						continue;
					v = polar[(size_t)rr * NA + (size_t)((a + da + NA) % NA)];
					if (v >= 0) {
						sum += v;
						c++;
					}
				}
			pcnt[(size_t)ri * NA + (size_t)a] = c > 0 ? sum / c : -1;
			if (c > 0)
				tmp[nv++] = sum / c;
		}
		if (nv < NA / 2) {
			level[ri] = 0;
			continue;
		}
		qsort(tmp, (size_t)nv, sizeof(double), cmp_double);
		level[ri] = tmp[nv * 9 / 10];
	}
	/* pcnt now holds the smoothed cells */
	memcpy(polar, pcnt, sizeof(double) * (size_t)nrad * NA);
	for (int ri = 0; ri < nrad; ri++)
		if (!is_circ[ri + lo] && level[ri] > 0)
			tmp[ntmp++] = level[ri];
	if (ntmp < 4)
		goto out;
	qsort(tmp, (size_t)ntmp, sizeof(double), cmp_double);
	bg = tmp[ntmp / 2] + 0.5;
	for (int ri = 0; ri < nrad;) {
		int j = ri;
		double sum = 0;
		while (j < nrad && !is_circ[j + lo] && level[j] > 1.5 * bg) {
			sum += level[j] - bg;
			j++;
		}
		if (j - ri >= 5 && sum > bestband) {
			bestband = sum;
			band0 = ri;
			band1 = j;
		}
		ri = j > ri ? j : ri + 1;
	}
	if (band0 < 0)
		goto out;
	{
		/* the arc: the band's angular profile, smoothed over 10 degrees; the text starts
		 * where the largest quiet stretch ends */
		double ang[NA], sm[NA], srt[NA], athr, band_e = 0, lowq, top, a0;
		int gap0 = 0, gapn = 0;
		struct ocr_cand cd = {.kind = OCR_CAND_RING};
		double f = wk->f;
		for (int a = 0; a < NA; a++) {
			ang[a] = 0;
			for (int ri = band0; ri < band1; ri++)
				ang[a] +=
				    fmax(0, polar[(size_t)ri * NA + (size_t)a]) / (band1 - band0);
		}
		for (int a = 0; a < NA; a++) {
			sm[a] = 0;
			for (int k = -2; k <= 2; k++)
				sm[a] += ang[(a + k + NA) % NA] / 5;
			srt[a] = sm[a];
		}
		qsort(srt, NA, sizeof(double), cmp_double);
		lowq = srt[NA / 10];
		top = srt[NA * 9 / 10];
		athr = lowq + 0.35 * (top - lowq);
		for (int a = 0; a < NA; a++) {
			int run = 0;
			while (run < NA && sm[(a + run) % NA] < athr)
				run++;
			if (run > gapn) {
				gapn = run;
				gap0 = a;
			}
			a += run;
		}
		/* text round the whole circle is a rough band, a chamfer, turning marks */
		if (gapn >= NA || gapn < 10)
			goto out;
		for (int ri = band0; ri < band1; ri++)
			band_e += level[ri] / (band1 - band0);
		a0 = (gap0 + gapn) % NA * 360.0 / NA - 180;
		cd.ring.cx = (ccx + 0.5) * f;
		cd.ring.cy = (ccy + 0.5) * f;
		cd.ring.r_in = (lo + band0 - 0.5) * f;
		cd.ring.r_out = (lo + band1 - 0.5) * f;
		cd.ring.a0 = fmod(a0 + 360, 360);
		cd.ring.span = (NA - gapn) * 360.0 / NA;
		cd.box = (struct ocr_box){cd.ring.cx, cd.ring.cy, 2 * cd.ring.r_out,
					  2 * cd.ring.r_out, 0};
		/* strong strokes against the face over a fair arc, the rest of the circle quiet
		 * (a rough band all round is a texture, not text) */
		cd.score = fmin(1, fmax(0, (band_e / bg - 1.5) / 1.5)) *
			   fmin(1, cd.ring.span / 45) *
			   fmin(1, fmax(0, (top / (lowq + 0.5) - 1.3)));
		cands_add(out, &cd);
	}
out:
	free(acc);
	free(circ);
	free(energy);
	free(tmp);
	free(is_circ);
	free(polar);
	free(pcnt);
	free(level);
}

/* ---- the search ---- */

static bool is_vertical(const struct ocr_box *b)
{
	double a = fmod(b->angle + 45, 180);
	return a >= 90;
}

static int by_score(const void *a, const void *b)
{
	const struct ocr_cand *x = a, *y = b;
	return (x->score < y->score) - (x->score > y->score);
}

int ocr_find(const struct img *im, const struct ocr_find_opts *o, struct ocr_cand **cands,
	     size_t *n, struct err *e)
{
	size_t side = o && o->work_side ? o->work_side : 1024;
	size_t maxc = o && o->max_cands ? o->max_cands : 16;
	double minscore = o && o->min_score > 0 ? o->min_score : 0.15;
	struct work wk = {0};
	struct cands all = {0};
	float *g = NULL;
	int ret = -1;

	*cands = NULL;
	*n = 0;
	if (side < 256 || side > 4096 || !(minscore <= 1))
		return err_set(e, DYN_EUSAGE, "ocr find: work side %zu (256..4096), min score %g",
			       side, minscore);
	if (!im || !im->px || (im->channels != 1 && im->channels != 3))
		return err_set(e, DYN_EDATA, "ocr find: no picture (gray or RGB)");
	if (im->w < IMG_MIN_SIDE || im->h < IMG_MIN_SIDE)
		return err_set(e, DYN_EDATA, "ocr find: %zux%zu picture (at least %dx%d pixels)",
			       im->w, im->h, IMG_MIN_SIDE, IMG_MIN_SIDE);
	if (im->w > IMG_MAX_SIDE || im->h > IMG_MAX_SIDE || im->w * im->h > IMG_MAX_PIXELS)
		return err_set(e, DYN_EDATA,
			       "ocr find: %zux%zu picture, over the limit of %zu pixels", im->w,
			       im->h, IMG_MAX_PIXELS);
	{
		size_t lng = im->w > im->h ? im->w : im->h;
		wk.f = (int)((lng + side - 1) / side);
		wk.w = (int)(im->w / (size_t)wk.f);
		wk.h = (int)(im->h / (size_t)wk.f);
	}
	if (wk.w < 8 || wk.h < 8)
		goto done;
	g = shrink(im, wk.f, wk.w, wk.h);
	edges(&wk, g);
	{
		size_t np = (size_t)wk.w * (size_t)wk.h;
		unsigned char *bt = xcalloc_huge(np, 1), *closed = xcalloc_huge(np, 1);
		float *mt = xcalloc_huge(np, sizeof(float));
		int lng = wk.w > wk.h ? wk.w : wk.h, gap = lng / 64 > 4 ? lng / 64 : 4;
		struct rows rw = {wk.w, wk.h, NULL, wk.b, wk.m, wk.noise};
		memcpy(closed, wk.b, np);
		rw.b = closed;
		find_rows(&rw, closed, gap, wk.f, false, &all);
		transpose_u8(wk.b, bt, wk.w, wk.h);
		transpose_f(wk.m, mt, wk.w, wk.h);
		memcpy(closed, bt, np);
		rw = (struct rows){wk.h, wk.w, closed, bt, mt, wk.noise};
		find_rows(&rw, closed, gap, wk.f, true, &all);
		free(bt);
		free(closed);
		free(mt);
	}
	if (o && o->rings)
		find_rings(&wk, &all);
	{
		/* the lines of a marking run one way: the direction holding most of the text
		 * (score squared times length) is the photo's, and lines across it are most
		 * likely letters of stacked lines joined across the gap between them */
		double along[2] = {0, 0};
		for (size_t i = 0; i < all.n; i++)
			if (all.v[i].kind == OCR_CAND_LINE)
				along[is_vertical(&all.v[i].box)] +=
				    all.v[i].score * all.v[i].score * all.v[i].box.w;
		for (size_t i = 0; i < all.n; i++)
			if (all.v[i].kind == OCR_CAND_LINE &&
			    along[is_vertical(&all.v[i].box)] * 2 <
				along[!is_vertical(&all.v[i].box)])
				all.v[i].score *= 0.7;
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), by_score);
	/* keep the best of overlapping candidates (a line also shows as pieces across it) */
	for (size_t i = 0; i < all.n && *n < maxc; i++) {
		bool keep = all.v[i].score >= minscore;
		for (size_t j = 0; j < *n && keep; j++) {
			const struct ocr_cand *k = &all.v[j];
			double ia, inter, small;
			if (k->kind != all.v[i].kind)
				continue;
			ia = ocr_box_iou(&k->box, &all.v[i].box);
			/* intersection over the smaller area, from the IoU and both areas */
			inter =
			    ia * (k->box.w * k->box.h + all.v[i].box.w * all.v[i].box.h) / (1 + ia);
			small = fmin(k->box.w * k->box.h, all.v[i].box.w * all.v[i].box.h);
			/* across a better line, even a small overlap: text does not cross text */
			keep = inter <
			       (is_vertical(&k->box) != is_vertical(&all.v[i].box) ? 0.2 : 0.5) *
				   small;
		}
		if (keep)
			all.v[(*n)++] = all.v[i];
	}
done:
	*cands = all.v;
	all.v = NULL;
	ret = 0;
	free(g);
	work_release(&wk);
	free(all.v);
	return ret;
}

/* ---- cutting out ---- */

static float luma_at(const struct img *im, double x, double y)
{
	int ix, iy;
	float tx, ty, v[4];
	x -= 0.5;
	y -= 0.5;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > (double)im->w - 1)
		x = (double)im->w - 1;
	if (y > (double)im->h - 1)
		y = (double)im->h - 1;
	ix = (int)x;
	iy = (int)y;
	tx = (float)(x - ix);
	ty = (float)(y - iy);
	for (int k = 0; k < 4; k++) {
		size_t px = (size_t)ix + (size_t)(k & 1), py = (size_t)iy + (size_t)(k >> 1);
		const unsigned char *p;
		if (px >= im->w)
			px = im->w - 1;
		if (py >= im->h)
			py = im->h - 1;
		p = im->px + (py * im->w + px) * (size_t)im->channels;
		v[k] = im->channels == 3 ? (77.0f * p[0] + 150.0f * p[1] + 29.0f * p[2]) / 256
					 : (float)p[0];
	}
	return (v[0] + (v[1] - v[0]) * tx) * (1 - ty) + (v[2] + (v[3] - v[2]) * tx) * ty;
}

int ocr_find_cut(const struct img *im, const struct ocr_cand *c, int height, bool flip,
		 struct img *out, struct err *e)
{
	bool ring = c->kind == OCR_CAND_RING;
	double boxh = ring ? c->ring.r_out - c->ring.r_in : c->box.h;
	double len =
	    ring ? (c->ring.span * PI / 180) * (c->ring.r_out + c->ring.r_in) / 2 : c->box.w;
	double sigma, margin;
	size_t ow, n;
	int k;
	img_release(out);
	if (height < 8 || height > 256)
		return err_set(e, DYN_EUSAGE, "ocr find: line height %d (8..256)", height);
	if (!im || !im->px || !im->w || !im->h || (im->channels != 1 && im->channels != 3))
		return err_set(e, DYN_EUSAGE, "ocr find: no picture to cut from");
	if (!(boxh > 0) || !(len > 0) || !isfinite(boxh) || !isfinite(len) ||
	    !isfinite(ring ? c->ring.cx + c->ring.cy + c->ring.a0
			   : c->box.cx + c->box.cy + c->box.angle))
		return err_set(e, DYN_EUSAGE, "ocr find: empty candidate");
	/* photo pixels an output pixel; the margin along as the synthetic lines have it */
	sigma = boxh / OCR_CUT_FILL / height;
	margin = 0.4 * height;
	ow = (size_t)ceil(len / sigma + 2 * margin);
	if (ow > (size_t)height * 64)
		ow = (size_t)height * 64;
	if (ow < (size_t)height)
		ow = (size_t)height;
	k = (int)ceil(sigma);
	k = k < 1 ? 1 : k > 6 ? 6 : k;
	n = ow * (size_t)height;
	out->px = xmalloc(n);
	out->w = ow;
	out->h = (size_t)height;
	out->channels = 1;
	for (int v = 0; v < height; v++)
		for (size_t u = 0; u < ow; u++) {
			float acc = 0;
			for (int j = 0; j < k; j++)
				for (int i = 0; i < k; i++) {
					double uu = (double)u + (i + 0.5) / k,
					       vv = v + (j + 0.5) / k;
					double x, y;
					if (!ring) {
						double a = c->box.angle * PI / 180;
						double du = (uu - (double)ow / 2) * sigma;
						double dv = (vv - height / 2.0) * sigma;
						x = c->box.cx + du * cos(a) - dv * sin(a);
						y = c->box.cy + du * sin(a) + dv * cos(a);
					} else {
						double rmid = (c->ring.r_out + c->ring.r_in) / 2;
						double s = (uu - margin) * sigma;
						double th = c->ring.a0 * PI / 180 + s / rmid;
						double rr = rmid + (height / 2.0 - vv) * sigma;
						x = c->ring.cx + rr * cos(th);
						y = c->ring.cy + rr * sin(th);
					}
					acc += luma_at(im, x, y);
				}
			out->px[(size_t)v * ow + u] = (unsigned char)(acc / (float)(k * k) + 0.5f);
		}
	if (flip)
		for (size_t i = 0; i < n / 2; i++) {
			unsigned char t = out->px[i];
			out->px[i] = out->px[n - 1 - i];
			out->px[n - 1 - i] = t;
		}
	return 0;
}
