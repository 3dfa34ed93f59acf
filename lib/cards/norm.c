/* Cards into network inputs. Everything is computed on the card scaled into the unit square
 * (position and load each min-max scaled), so that a card in metres and kN and one read off a
 * picture in pixels look alike; the load range relative to the zero load is carried apart
 * (curve channel 2, scalars 0 and 2). */
#include <math.h>

#include "cards/norm.h"
#include "base/base.h"

/* The card in canonical order in the unit square: u, v of n points. */
struct canon {
	size_t n;
	double *u, *v;
	double xmin, xr, ymin, yr, ymax_abs;
};

static void canon_release(struct canon *k)
{
	free(k->u);
	free(k->v);
}

/* Twice the signed area of the closed polygon (positive: counterclockwise). */
static double shoelace(const double *x, const double *y, size_t n)
{
	double s = 0;
	for (size_t i = 0, j = n - 1; i < n; j = i++)
		s += x[j] * y[i] - x[i] * y[j];
	return s;
}

static int canon_init(struct canon *k, const struct card *c, struct err *e)
{
	size_t n = c->n, s = 0;
	double *u, *v, best = INFINITY;
	memset(k, 0, sizeof(*k));
	if (card_validate(c, e) < 0)
		return -1;
	double xmax = c->x[0], ymax = c->y[0];
	k->xmin = c->x[0];
	k->ymin = c->y[0];
	for (size_t i = 1; i < n; i++) {
		k->xmin = fmin(k->xmin, c->x[i]);
		xmax = fmax(xmax, c->x[i]);
		k->ymin = fmin(k->ymin, c->y[i]);
		ymax = fmax(ymax, c->y[i]);
	}
	k->xr = xmax - k->xmin;
	k->yr = ymax - k->ymin;
	k->ymax_abs = fmax(fabs(k->ymin), fabs(ymax));
	u = xmallocarray(n, sizeof(*u));
	v = xmallocarray(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		u[i] = (c->x[i] - k->xmin) / k->xr;
		v[i] = (c->y[i] - k->ymin) / k->yr;
	}
	/* Clockwise puts the upstroke (position increasing) on top. */
	if (shoelace(u, v, n) > 0) {
		for (size_t i = 0, j = n - 1; i < j; i++, j--) {
			double t = u[i];
			u[i] = u[j];
			u[j] = t;
			t = v[i];
			v[i] = v[j];
			v[j] = t;
		}
	}
	/* The bottom dead centre: minimum position; the load breaks ties so that a steep left
	 * side (the pick-up) starts at its foot. */
	for (size_t i = 0; i < n; i++) {
		double key = u[i] + 0.1 * v[i];
		if (key < best) {
			best = key;
			s = i;
		}
	}
	k->n = n;
	k->u = xmallocarray(n, sizeof(*k->u));
	k->v = xmallocarray(n, sizeof(*k->v));
	for (size_t i = 0; i < n; i++) {
		k->u[i] = u[(s + i) % n];
		k->v[i] = v[(s + i) % n];
	}
	free(u);
	free(v);
	return 0;
}

/* Resamples the closed loop at m points evenly spaced in arc length. Arc length rather than the
 * recorded index: controllers sample unevenly (by time, by position, dropping points), and a
 * picture's pixels have no time at all; equal steps along the drawn curve are what both share. */
static void resample(const struct canon *k, size_t m, double *ru, double *rv)
{
	size_t n = k->n, j = 0;
	double *cum = xmallocarray(n + 1, sizeof(*cum));
	cum[0] = 0;
	for (size_t i = 1; i <= n; i++)
		cum[i] = cum[i - 1] + hypot(k->u[i % n] - k->u[i - 1], k->v[i % n] - k->v[i - 1]);
	for (size_t i = 0; i < m; i++) {
		double t = cum[n] * (double)i / (double)m, f;
		while (j + 1 < n && cum[j + 1] <= t)
			j++;
		f = cum[j + 1] > cum[j] ? (t - cum[j]) / (cum[j + 1] - cum[j]) : 0;
		ru[i] = k->u[j] + f * (k->u[(j + 1) % n] - k->u[j]);
		rv[i] = k->v[j] + f * (k->v[(j + 1) % n] - k->v[j]);
	}
	free(cum);
}

static void curve_fill(const struct canon *k, const struct card *c, size_t npoints, float *out)
{
	double *ru, *rv;
	size_t m = npoints;
	ru = xmallocarray(m, sizeof(*ru));
	rv = xmallocarray(m, sizeof(*rv));
	resample(k, m, ru, rv);
	for (size_t i = 0; i < m; i++) {
		size_t a = (i + m - 1) % m, b = (i + 1) % m;
		double dx = ru[b] - ru[a], dy = rv[b] - rv[a], len = hypot(dx, dy);
		double y = k->ymin + rv[i] * k->yr;
		out[0 * m + i] = (float)ru[i];
		out[1 * m + i] = (float)rv[i];
		out[2 * m + i] = (float)(c->load_unanchored ? rv[i] : y / k->ymax_abs);
		out[3 * m + i] = (float)(len > 0 ? dx / len : 0);
		out[4 * m + i] = (float)(len > 0 ? dy / len : 0);
	}
	free(ru);
	free(rv);
}

static void scalars_fill(const struct canon *k, const struct card *c, float out[CARD_SCALARS])
{
	double fill, area;
	size_t imax = 0;
	fill = fabs(shoelace(k->u, k->v, k->n)) / 2;
	area = fabs(shoelace(c->x, c->y, c->n)) / 2;
	for (size_t i = 1; i < c->n; i++)
		if (c->y[i] > c->y[imax])
			imax = i;
	if (c->load_unanchored) {
		out[0] = 1;
		out[2] = (float)fill;
		out[3] = 0;
	} else {
		out[0] = (float)(k->yr / k->ymax_abs);
		out[2] = (float)(area / (k->xr * k->ymax_abs));
		out[3] = (float)(k->ymin / k->ymax_abs);
	}
	out[1] = (float)fill;
	out[4] = (float)((c->x[imax] - k->xmin) / k->xr);
}

/* Distance from (px, py) to the segment a-b. */
static double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
	double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy, t = 0;
	if (l2 > 0) {
		t = ((px - ax) * dx + (py - ay) * dy) / l2;
		t = t < 0 ? 0 : t > 1 ? 1 : t;
	}
	return hypot(px - ax - t * dx, py - ay - t * dy);
}

static void raster_fill(const struct canon *k, size_t size, float *out)
{
	size_t m;
	double *ru, *rv, margin, span, half;
	m = 4 * size;
	ru = xmallocarray(m, sizeof(*ru));
	rv = xmallocarray(m, sizeof(*rv));
	resample(k, m, ru, rv);
	margin = (double)size / 16;
	span = (double)size - 1 - 2 * margin;
	half = CARD_RASTER_WIDTH((double)size) / 2;
	for (size_t i = 0; i < size * size; i++)
		out[i] = 0;
	for (size_t i = 0; i < m; i++) {
		size_t j = (i + 1) % m;
		/* Pixel centres at integer coordinates; row 0 is the top (highest load). */
		double ax = margin + ru[i] * span, ay = margin + (1 - rv[i]) * span;
		double bx = margin + ru[j] * span, by = margin + (1 - rv[j]) * span;
		double r = half + 1;
		long x0 = (long)floor(fmin(ax, bx) - r), x1 = (long)ceil(fmax(ax, bx) + r);
		long y0 = (long)floor(fmin(ay, by) - r), y1 = (long)ceil(fmax(ay, by) + r);
		if (x0 < 0)
			x0 = 0;
		if (y0 < 0)
			y0 = 0;
		if (x1 > (long)size - 1)
			x1 = (long)size - 1;
		if (y1 > (long)size - 1)
			y1 = (long)size - 1;
		for (long py = y0; py <= y1; py++)
			for (long px = x0; px <= x1; px++) {
				double d = seg_dist((double)px, (double)py, ax, ay, bx, by);
				double a = half + 0.5 - d;
				float *o = &out[(size_t)py * size + (size_t)px];
				if (a > 1)
					a = 1;
				if (a > *o)
					*o = (float)a;
			}
	}
	free(ru);
	free(rv);
}

/* Index of the top dead centre in canonical order: the first point of maximum position. */
static size_t canon_tdc(const struct canon *k)
{
	size_t t = 0;
	for (size_t i = 1; i < k->n; i++)
		if (k->u[i] > k->u[t])
			t = i;
	return t;
}

/* Load of one stroke (canonical points a, a + 1, ..., a + len, indices modulo n) at m positions
 * evenly spaced in [0, 1]: at each, the first segment whose ends straddle it, else the point
 * nearest in position (a branch may skip a stretch of positions where the rod turns). */
static void profile(const struct canon *k, size_t a, size_t len, size_t m, float *out)
{
	size_t n = k->n;
	for (size_t j = 0; j < m; j++) {
		double x = m > 1 ? (double)j / (double)(m - 1) : 0, near = INFINITY, val = 0;
		bool found = false;
		for (size_t s = 0; s < len && !found; s++) {
			size_t p = (a + s) % n, q = (a + s + 1) % n;
			double u0 = k->u[p], u1 = k->u[q];
			if ((u0 <= x && x <= u1) || (u1 <= x && x <= u0)) {
				double f = u1 != u0 ? (x - u0) / (u1 - u0) : 0;
				val = k->v[p] + f * (k->v[q] - k->v[p]);
				found = true;
			} else if (fabs(u0 - x) < near) {
				near = fabs(u0 - x);
				val = k->v[p];
			}
		}
		out[j] = (float)val;
	}
}

static void series_fill(const struct canon *k, const struct card *c, size_t m, float *out)
{
	size_t n = k->n, t = canon_tdc(k);
	for (size_t i = 0; i < m; i++) {
		double pos = (double)n * (double)i / (double)m, f;
		size_t a = (size_t)pos, b = (a + 1) % n;
		double v;
		if (a >= n)
			a = n - 1;
		f = pos - (double)a;
		v = k->v[a] + f * (k->v[b] - k->v[a]);
		out[0 * m + i] = (float)(k->u[a] + f * (k->u[b] - k->u[a]));
		out[1 * m + i] = (float)v;
		out[2 * m + i] =
		    (float)(c->load_unanchored ? v : (k->ymin + v * k->yr) / k->ymax_abs);
	}
	profile(k, 0, t, m, out + 3 * m);
	profile(k, t, n - t, m, out + 4 * m);
}

int card_features(const struct card *c, size_t npoints, float *curve, size_t size, float *raster,
		  float *scalars, struct err *e)
{
	struct canon k;
	if (curve && npoints < 2)
		return err_set(e, DYN_EUSAGE, "card_curve: %zu points (at least 2)", npoints);
	if (raster && (size < 8 || size > 4096))
		return err_set(e, DYN_EUSAGE, "card_raster: size %zu (8 to 4096)", size);
	if (canon_init(&k, c, e) < 0)
		return -1;
	if (curve)
		curve_fill(&k, c, npoints, curve);
	if (raster)
		raster_fill(&k, size, raster);
	if (scalars)
		scalars_fill(&k, c, scalars);
	canon_release(&k);
	return 0;
}

int card_series(const struct card *c, size_t npoints, float *out, struct err *e)
{
	struct canon k;
	if (npoints < 2)
		return err_set(e, DYN_EUSAGE, "card_series: %zu points (at least 2)", npoints);
	if (canon_init(&k, c, e) < 0)
		return -1;
	series_fill(&k, c, npoints, out);
	canon_release(&k);
	return 0;
}

int card_curve(const struct card *c, size_t npoints, float *out, struct err *e)
{
	return card_features(c, npoints, out, 0, NULL, NULL, e);
}

int card_scalars(const struct card *c, float out[CARD_SCALARS], struct err *e)
{
	return card_features(c, 0, NULL, 0, NULL, out, e);
}

int card_raster(const struct card *c, size_t size, float *out, struct err *e)
{
	return card_features(c, 0, NULL, size, out, NULL, e);
}
