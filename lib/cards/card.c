/* The card type and its checks. */
#include <math.h>

#include "cards/card.h"
#include "base/base.h"

void card_init(struct card *c)
{
	memset(c, 0, sizeof(*c));
}

void card_release(struct card *c)
{
	free(c->id);
	free(c->label);
	free(c->x);
	free(c->y);
	card_init(c);
}

void card_clear(struct card *c)
{
	FREE_AND_NULL(c->id);
	FREE_AND_NULL(c->label);
	c->n = 0;
	c->from_image = false;
	c->load_unanchored = false;
}

void card_push(struct card *c, size_t *alloc, double x, double y)
{
	if (c->n == *alloc) {
		size_t m = *alloc < 64 ? 64 : 2 * *alloc;
		c->x = xreallocarray(c->x, m, sizeof(*c->x));
		c->y = xreallocarray(c->y, m, sizeof(*c->y));
		*alloc = m;
	}
	c->x[c->n] = x;
	c->y[c->n] = y;
	c->n++;
}

void card_set_id(struct card *c, const char *id, const char *label)
{
	free(c->id);
	free(c->label);
	c->id = xstrdup(id ? id : "card");
	c->label = label ? xstrdup(label) : NULL;
}

/* Distinct points, counting up to stop (enough to pass the check): one pass keeping the
 * distinct ones met so far, as stop is small (a sort of every point cost predict 9%). */
static size_t distinct_points(const struct card *c, size_t stop)
{
	double xs[16], ys[16];
	size_t k = 0, j;
	if (stop > 16)
		stop = 16;
	for (size_t i = 0; i < c->n && k < stop; i++) {
		for (j = 0; j < k && !(xs[j] == c->x[i] && ys[j] == c->y[i]); j++)
			;
		if (j == k) {
			xs[k] = c->x[i];
			ys[k] = c->y[i];
			k++;
		}
	}
	return k;
}

/* A range under this fraction of the values' magnitude is rounding noise, not a stroke. */
#define FLAT_REL 1e-9

int card_validate(const struct card *c, struct err *e)
{
	const char *id = c->id ? c->id : "card";
	double xmin, xmax, ymin, ymax, xr, yr, gap, step = 0;
	size_t k;

	if (c->n < CARD_MIN_POINTS)
		return err_set(e, DYN_EDATA, "%s: card has %zu point%s (at least %d are needed)",
			       id, c->n, c->n == 1 ? "" : "s", CARD_MIN_POINTS);
	for (size_t i = 0; i < c->n; i++) {
		if (!isfinite(c->x[i]))
			return err_set(e, DYN_EDATA, "%s: point %zu: position is %g (not finite)",
				       id, i + 1, c->x[i]);
		if (!isfinite(c->y[i]))
			return err_set(e, DYN_EDATA, "%s: point %zu: load is %g (not finite)", id,
				       i + 1, c->y[i]);
	}
	xmin = xmax = c->x[0];
	ymin = ymax = c->y[0];
	for (size_t i = 1; i < c->n; i++) {
		xmin = fmin(xmin, c->x[i]);
		xmax = fmax(xmax, c->x[i]);
		ymin = fmin(ymin, c->y[i]);
		ymax = fmax(ymax, c->y[i]);
	}
	xr = xmax - xmin;
	yr = ymax - ymin;
	if (!(xr > FLAT_REL * fmax(fabs(xmin), fabs(xmax))))
		return err_set(e, DYN_EDATA, "%s: the position is constant (%g at every point)", id,
			       xmin);
	if (!(yr > FLAT_REL * fmax(fabs(ymin), fabs(ymax))))
		return err_set(e, DYN_EDATA, "%s: the load is constant (%g at every point)", id,
			       ymin);
	k = distinct_points(c, CARD_MIN_DISTINCT);
	if (k < CARD_MIN_DISTINCT)
		return err_set(e, DYN_EDATA,
			       "%s: the curve repeats %zu distinct points (at least %d are needed)",
			       id, k, CARD_MIN_DISTINCT);
	/* Along the position only: a load may jump at constant position where a valve opens
	 * (the card's near-vertical sides), and a closed card sampled coarsely there has ends
	 * that differ in load, but a closed stroke returns to where it started. */
	for (size_t i = 1; i < c->n; i++)
		step = fmax(step, fabs(c->x[i] - c->x[i - 1]) / xr);
	gap = fabs(c->x[c->n - 1] - c->x[0]) / xr;
	if (gap > CARD_OPEN_GAP && gap > CARD_OPEN_STEPS * step)
		return err_set(e, DYN_EDATA,
			       "%s: the curve is open: its ends are %.2f of the stroke apart "
			       "(at most %.2f)",
			       id, gap, CARD_OPEN_GAP);
	return 0;
}

void card_copy(struct card *dst, const struct card *src)
{
	card_init(dst);
	dst->id = src->id ? xstrdup(src->id) : NULL;
	dst->label = src->label ? xstrdup(src->label) : NULL;
	dst->n = src->n;
	dst->x = xmallocarray(src->n ? src->n : 1, sizeof(double));
	dst->y = xmallocarray(src->n ? src->n : 1, sizeof(double));
	if (src->n) {
		memcpy(dst->x, src->x, src->n * sizeof(double));
		memcpy(dst->y, src->y, src->n * sizeof(double));
	}
	dst->from_image = src->from_image;
	dst->load_unanchored = src->load_unanchored;
}
