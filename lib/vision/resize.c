/* Plane resampling (see resize.h): separable, horizontal pass into a work plane then vertical
 * pass, with 14-bit fixed-point weights computed once per mapping. */
#include <math.h>

#include "vision/resize.h"
#include "base/base.h"

#define WBITS 14
#define WONE  (1 << WBITS)

/* The taps of one axis: output k reads ntap[k] samples from first[k] with weights w[k*maxtap..]. */
struct axis_w {
	size_t dn, maxtap;
	size_t *first, *ntap;
	int16_t *w;
	bool identity; /* every output is one source sample, the same index */
};

struct vis_resize {
	size_t sw, sh, dw, dh;
	struct axis_w x, y;
	unsigned char *work; /* sh rows of dw bytes */
};

static void axis_release(struct axis_w *a)
{
	free(a->first);
	free(a->ntap);
	free(a->w);
}

static int axis_build(struct axis_w *a, const struct vis_axis *ax, size_t dn, const char *name,
		      struct err *e)
{
	double scale, support, *wt;
	size_t k;

	if (!ax->n || !ax->extent || !dn || ax->n > VIS_RESIZE_MAX_SIDE ||
	    ax->extent > VIS_RESIZE_MAX_SIDE || dn > VIS_RESIZE_MAX_SIDE)
		return err_set(e, DYN_EDATA, "resize: %s: sizes %zu -> %zu out of range", name,
			       ax->n, dn);
	if (!(ax->step > 0) || !isfinite(ax->phase))
		return err_set(e, DYN_EDATA, "resize: %s: bad sample placement", name);
	/* Source samples per output sample: the triangle spans that many on each side when
	 * shrinking, so that every source sample counts (no aliasing); one when enlarging. */
	scale = (double)ax->extent / (double)dn / ax->step;
	support = scale > 1 ? scale : 1;
	a->dn = dn;
	a->maxtap = (size_t)ceil(2 * support) + 1;
	a->first = xmallocarray(dn, sizeof(*a->first));
	a->ntap = xmallocarray(dn, sizeof(*a->ntap));
	a->w = xcalloc(dn * a->maxtap, sizeof(*a->w));
	a->identity = ax->n == dn;
	wt = xmallocarray(a->maxtap, sizeof(*wt));
	for (k = 0; k < dn; k++) {
		double centre = ((double)k + 0.5) * (double)ax->extent / (double)dn;
		double u = (centre - ax->phase) / ax->step, sum = 0;
		long lo = (long)ceil(u - support), hi = (long)floor(u + support), i;
		size_t n = 0, t, big = 0;
		int isum = 0;
		if (lo < 0)
			lo = 0;
		if (hi > (long)ax->n - 1)
			hi = (long)ax->n - 1;
		for (i = lo; i <= hi && n < a->maxtap; i++) {
			double d = fabs((double)i - u) / support, v = 1 - d;
			if (v <= 1e-9) {
				if (!n)
					lo = i + 1;
				continue;
			}
			wt[n++] = v;
			sum += v;
		}
		/* A centre beyond the edge by more than the support (a chroma plane sited off the
		 * picture): the nearest sample. */
		if (!n) {
			lo = u < 0 ? 0 : (long)ax->n - 1;
			wt[n++] = 1;
			sum = 1;
		}
		a->first[k] = (size_t)lo;
		a->ntap[k] = n;
		for (t = 0; t < n; t++) {
			int16_t q = (int16_t)lrint(wt[t] / sum * WONE);
			a->w[k * a->maxtap + t] = q;
			isum += q;
			if (wt[t] > wt[big])
				big = t;
		}
		/* Rounded weights must still sum to one, or flat areas would drift by a level. */
		a->w[k * a->maxtap + big] = (int16_t)(a->w[k * a->maxtap + big] + WONE - isum);
		if (n != 1 || a->first[k] != k)
			a->identity = false;
	}
	free(wt);
	return 0;
}

int vis_resize_new(struct vis_resize **out, const struct vis_axis *x, const struct vis_axis *y,
		   size_t dw, size_t dh, struct err *e)
{
	struct vis_resize *r = xcalloc(1, sizeof(*r));
	int ret = -1;

	if (axis_build(&r->x, x, dw, "width", e) < 0 || axis_build(&r->y, y, dh, "height", e) < 0)
		goto out;
	r->sw = x->n;
	r->sh = y->n;
	r->dw = dw;
	r->dh = dh;
	r->work = xmallocarray(r->sh, dw);
	ret = 0;
out:
	if (ret < 0)
		vis_resize_free(&r);
	*out = r;
	return ret;
}

int vis_resize_plain(struct vis_resize **r, size_t sw, size_t sh, size_t dw, size_t dh,
		     struct err *e)
{
	struct vis_axis x = {sw, sw, 1, 0.5}, y = {sh, sh, 1, 0.5};
	return vis_resize_new(r, &x, &y, dw, dh, e);
}

void vis_resize_free(struct vis_resize **rp)
{
	struct vis_resize *r = *rp;
	if (!r)
		return;
	axis_release(&r->x);
	axis_release(&r->y);
	free(r->work);
	free(r);
	*rp = NULL;
}

/* The passes, for samples spix (source) and dpix (destination) bytes apart: interleaved
 * channels are resampled one at a time in place. */
static void resize_strided(struct vis_resize *r, unsigned char *dst, size_t dstride, size_t dpix,
			   const unsigned char *src, size_t sstride, size_t spix)
{
	const struct axis_w *ax = &r->x, *ay = &r->y;
	size_t i, k, t;

	for (i = 0; i < r->sh; i++) {
		const unsigned char *s = src + i * sstride;
		unsigned char *w = r->work + i * r->dw;
		if (ax->identity) {
			for (k = 0; k < r->dw; k++)
				w[k] = s[k * spix];
			continue;
		}
		for (k = 0; k < r->dw; k++) {
			const int16_t *wt = ax->w + k * ax->maxtap;
			const unsigned char *p = s + ax->first[k] * spix;
			int32_t acc = WONE / 2;
			for (t = 0; t < ax->ntap[k]; t++)
				acc += wt[t] * p[t * spix];
			w[k] = (unsigned char)(acc >> WBITS);
		}
	}
	for (i = 0; i < r->dh; i++) {
		const int16_t *wt = ay->w + i * ay->maxtap;
		const unsigned char *w = r->work + ay->first[i] * r->dw;
		unsigned char *d = dst + i * dstride;
		size_t n = ay->ntap[i];
		if (n == 1 && dpix == 1) {
			memcpy(d, w, r->dw);
			continue;
		}
		for (k = 0; k < r->dw; k++) {
			int32_t acc = WONE / 2;
			for (t = 0; t < n; t++)
				acc += wt[t] * w[t * r->dw + k];
			d[k * dpix] = (unsigned char)(acc >> WBITS);
		}
	}
}

void vis_resize_run(struct vis_resize *r, unsigned char *dst, size_t dstride,
		    const unsigned char *src, size_t sstride)
{
	resize_strided(r, dst, dstride, 1, src, sstride, 1);
}

int vis_resize_image(unsigned char *dst, size_t dw, size_t dh, const unsigned char *src, size_t sw,
		     size_t sh, int channels, struct err *e)
{
	struct vis_resize *r;
	size_t c, nc = (size_t)channels;
	if (channels < 1 || channels > 4)
		return err_set(e, DYN_EUSAGE, "resize: %d channels (1 to 4)", channels);
	if (vis_resize_plain(&r, sw, sh, dw, dh, e) < 0)
		return -1;
	for (c = 0; c < nc; c++)
		resize_strided(r, dst + c, dw * nc, nc, src + c, sw * nc, nc);
	vis_resize_free(&r);
	return 0;
}
