/* The layers of lib/nn: forward and backward of each over flat float arrays (nn.h). */
#include "base/blas.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "nn/nn_internal.h"

/* Loops over blocks of NN_LANES with a fixed inner count: gcc's -O2 vectorizes those (its
 * cheap cost model leaves loops of unknown length scalar), and sums keep NN_LANES independent
 * accumulators combined in a fixed order, so results stay deterministic. */
#define NN_LANES 8

/* Sums run in float lanes over blocks of NN_BLOCK values, each block's lanes then added in
 * double: vector speed, and the float part never sums more than NN_BLOCK / NN_LANES terms. */
#define NN_BLOCK 256

/* sum of x[0..n) */
static double sum_d(const float *restrict x, size_t n)
{
	double s = 0;
	size_t i = 0;
	while (i + NN_LANES <= n) {
		float acc[NN_LANES] = {0};
		size_t end = i + NN_BLOCK < n ? i + NN_BLOCK : n;
		for (; i + NN_LANES <= end; i += NN_LANES)
			for (int j = 0; j < NN_LANES; j++)
				acc[j] += x[i + j];
		for (int j = 0; j < NN_LANES; j++)
			s += acc[j];
	}
	for (; i < n; i++)
		s += x[i];
	return s;
}

/* sum of (x - m)^2 */
static double sum_sq_centered(const float *restrict x, float m, size_t n)
{
	double s = 0;
	size_t i = 0;
	while (i + NN_LANES <= n) {
		float acc[NN_LANES] = {0};
		size_t end = i + NN_BLOCK < n ? i + NN_BLOCK : n;
		for (; i + NN_LANES <= end; i += NN_LANES)
			for (int j = 0; j < NN_LANES; j++) {
				float d = x[i + j] - m;
				acc[j] += d * d;
			}
		for (int j = 0; j < NN_LANES; j++)
			s += acc[j];
	}
	for (; i < n; i++)
		s += (double)(x[i] - m) * (x[i] - m);
	return s;
}

/* adds the sums of dy (x - m) and of dy to *sdyx and *sdy */
static void sums_dy(const float *restrict x, const float *restrict dy, float m, size_t n,
		    double *sdyx, double *sdy)
{
	size_t i = 0;
	while (i + NN_LANES <= n) {
		float a[NN_LANES] = {0}, b[NN_LANES] = {0};
		size_t end = i + NN_BLOCK < n ? i + NN_BLOCK : n;
		for (; i + NN_LANES <= end; i += NN_LANES)
			for (int j = 0; j < NN_LANES; j++) {
				a[j] += dy[i + j] * (x[i + j] - m);
				b[j] += dy[i + j];
			}
		for (int j = 0; j < NN_LANES; j++) {
			*sdyx += a[j];
			*sdy += b[j];
		}
	}
	for (; i < n; i++) {
		*sdyx += dy[i] * (x[i] - m);
		*sdy += dy[i];
	}
}

/* y += b */
static void add_const(float *y, float b, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			y[i + j] += b;
	for (; i < n; i++)
		y[i] += b;
}

/* y = a x + b */
static void affine(float *restrict y, const float *restrict x, float a, float b, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			y[i + j] = a * x[i + j] + b;
	for (; i < n; i++)
		y[i] = a * x[i] + b;
}

/* v where mask is set, else 0 */
static nn_f4 keep4(nn_f4 v, nn_i4 mask)
{
	return (nn_f4)((nn_i4)v & mask);
}

/* ---- Convolution ---------------------------------------------------------------------- */

/* Bound on kernel sizes, strides, padding and dilation: products of them stay in int. */
#define NN_GEOM_MAX (1 << 16)

static int conv_out(int n, int k, int s, int p, int d)
{
	long span = (long)d * (k - 1) + 1;
	long v = (long)n + 2L * p - span;
	if (v < 0)
		return 0;
	return (int)(v / s + 1);
}

int nn_conv2d_setup(struct nn_conv *g, int cin, int cout, int h, int w, int kh, int kw, int sh,
		    int sw, int ph, int pw, int dh, int dw)
{
	memset(g, 0, sizeof(*g));
	if (cin < 1 || cout < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 ||
	    ph < 0 || pw < 0 || dh < 1 || dw < 1 || kh > NN_GEOM_MAX || kw > NN_GEOM_MAX ||
	    sh > NN_GEOM_MAX || sw > NN_GEOM_MAX || ph > NN_GEOM_MAX || pw > NN_GEOM_MAX ||
	    dh > NN_GEOM_MAX || dw > NN_GEOM_MAX)
		return -1;
	g->cin = cin, g->cout = cout, g->h = h, g->w = w;
	g->kh = kh, g->kw = kw, g->sh = sh, g->sw = sw, g->ph = ph, g->pw = pw, g->dh = dh,
	g->dw = dw;
	g->oh = conv_out(h, kh, sh, ph, dh);
	g->ow = conv_out(w, kw, sw, pw, dw);
	return g->oh > 0 && g->ow > 0 ? 0 : -1;
}

int nn_conv1d_setup(struct nn_conv *g, int cin, int cout, int l, int k, int stride, int pad,
		    int dil)
{
	return nn_conv2d_setup(g, cin, cout, 1, l, 1, k, 1, stride, 0, pad, 1, dil);
}

int nn_conv_set_groups(struct nn_conv *g, int groups)
{
	if (groups < 1 || g->cin % groups || g->cout % groups)
		return -1;
	g->groups = groups;
	return 0;
}

/* The geometry of one group of a grouped convolution (g itself without groups). */
static struct nn_conv conv_group(const struct nn_conv *g)
{
	struct nn_conv s = *g;
	int G = g->groups > 1 ? g->groups : 1;
	s.cin = g->cin / G;
	s.cout = g->cout / G;
	s.groups = 1;
	return s;
}

/* A 1x1 convolution without stride or padding multiplies the input itself: no im2col. */
static int conv_is_pointwise(const struct nn_conv *g)
{
	return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* Whether the input's gradient of g is taken as a convolution of the output's gradient with the
 * flipped kernel (stride 1, padding within the kernel's span): no col2im, and a product whose
 * inner dimension is cout * kh * kw rather than cout. */
static int conv_back_by_correlation(const struct nn_conv *g)
{
	return g->sh == 1 && g->sw == 1 && !conv_is_pointwise(g) && g->ph <= (g->kh - 1) * g->dh &&
	       g->pw <= (g->kw - 1) * g->dw;
}

/* Floats of the larger im2col matrix of one group's backward pass by correlation: of the input
 * (for the weight's gradient) or of the output's gradient (for the input's). */
static size_t conv_back_cols(const struct nn_conv *s)
{
	size_t kk = (size_t)s->kh * s->kw;
	size_t a = (size_t)s->cin * kk * s->oh * s->ow, b = (size_t)s->cout * kk * s->h * s->w;
	return a > b ? a : b;
}

size_t nn_conv_scratch(const struct nn_conv *g)
{
	size_t fwd = (size_t)g->cin * g->kh * g->kw * g->oh * g->ow;
	if (!conv_back_by_correlation(g))
		return fwd;
	/* the backward pass's im2col of a group's input or of its output's gradient, then its
	 * flipped kernel */
	struct nn_conv s = conv_group(g);
	size_t kk = (size_t)g->kh * g->kw;
	size_t back = conv_back_cols(&s) + (size_t)s.cin * s.cout * kk;
	return back > fwd ? back : fwd;
}

/* The output columns ox in [*lo, *hi) whose input column ox * sw + x0 lies inside [0, w). */
static void valid_range(int x0, int s, int w, int ow, int *lo, int *hi)
{
	int l = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
	int h = w - 1 - x0 < 0 ? 0 : (w - 1 - x0) / s + 1;
	if (h > ow)
		h = ow;
	if (l > h)
		l = h;
	*lo = l, *hi = h;
}

/* Whether im2col may copy a tap's rows as one span: with stride 1 both ways and an output as
 * wide as the input ("same" padding), consecutive output rows of a tap read consecutive input
 * rows, so the rows of a block are one contiguous stretch of the input plane, but for the
 * columns that fall in the padding. */
static int im2col_spans(const struct nn_conv *g)
{
	return g->sh == 1 && g->sw == 1 && g->ow == g->w;
}

/* dst ((oy1 - oy0) * w) = tap (i, j)'s rows of output rows [oy0, oy1) from plane (h, w), for
 * im2col_spans geometries: the input rows in range copied in one piece, the rows above and
 * below and the columns in the padding ([0, lo) and [hi, w) of each row, which the piece filled
 * from the neighbouring row) set to zero. */
static void im2col_span(float *dst, const float *plane, const struct nn_conv *g, int i, int j,
			int oy0, int oy1)
{
	int w = g->w, x0 = j * g->dw - g->pw, lo, hi;
	int r0 = g->ph - i * g->dh, r1 = r0 + g->h; /* output rows with an input row */
	r0 = r0 < oy0 ? oy0 : r0 > oy1 ? oy1 : r0;
	r1 = r1 > oy1 ? oy1 : r1 < r0 ? r0 : r1;
	valid_range(x0, 1, w, w, &lo, &hi);
	memset(dst, 0, sizeof(float) * (size_t)(r0 - oy0) * w);
	memset(dst + (size_t)(r1 - oy0) * w, 0, sizeof(float) * (size_t)(oy1 - r1) * w);
	float *d = dst + (size_t)(r0 - oy0) * w;
	if (r1 == r0)
		return;
	if (lo >= hi) { /* the whole tap in the padding */
		memset(d, 0, sizeof(float) * (size_t)(r1 - r0) * w);
		return;
	}
	/* |x0| < w here: the piece skips its first -x0 or last x0 floats (padding columns), which
	 * would lie outside the plane at its first or last row */
	size_t len = (size_t)(r1 - r0) * w, a = x0 < 0 ? (size_t)-x0 : 0,
	       b = x0 > 0 ? (size_t)x0 : 0;
	const float *src = plane + (size_t)(r0 - g->ph + i * g->dh) * w;
	memcpy(d + a, src + a + x0, sizeof(float) * (len - a - b));
	for (int r = 0; r < r1 - r0; r++) {
		float *row = d + (size_t)r * w;
		for (int ox = 0; ox < lo; ox++)
			row[ox] = 0;
		for (int ox = hi; ox < w; ox++)
			row[ox] = 0;
	}
}

/* col (cin*kh*kw, (oy1 - oy0)*ow) from img (cin, h, w): the columns of output rows [oy0, oy1) */
static void im2col_rows(float *col, const float *img, const struct nn_conv *g, int oy0, int oy1)
{
	int ow = g->ow;
	size_t n = (size_t)(oy1 - oy0) * ow;
	if (im2col_spans(g)) {
		for (int c = 0; c < g->cin; c++)
			for (int i = 0; i < g->kh; i++)
				for (int j = 0; j < g->kw; j++)
					im2col_span(col + (size_t)((c * g->kh + i) * g->kw + j) * n,
						    img + (size_t)c * g->h * g->w, g, i, j, oy0,
						    oy1);
		return;
	}
	for (int c = 0; c < g->cin; c++) {
		const float *plane = img + (size_t)c * g->h * g->w;
		for (int i = 0; i < g->kh; i++) {
			for (int j = 0; j < g->kw; j++) {
				float *row = col + (size_t)((c * g->kh + i) * g->kw + j) * n;
				int x0 = j * g->dw - g->pw, lo, hi;
				valid_range(x0, g->sw, g->w, ow, &lo, &hi);
				for (int oy = oy0; oy < oy1; oy++) {
					int iy = oy * g->sh - g->ph + i * g->dh;
					float *dst = row + (size_t)(oy - oy0) * ow;
					if (iy < 0 || iy >= g->h) {
						memset(dst, 0, sizeof(float) * (size_t)ow);
						continue;
					}
					const float *src = plane + (size_t)iy * g->w + x0;
					int ox;
					for (ox = 0; ox < lo; ox++)
						dst[ox] = 0;
					if (g->sw == 1)
						memcpy(dst + lo, src + lo,
						       sizeof(float) * (size_t)(hi - lo));
					else
						for (ox = lo; ox < hi; ox++)
							dst[ox] = src[ox * g->sw];
					for (ox = hi; ox < ow; ox++)
						dst[ox] = 0;
				}
			}
		}
	}
}

/* col (cin*kh*kw, oh*ow) from img (cin, h, w) */
static void im2col(float *col, const float *img, const struct nn_conv *g)
{
	im2col_rows(col, img, g, 0, g->oh);
}

/* Output rows a product takes at a time: an im2col block of about NN_COL_FLOATS floats stays in
 * the core's cache while sgemm packs it, but a block keeps NN_COL_MIN columns or more, so that
 * the kernel's weights are not packed again for too few columns. */
#define NN_COL_FLOATS (64 * 1024)
#define NN_COL_MIN    256

static int conv_block_rows(const struct nn_conv *s)
{
	size_t K = (size_t)s->cin * s->kh * s->kw, cols = NN_COL_FLOATS / K;
	if (cols < NN_COL_MIN)
		cols = NN_COL_MIN;
	size_t rows = (cols + (size_t)s->ow - 1) / (size_t)s->ow;
	return rows > (size_t)s->oh ? s->oh : (int)rows;
}

/* img (cin, h, w) += the columns of col (cin*kh*kw, oh*ow) put back where im2col took them */
static void col2im(float *img, const float *col, const struct nn_conv *g)
{
	int oh = g->oh, ow = g->ow;
	for (int c = 0; c < g->cin; c++) {
		float *plane = img + (size_t)c * g->h * g->w;
		for (int i = 0; i < g->kh; i++) {
			for (int j = 0; j < g->kw; j++) {
				const float *row =
				    col + (size_t)((c * g->kh + i) * g->kw + j) * oh * ow;
				int x0 = j * g->dw - g->pw, lo, hi;
				valid_range(x0, g->sw, g->w, ow, &lo, &hi);
				for (int oy = 0; oy < oh; oy++) {
					int iy = oy * g->sh - g->ph + i * g->dh;
					if (iy < 0 || iy >= g->h)
						continue;
					const float *src = row + (size_t)oy * ow;
					float *dst = plane + (size_t)iy * g->w + x0;
					if (g->sw == 1) /* a loop the compiler vectorizes */
						for (int ox = lo; ox < hi; ox++)
							dst[ox] += src[ox];
					else
						for (int ox = lo; ox < hi; ox++)
							dst[ox * g->sw] += src[ox];
				}
			}
		}
	}
}

/* y (cout, oh*ow) = w (cout, K) x the im2col matrix of x + beta y, a block of output rows at a
 * time */
static void conv_rows_forward(float *y, const float *x, const float *w, const struct nn_conv *s,
			      float *col, float beta)
{
	int S = s->oh * s->ow, K = s->cin * s->kh * s->kw, step = conv_block_rows(s);
	for (int oy = 0; oy < s->oh; oy += step) {
		int oy1 = oy + step < s->oh ? oy + step : s->oh, n = (oy1 - oy) * s->ow;
		im2col_rows(col, x, s, oy, oy1);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, n, K, 1.0f, w, K,
			    col, n, beta, y + (size_t)oy * s->ow, S);
	}
}

/* dw (cout, K) += dy (cout, oh*ow) x the im2col matrix of x transposed, a block of output rows
 * at a time */
static void conv_rows_dweight(float *dw, const float *dy, const float *x, const struct nn_conv *s,
			      float *col)
{
	int S = s->oh * s->ow, K = s->cin * s->kh * s->kw, step = conv_block_rows(s);
	for (int oy = 0; oy < s->oh; oy += step) {
		int oy1 = oy + step < s->oh ? oy + step : s->oh, n = (oy1 - oy) * s->ow;
		im2col_rows(col, x, s, oy, oy1);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->cout, K, n, 1.0f,
			    dy + (size_t)oy * s->ow, S, col, n, 1.0f, dw, K);
	}
}

void nn_conv_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		     const struct nn_conv *g, float *col)
{
	/* a grouped convolution is G convolutions on slices of the channels; the weight of each
	 * group is a contiguous block of rows */
	struct nn_conv s = conv_group(g);
	int S = g->oh * g->ow, K = s.cin * s.kh * s.kw, G = g->groups > 1 ? g->groups : 1;
	for (int b = 0; b < B; b++)
		for (int j = 0; j < G; j++) {
			const float *x =
			    inp + ((size_t)b * g->cin + (size_t)j * s.cin) * g->h * g->w;
			float *y = out + ((size_t)b * g->cout + (size_t)j * s.cout) * S;
			const float *w = weight + (size_t)j * s.cout * K;
			if (conv_is_pointwise(&s)) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.cout, S, K,
					    1.0f, w, K, x, S, 0.0f, y, S);
			} else {
				conv_rows_forward(y, x, w, &s, col, 0.0f);
			}
			if (bias)
				for (int o = 0; o < s.cout; o++)
					add_const(y + (size_t)o * S, bias[j * s.cout + o],
						  (size_t)S);
		}
}

/* The convolution that maps the output's gradient of g back to the input's (stride 1): from
 * cout channels of (oh, ow) to cin of (h, w), padding (k - 1) d - p. */
static struct nn_conv conv_back_geometry(const struct nn_conv *s)
{
	struct nn_conv b = *s;
	b.cin = s->cout, b.cout = s->cin, b.h = s->oh, b.w = s->ow;
	b.ph = (s->kh - 1) * s->dh - s->ph, b.pw = (s->kw - 1) * s->dw - s->pw;
	b.oh = s->h, b.ow = s->w;
	return b;
}

/* wt (cin, cout, kh, kw) = w (cout, cin, kh, kw) with channels swapped and taps reversed */
static void flip_kernel(float *restrict wt, const float *restrict w, const struct nn_conv *s)
{
	size_t kk = (size_t)s->kh * s->kw;
	for (int o = 0; o < s->cout; o++)
		for (int c = 0; c < s->cin; c++) {
			const float *src = w + ((size_t)o * s->cin + c) * kk;
			float *dst = wt + ((size_t)c * s->cout + o) * kk;
			for (size_t t = 0; t < kk; t++)
				dst[t] = src[kk - 1 - t];
		}
}

/* set: dinp is written, not added to (the paths that add into it clear it first) */
static void conv_backward(float *dinp, float *dweight, float *dbias, const float *dout,
			  const float *inp, const float *weight, int B, const struct nn_conv *g,
			  float *col, int set)
{
	struct nn_conv s = conv_group(g), bk = conv_back_geometry(&s);
	int S = g->oh * g->ow, K = s.cin * s.kh * s.kw, G = g->groups > 1 ? g->groups : 1;
	int pointwise = conv_is_pointwise(&s), corr = dinp && conv_back_by_correlation(&s);
	/* the flipped kernel sits after the im2col matrices (nn_conv_scratch) */
	float *wt = corr ? col + conv_back_cols(&s) : NULL;
	for (int j = 0; j < G; j++) {
		const float *w = weight + (size_t)j * s.cout * K;
		if (corr)
			flip_kernel(wt, w, &s);
		for (int b = 0; b < B; b++) {
			size_t xo = ((size_t)b * g->cin + (size_t)j * s.cin) * g->h * g->w;
			const float *x = inp + xo;
			const float *dy = dout + ((size_t)b * g->cout + (size_t)j * s.cout) * S;
			if (dweight && pointwise)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.cout, K, S,
					    1.0f, dy, S, x, S, 1.0f,
					    dweight + (size_t)j * s.cout * K, K);
			else if (dweight)
				conv_rows_dweight(dweight + (size_t)j * s.cout * K, dy, x, &s, col);
			if (dbias)
				for (int o = 0; o < s.cout; o++)
					dbias[j * s.cout + o] +=
					    (float)sum_d(dy + (size_t)o * S, (size_t)S);
			if (!dinp)
				continue;
			float *dx = dinp + xo, beta = set ? 0.0f : 1.0f;
			if (pointwise) {
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, S, s.cout,
					    1.0f, w, K, dy, S, beta, dx, S);
			} else if (corr) {
				conv_rows_forward(dx, dy, wt, &bk, col, beta);
			} else {
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, S, s.cout,
					    1.0f, w, K, dy, S, 0.0f, col, S);
				if (set)
					memset(dx, 0, sizeof(float) * (size_t)s.cin * g->h * g->w);
				col2im(dx, col, &s);
			}
		}
	}
}

void nn_conv_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		      const float *inp, const float *weight, int B, const struct nn_conv *g,
		      float *col)
{
	conv_backward(dinp, dweight, dbias, dout, inp, weight, B, g, col, 0);
}

void nn_conv_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
			  const float *inp, const float *weight, int B, const struct nn_conv *g,
			  float *col)
{
	conv_backward(dinp, dweight, dbias, dout, inp, weight, B, g, col, 1);
}

int nn_convt2d_setup(struct nn_conv *g, int cin, int cout, int h, int w, int k, int stride, int pad,
		     int opad, int dil)
{
	memset(g, 0, sizeof(*g));
	if (cin < 1 || cout < 1 || h < 1 || w < 1 || k < 1 || stride < 1 || pad < 0 || opad < 0 ||
	    dil < 1 || opad >= stride || k > NN_GEOM_MAX || stride > NN_GEOM_MAX ||
	    pad > NN_GEOM_MAX || dil > NN_GEOM_MAX || h > NN_GEOM_MAX || w > NN_GEOM_MAX)
		return -1;
	long oh = (long)(h - 1) * stride - 2L * pad + (long)dil * (k - 1) + opad + 1;
	long ow = (long)(w - 1) * stride - 2L * pad + (long)dil * (k - 1) + opad + 1;
	if (oh < 1 || ow < 1 || oh > (1L << 24) || ow > (1L << 24))
		return -1;
	if (nn_conv2d_setup(g, cout, cin, (int)oh, (int)ow, k, k, stride, stride, pad, pad, dil,
			    dil) < 0)
		return -1;
	return g->oh == h && g->ow == w ? 0 : -1;
}

void nn_convt_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		      const struct nn_conv *g, float *col)
{
	int S = g->oh * g->ow, K = g->cin * g->kh * g->kw, P = g->h * g->w;
	for (int b = 0; b < B; b++) {
		const float *x = inp + (size_t)b * g->cout * S;
		float *y = out + (size_t)b * g->cin * P;
		memset(y, 0, sizeof(float) * (size_t)g->cin * P);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, S, g->cout, 1.0f, weight, K,
			    x, S, 0.0f, col, S);
		col2im(y, col, g);
		if (bias)
			for (int o = 0; o < g->cin; o++)
				add_const(y + (size_t)o * P, bias[o], (size_t)P);
	}
}

void nn_convt_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		       const float *inp, const float *weight, int B, const struct nn_conv *g,
		       float *col)
{
	int S = g->oh * g->ow, K = g->cin * g->kh * g->kw, P = g->h * g->w;
	for (int b = 0; b < B; b++) {
		const float *x = inp + (size_t)b * g->cout * S;
		const float *dy = dout + (size_t)b * g->cin * P;
		if (dbias)
			for (int o = 0; o < g->cin; o++)
				dbias[o] += (float)sum_d(dy + (size_t)o * P, (size_t)P);
		if (!dweight && !dinp)
			continue;
		im2col(col, dy, g);
		if (dweight)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cout, K, S, 1.0f, x,
				    S, col, S, 1.0f, dweight, K);
		if (dinp)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, S, K, 1.0f,
				    weight, K, col, S, 1.0f, dinp + (size_t)b * g->cout * S, S);
	}
}

/* ---- Dense ---------------------------------------------------------------------------- */

void nn_dense_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
		      int nin, int nout)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, nout, nin, 1.0f, inp, nin, weight,
		    nin, 0.0f, out, nout);
	if (bias)
		for (int b = 0; b < B; b++)
			for (int o = 0; o < nout; o++)
				out[(size_t)b * nout + o] += bias[o];
}

void nn_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
		       const float *inp, const float *weight, int B, int nin, int nout)
{
	if (dinp)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, nin, nout, 1.0f, dout,
			    nout, weight, nin, 1.0f, dinp, nin);
	if (dweight)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nout, nin, B, 1.0f, dout, nout,
			    inp, nin, 1.0f, dweight, nin);
	if (dbias)
		for (int b = 0; b < B; b++)
			for (int o = 0; o < nout; o++)
				dbias[o] += dout[(size_t)b * nout + o];
}

/* ---- Pooling -------------------------------------------------------------------------- */

int nn_pool2d_setup(struct nn_pool *g, int c, int h, int w, int k, int stride, int pad)
{
	memset(g, 0, sizeof(*g));
	if (c < 1 || h < 1 || w < 1 || k < 1 || stride < 1 || pad < 0 || k > NN_GEOM_MAX ||
	    stride > NN_GEOM_MAX || 2 * pad > k)
		return -1;
	g->c = c, g->h = h, g->w = w, g->kh = g->kw = k, g->sh = g->sw = stride;
	g->ph = g->pw = pad;
	g->oh = conv_out(h, k, stride, pad, 1);
	g->ow = conv_out(w, k, stride, pad, 1);
	return g->oh > 0 && g->ow > 0 ? 0 : -1;
}

int nn_pool1d_setup(struct nn_pool *g, int c, int l, int k, int stride, int pad)
{
	memset(g, 0, sizeof(*g));
	if (c < 1 || l < 1 || k < 1 || stride < 1 || pad < 0 || k > NN_GEOM_MAX ||
	    stride > NN_GEOM_MAX || 2 * pad > k)
		return -1;
	g->c = c, g->h = 1, g->w = l, g->kh = 1, g->kw = k, g->sh = 1, g->sw = stride;
	g->ph = 0, g->pw = pad;
	g->oh = 1;
	g->ow = conv_out(l, k, stride, pad, 1);
	return g->ow > 0 ? 0 : -1;
}

/* One row of the common 1-D pooling by 2: n outputs from 2n inputs at plane offset base. */
static void maxpool_pairs(float *restrict y, int *restrict ix, const float *restrict x, int n,
			  int base)
{
	for (int o = 0; o < n; o++) {
		float a = x[2 * o], b = x[2 * o + 1];
		/* b when larger, or NaN while a is not: no branch on the data, whose order a
		 * predictor cannot guess */
		int second = (b > a) | ((b != b) & (a == a));
		y[o] = second ? b : a;
		ix[o] = base + 2 * o + second;
	}
}

/* One output row of 2x2 pooling by 2: n outputs from rows r0 and r1 (r1 = r0 + w) at plane
 * offset base; the first maximum in the order (0,0) (0,1) (1,0) (1,1) wins, a NaN wins and
 * stays, as in the general loop, without branches on the data. */
static void maxpool_quads(float *restrict y, int *restrict ix, const float *restrict r0,
			  const float *restrict r1, int n, int base, int w)
{
	const nn_i4 lane = {0, 2, 4, 6}, one = {1, 1, 1, 1}, two = one + one, three = two + one;
	int o = 0;
	/* four outputs at a time: the even and odd columns of 8 inputs of each row */
	for (; o + 4 <= n; o += 4) {
		nn_f4 p = nn_ld4(r0 + 2 * o), q = nn_ld4(r0 + 2 * o + 4);
		nn_f4 a = __builtin_shufflevector(p, q, 0, 2, 4, 6);
		nn_f4 b = __builtin_shufflevector(p, q, 1, 3, 5, 7);
		p = nn_ld4(r1 + 2 * o), q = nn_ld4(r1 + 2 * o + 4);
		nn_f4 c = __builtin_shufflevector(p, q, 0, 2, 4, 6);
		nn_f4 d = __builtin_shufflevector(p, q, 1, 3, 5, 7);
		nn_i4 t = (b > a) | ((b != b) & (a == a)), k = t & one;
		nn_f4 m = (nn_f4)(((nn_i4)b & t) | ((nn_i4)a & ~t));
		t = (c > m) | ((c != c) & (m == m));
		m = (nn_f4)(((nn_i4)c & t) | ((nn_i4)m & ~t));
		k = (two & t) | (k & ~t);
		t = (d > m) | ((d != d) & (m == m));
		m = (nn_f4)(((nn_i4)d & t) | ((nn_i4)m & ~t));
		k = (three & t) | (k & ~t);
		nn_i4 at = base + 2 * o + lane + (k & one) + (k >> 1) * w;
		nn_st4(y + o, m);
		memcpy(ix + o, &at, sizeof(at));
	}
	for (; o < n; o++) {
		float a = r0[2 * o], b = r0[2 * o + 1], c = r1[2 * o], d = r1[2 * o + 1];
		int t = (b > a) | ((b != b) & (a == a)), k = t;
		float m = t ? b : a;
		t = (c > m) | ((c != c) & (m == m));
		m = t ? c : m;
		k = t ? 2 : k;
		t = (d > m) | ((d != d) & (m == m));
		y[o] = t ? d : m;
		k = t ? 3 : k;
		ix[o] = base + 2 * o + (k & 1) + (k >> 1) * w;
	}
}

void nn_maxpool_forward(float *out, int *idx, const float *inp, int B, const struct nn_pool *g)
{
	const int h = g->h, w = g->w, oh = g->oh, ow = g->ow, kh = g->kh, kw = g->kw;
	const int sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw;
	size_t P = (size_t)h * w, Q = (size_t)oh * ow;
	int pairs = kh == 1 && kw == 2 && sw == 2 && pw == 0;
	int quads = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0;
	for (size_t bc = 0; bc < (size_t)B * g->c; bc++) {
		const float *x = inp + bc * P;
		float *y = out + bc * Q;
		int *ix = idx + bc * Q;
		if (quads) {
			for (int oy = 0; oy < oh; oy++)
				maxpool_quads(y + oy * ow, ix + oy * ow, x + 2 * oy * w,
					      x + (2 * oy + 1) * w, ow, 2 * oy * w, w);
			continue;
		}
		if (pairs) {
			for (int oy = 0; oy < oh; oy++)
				maxpool_pairs(y + oy * ow, ix + oy * ow, x + oy * sh * w, ow,
					      oy * sh * w);
			continue;
		}
		for (int oy = 0; oy < oh; oy++) {
			int y0 = oy * sh - ph;
			int i0 = y0 < 0 ? 0 : y0, i1 = y0 + kh > h ? h : y0 + kh;
			for (int ox = 0; ox < ow; ox++) {
				int x0 = ox * sw - pw;
				int j0 = x0 < 0 ? 0 : x0, j1 = x0 + kw > w ? w : x0 + kw;
				int bi = i0 * w + j0;
				float best = x[bi];
				/* the first maximum wins; a NaN wins and stays (PyTorch) */
				for (int i = i0; i < i1; i++)
					for (int j = j0; j < j1; j++) {
						float v = x[i * w + j];
						if (!(v <= best) && !isnan(best)) {
							best = v;
							bi = i * w + j;
						}
					}
				y[oy * ow + ox] = best;
				ix[oy * ow + ox] = bi;
			}
		}
	}
}

void nn_maxpool_backward(float *dinp, const float *dout, const int *idx, int B,
			 const struct nn_pool *g)
{
	size_t P = (size_t)g->h * g->w, Q = (size_t)g->oh * g->ow;
	for (size_t bc = 0; bc < (size_t)B * g->c; bc++)
		for (size_t q = 0; q < Q; q++)
			if (idx[bc * Q + q] >= 0)
				dinp[bc * P + (size_t)idx[bc * Q + q]] += dout[bc * Q + q];
}

void nn_avgpool_forward(float *out, const float *inp, int B, const struct nn_pool *g)
{
	size_t P = (size_t)g->h * g->w, Q = (size_t)g->oh * g->ow;
	float inv = 1.0f / (float)(g->kh * g->kw);
	for (size_t bc = 0; bc < (size_t)B * g->c; bc++) {
		const float *x = inp + bc * P;
		for (int oy = 0; oy < g->oh; oy++)
			for (int ox = 0; ox < g->ow; ox++) {
				float s = 0;
				for (int i = 0; i < g->kh; i++) {
					int yy = oy * g->sh - g->ph + i;
					if (yy < 0 || yy >= g->h)
						continue;
					for (int j = 0; j < g->kw; j++) {
						int xx = ox * g->sw - g->pw + j;
						if (xx >= 0 && xx < g->w)
							s += x[yy * g->w + xx];
					}
				}
				out[bc * Q + (size_t)oy * g->ow + ox] = s * inv;
			}
	}
}

void nn_avgpool_backward(float *dinp, const float *dout, int B, const struct nn_pool *g)
{
	size_t P = (size_t)g->h * g->w, Q = (size_t)g->oh * g->ow;
	float inv = 1.0f / (float)(g->kh * g->kw);
	for (size_t bc = 0; bc < (size_t)B * g->c; bc++) {
		float *dx = dinp + bc * P;
		for (int oy = 0; oy < g->oh; oy++)
			for (int ox = 0; ox < g->ow; ox++) {
				float d = dout[bc * Q + (size_t)oy * g->ow + ox] * inv;
				for (int i = 0; i < g->kh; i++) {
					int yy = oy * g->sh - g->ph + i;
					if (yy < 0 || yy >= g->h)
						continue;
					for (int j = 0; j < g->kw; j++) {
						int xx = ox * g->sw - g->pw + j;
						if (xx >= 0 && xx < g->w)
							dx[yy * g->w + xx] += d;
					}
				}
			}
	}
}

void nn_gap_forward(float *out, const float *inp, int B, int C, int S)
{
	for (size_t bc = 0; bc < (size_t)B * C; bc++)
		out[bc] = (float)(sum_d(inp + bc * S, (size_t)S) / S);
}

void nn_gap_backward(float *dinp, const float *dout, int B, int C, int S)
{
	for (size_t bc = 0; bc < (size_t)B * C; bc++) {
		float *dx = dinp + bc * S;
		add_const(dx, dout[bc] / (float)S, (size_t)S);
	}
}

/* ---- Upsampling ----------------------------------------------------------------------- */

/* Source of output coordinate o for factor s over n inputs, PyTorch's align_corners=False:
 * (o + 0.5) / s - 0.5 clamped at 0; the two neighbours and the weight of the second. */
static void lin_src(int o, int s, int n, int *i0, int *i1, float *t)
{
	float src = ((float)o + 0.5f) / (float)s - 0.5f;
	if (src < 0)
		src = 0;
	int a = (int)src;
	if (a > n - 1)
		a = n - 1;
	*i0 = a;
	*i1 = a + 1 < n ? a + 1 : n - 1;
	*t = src - (float)a;
}

/* The horizontal sources of every output column: i0, i1 and the weight t of i1. */
struct lin_tab {
	int *i0, *i1;
	float *t;
};

static void lin_tab_init(struct lin_tab *tab, int s, int n)
{
	int on = n * s;
	tab->i0 = xmallocarray((size_t)on * 2, sizeof(int));
	tab->i1 = tab->i0 + on;
	tab->t = xmallocarray((size_t)on, sizeof(float));
	for (int o = 0; o < on; o++)
		lin_src(o, s, n, &tab->i0[o], &tab->i1[o], &tab->t[o]);
}

static void lin_tab_release(struct lin_tab *tab)
{
	free(tab->i0);
	free(tab->t);
}

/* Bilinear upsampling in two passes over each plane: every input row interpolated along W once
 * (into rows, h * ow floats), then each output row a blend of two of those. The same
 * arithmetic, term by term, as interpolating each output pixel from its four neighbours. */
static void upsample_bilinear_forward(float *out, const float *inp, int B, int C, int h, int w,
				      int sh, int sw)
{
	int oh = h * sh, ow = w * sw;
	struct lin_tab tx;
	float *rows = xmallocarray((size_t)h * ow, sizeof(float));
	lin_tab_init(&tx, sw, w);
	for (size_t bc = 0; bc < (size_t)B * C; bc++) {
		const float *x = inp + bc * h * w;
		float *y = out + bc * oh * ow;
		for (int iy = 0; iy < h; iy++) {
			const float *r = x + (size_t)iy * w;
			float *d = rows + (size_t)iy * ow;
			for (int ox = 0; ox < ow; ox++)
				d[ox] = (1 - tx.t[ox]) * r[tx.i0[ox]] + tx.t[ox] * r[tx.i1[ox]];
		}
		for (int oy = 0; oy < oh; oy++) {
			int y0, y1;
			float ty;
			lin_src(oy, sh, h, &y0, &y1, &ty);
			const float *restrict r0 = rows + (size_t)y0 * ow, *restrict r1 =
									       rows +
									       (size_t)y1 * ow;
			float *restrict d = y + (size_t)oy * ow;
			float a = 1 - ty;
			for (int ox = 0; ox < ow; ox++)
				d[ox] = a * r0[ox] + ty * r1[ox];
		}
	}
	lin_tab_release(&tx);
	free(rows);
}

/* The transpose of the forward pass: each output row's gradient spread over its two source rows
 * (rows, h * ow), then each of those along W to its two source columns. */
static void upsample_bilinear_backward(float *dinp, const float *dout, int B, int C, int h, int w,
				       int sh, int sw)
{
	int oh = h * sh, ow = w * sw;
	struct lin_tab tx;
	float *rows = xmallocarray((size_t)h * ow, sizeof(float));
	lin_tab_init(&tx, sw, w);
	for (size_t bc = 0; bc < (size_t)B * C; bc++) {
		float *dx = dinp + bc * h * w;
		const float *dy = dout + bc * oh * ow;
		memset(rows, 0, (size_t)h * ow * sizeof(float));
		for (int oy = 0; oy < oh; oy++) {
			int y0, y1;
			float ty;
			lin_src(oy, sh, h, &y0, &y1, &ty);
			float *restrict r0 = rows + (size_t)y0 * ow;
			const float *restrict g = dy + (size_t)oy * ow;
			float a = 1 - ty;
			for (int ox = 0; ox < ow; ox++)
				r0[ox] += a * g[ox];
			float *restrict r1 = rows + (size_t)y1 * ow;
			for (int ox = 0; ox < ow; ox++)
				r1[ox] += ty * g[ox];
		}
		for (int iy = 0; iy < h; iy++) {
			const float *g = rows + (size_t)iy * ow;
			float *d = dx + (size_t)iy * w;
			for (int ox = 0; ox < ow; ox++) {
				d[tx.i0[ox]] += (1 - tx.t[ox]) * g[ox];
				d[tx.i1[ox]] += tx.t[ox] * g[ox];
			}
		}
	}
	lin_tab_release(&tx);
	free(rows);
}

void nn_upsample_forward(float *out, const float *inp, int B, int C, int h, int w, int sh, int sw,
			 int bilinear)
{
	int oh = h * sh, ow = w * sw;
	if (bilinear) {
		upsample_bilinear_forward(out, inp, B, C, h, w, sh, sw);
		return;
	}
	for (size_t bc = 0; bc < (size_t)B * C; bc++) {
		const float *x = inp + bc * h * w;
		float *y = out + bc * oh * ow;
		for (int oy = 0; oy < oh; oy++) {
			const float *r = x + (size_t)(oy / sh) * w;
			for (int ox = 0; ox < ow; ox++)
				y[oy * ow + ox] = r[ox / sw];
		}
	}
}

void nn_upsample_backward(float *dinp, const float *dout, int B, int C, int h, int w, int sh,
			  int sw, int bilinear)
{
	int oh = h * sh, ow = w * sw;
	if (bilinear) {
		upsample_bilinear_backward(dinp, dout, B, C, h, w, sh, sw);
		return;
	}
	for (size_t bc = 0; bc < (size_t)B * C; bc++) {
		float *dx = dinp + bc * h * w;
		const float *dy = dout + bc * oh * ow;
		for (int oy = 0; oy < oh; oy++) {
			float *r = dx + (size_t)(oy / sh) * w;
			for (int ox = 0; ox < ow; ox++)
				r[ox / sw] += dy[oy * ow + ox];
		}
	}
}

/* ---- Batch normalization -------------------------------------------------------------- */

void nn_bn_eval_stats(float running_mean, float running_var, float eps, float *mean, float *rstd)
{
	*mean = running_mean;
	*rstd = (float)(1.0 / sqrt((double)running_var + eps));
}

void nn_bn_eval(float *out, const float *inp, const float *gamma, const float *beta,
		const float *running_mean, const float *running_var, int B, int C, int S, float eps)
{
	for (int c = 0; c < C; c++) {
		float mf, r;
		nn_bn_eval_stats(running_mean[c], running_var[c], eps, &mf, &r);
		float gm = gamma ? gamma[c] : 1.0f, bt = beta ? beta[c] : 0.0f;
		for (int b = 0; b < B; b++)
			affine(out + ((size_t)b * C + c) * S, inp + ((size_t)b * C + c) * S, r * gm,
			       bt - mf * r * gm, (size_t)S);
	}
}

void nn_bn_forward_range(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
			 const float *beta, float *running_mean, float *running_var, int B, int C,
			 int S, float momentum, float eps, int training, int c0, int c1)
{
	size_t n = (size_t)B * S;
	for (int c = c0; c < c1; c++) {
		double m, var;
		if (training) {
			/* two passes: the variance of large-mean activations stays exact */
			double s = 0, q = 0;
			for (int b = 0; b < B; b++)
				s += sum_d(inp + ((size_t)b * C + c) * S, (size_t)S);
			m = s / (double)n;
			for (int b = 0; b < B; b++)
				q += sum_sq_centered(inp + ((size_t)b * C + c) * S, (float)m,
						     (size_t)S);
			var = q / (double)n;
			if (running_mean) {
				double unb = n > 1 ? q / (double)(n - 1) : var;
				running_mean[c] =
				    (float)((1.0 - momentum) * running_mean[c] + momentum * m);
				running_var[c] =
				    (float)((1.0 - momentum) * running_var[c] + momentum * unb);
			}
		} else {
			m = running_mean[c];
			var = running_var[c];
		}
		float mf, r;
		nn_bn_eval_stats((float)m, (float)var, eps, &mf, &r);
		mean[c] = mf;
		rstd[c] = r;
		float gm = gamma ? gamma[c] : 1.0f, bt = beta ? beta[c] : 0.0f;
		for (int b = 0; b < B; b++)
			affine(out + ((size_t)b * C + c) * S, inp + ((size_t)b * C + c) * S, r * gm,
			       bt - mf * r * gm, (size_t)S);
	}
}

/* dx += k1 dy + k2 x + k0 */
static void bn_dx(float *restrict dx, const float *restrict dy, const float *restrict x, float k1,
		  float k2, float k0, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			dx[i + j] += k1 * dy[i + j] + k2 * x[i + j] + k0;
	for (; i < n; i++)
		dx[i] += k1 * dy[i] + k2 * x[i] + k0;
}

/* dx = k1 dy + k2 x + k0 */
static void bn_dx_set(float *restrict dx, const float *restrict dy, const float *restrict x,
		      float k1, float k2, float k0, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			dx[i + j] = k1 * dy[i + j] + k2 * x[i + j] + k0;
	for (; i < n; i++)
		dx[i] = k1 * dy[i] + k2 * x[i] + k0;
}

void nn_bn_backward_range(float *dinp, float *dgamma, float *dbeta, const float *dout,
			  const float *inp, const float *mean, const float *rstd,
			  const float *gamma, int B, int C, int S, int training, int c0, int c1,
			  int set)
{
	size_t n = (size_t)B * S;
	for (int c = c0; c < c1; c++) {
		float mf = mean[c], r = rstd[c], gm = gamma ? gamma[c] : 1.0f;
		double sdy = 0, sdyx = 0;
		for (int b = 0; b < B; b++)
			sums_dy(inp + ((size_t)b * C + c) * S, dout + ((size_t)b * C + c) * S, mf,
				(size_t)S, &sdyx, &sdy);
		sdyx *= r; /* sum dy * xhat */
		if (dgamma)
			dgamma[c] += (float)sdyx;
		if (dbeta)
			dbeta[c] += (float)sdy;
		if (!dinp)
			continue;
		/* dx = g r (dy - mean(dy) - xhat mean(dy xhat)), as k1 dy + k2 x + k0 */
		float k = gm * r;
		float a = training ? (float)(sdy / (double)n) : 0.0f;
		float q = training ? (float)(sdyx / (double)n) : 0.0f;
		float k1 = k, k2 = -k * r * q, k0 = -k * a + k * r * q * mf;
		for (int b = 0; b < B; b++) {
			size_t o = ((size_t)b * C + c) * S;
			if (set)
				bn_dx_set(dinp + o, dout + o, inp + o, k1, k2, k0, (size_t)S);
			else
				bn_dx(dinp + o, dout + o, inp + o, k1, k2, k0, (size_t)S);
		}
	}
}

void nn_batchnorm_forward(float *out, float *mean, float *rstd, const float *inp,
			  const float *gamma, const float *beta, float *running_mean,
			  float *running_var, int B, int C, int S, float momentum, float eps,
			  int training)
{
	nn_bn_forward_range(out, mean, rstd, inp, gamma, beta, running_mean, running_var, B, C, S,
			    momentum, eps, training, 0, C);
}

void nn_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
			   const float *inp, const float *mean, const float *rstd,
			   const float *gamma, int B, int C, int S, int training)
{
	nn_bn_backward_range(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, B, C, S, training,
			     0, C, 0);
}

/* ---- Element-wise --------------------------------------------------------------------- */

void nn_relu_forward(float *restrict out, const float *restrict inp, size_t n)
{
	const nn_f4 zero = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		nn_f4 x = nn_ld4(inp + i);
		nn_st4(out + i, keep4(x, x > zero));
	}
	for (; i < n; i++)
		out[i] = inp[i] > 0 ? inp[i] : 0.0f;
}

void nn_relu_backward(float *restrict dinp, const float *restrict dout, const float *restrict out,
		      size_t n)
{
	const nn_f4 zero = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		nn_st4(dinp + i,
		       nn_ld4(dinp + i) + keep4(nn_ld4(dout + i), nn_ld4(out + i) > zero));
	for (; i < n; i++)
		dinp[i] += out[i] > 0 ? dout[i] : 0.0f;
}

void nn_relu_backward_set(float *restrict dinp, const float *restrict dout,
			  const float *restrict out, size_t n)
{
	const nn_f4 zero = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		nn_st4(dinp + i, keep4(nn_ld4(dout + i), nn_ld4(out + i) > zero));
	for (; i < n; i++)
		dinp[i] = out[i] > 0 ? dout[i] : 0.0f;
}

void nn_relu_cap_forward(float *restrict out, const float *restrict inp, size_t n, float hi)
{
	for (size_t i = 0; i < n; i++)
		out[i] = inp[i] > 0 ? (inp[i] < hi ? inp[i] : hi) : 0.0f;
}

void nn_relu_cap_backward(float *restrict dinp, const float *restrict dout,
			  const float *restrict out, size_t n, float hi)
{
	for (size_t i = 0; i < n; i++)
		dinp[i] += out[i] > 0 && out[i] < hi ? dout[i] : 0.0f;
}

void nn_leaky_relu_forward(float *restrict out, const float *restrict inp, size_t n, float slope)
{
	const nn_f4 zero = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		nn_f4 x = nn_ld4(inp + i);
		nn_i4 pos = x > zero;
		nn_st4(out + i, keep4(x, pos) + keep4(x * slope, ~pos));
	}
	for (; i < n; i++)
		out[i] = inp[i] > 0 ? inp[i] : inp[i] * slope;
}

void nn_leaky_relu_backward(float *restrict dinp, const float *restrict dout,
			    const float *restrict inp, size_t n, float slope)
{
	const nn_f4 zero = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		nn_f4 d = nn_ld4(dout + i);
		nn_i4 pos = nn_ld4(inp + i) > zero;
		nn_st4(dinp + i, nn_ld4(dinp + i) + (keep4(d, pos) + keep4(d * slope, ~pos)));
	}
	for (; i < n; i++)
		dinp[i] += inp[i] > 0 ? dout[i] : dout[i] * slope;
}

void nn_sigmoid_forward(float *out, const float *inp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = 1.0f / (1.0f + expf(-inp[i]));
}

void nn_sigmoid_backward(float *restrict dinp, const float *restrict dout,
			 const float *restrict out, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			dinp[i + j] += dout[i + j] * out[i + j] * (1.0f - out[i + j]);
	for (; i < n; i++)
		dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}

uint64_t nn_seed_mix(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v[3] = {a, b, c}, h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 3; i++) {
		uint64_t z = h ^ v[i];
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		h = (z ^ (z >> 31)) + 0x9e3779b97f4a7c15ULL;
	}
	return h;
}

void nn_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p, uint64_t seed)
{
	struct rng r;
	float keep = 1.0f / (1.0f - p);
	rng_init(&r, seed);
	for (size_t i = 0; i < n; i++) {
		mask[i] = rng_uniform(&r) < p ? 0.0f : keep;
		out[i] = inp[i] * mask[i];
	}
}

void nn_dropout_backward(float *restrict dinp, const float *restrict dout,
			 const float *restrict mask, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			dinp[i + j] += dout[i + j] * mask[i + j];
	for (; i < n; i++)
		dinp[i] += dout[i] * mask[i];
}

void nn_add_forward(float *restrict out, const float *restrict a, const float *restrict b, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			out[i + j] = a[i + j] + b[i + j];
	for (; i < n; i++)
		out[i] = a[i] + b[i];
}

/* y += x */
static void add_into(float *restrict y, const float *restrict x, size_t n)
{
	size_t i = 0;
	for (; i + NN_LANES <= n; i += NN_LANES)
		for (int j = 0; j < NN_LANES; j++)
			y[i + j] += x[i + j];
	for (; i < n; i++)
		y[i] += x[i];
}

void nn_add_backward(float *da, float *db, const float *dout, size_t n)
{
	if (da)
		add_into(da, dout, n);
	if (db)
		add_into(db, dout, n);
}

void nn_concat_forward(float *out, const float *a, const float *b, int B, int ca, int cb, int S)
{
	size_t na = (size_t)ca * S, nb = (size_t)cb * S;
	for (int i = 0; i < B; i++) {
		memcpy(out + i * (na + nb), a + i * na, sizeof(float) * na);
		memcpy(out + i * (na + nb) + na, b + i * nb, sizeof(float) * nb);
	}
}

void nn_concat_backward(float *da, float *db, const float *dout, int B, int ca, int cb, int S)
{
	size_t na = (size_t)ca * S, nb = (size_t)cb * S;
	for (int i = 0; i < B; i++) {
		const float *d = dout + i * (na + nb);
		if (da)
			nn_add_backward(da + i * na, NULL, d, na);
		if (db)
			nn_add_backward(db + i * nb, NULL, d + na, nb);
	}
}

void nn_concat_backward_set(float *da, float *db, const float *dout, int B, int ca, int cb, int S,
			    int set_a, int set_b)
{
	size_t na = (size_t)ca * S, nb = (size_t)cb * S;
	for (int i = 0; i < B; i++) {
		const float *d = dout + i * (na + nb);
		if (da && set_a)
			memcpy(da + i * na, d, sizeof(float) * na);
		else if (da)
			nn_add_backward(da + i * na, NULL, d, na);
		if (db && set_b)
			memcpy(db + i * nb, d + na, sizeof(float) * nb);
		else if (db)
			nn_add_backward(db + i * nb, NULL, d + na, nb);
	}
}

/* ---- Losses --------------------------------------------------------------------------- */

float nn_softmax_xent(float *dlogits, float *probs, const float *logits, const int *targets,
		      const float *class_weight, int B, int K)
{
	double loss = 0, wsum = 0;
	for (int b = 0; b < B; b++)
		wsum += class_weight ? class_weight[targets[b]] : 1.0;
	if (wsum <= 0)
		wsum = 1;
	for (int b = 0; b < B; b++) {
		const float *z = logits + (size_t)b * K;
		int y = targets[b];
		float mx = z[0];
		for (int k = 1; k < K; k++)
			if (z[k] > mx)
				mx = z[k];
		double s = exp((double)z[0] - mx); /* K >= 1 */
		for (int k = 1; k < K; k++)
			s += exp((double)z[k] - mx);
		double lse = mx + log(s), w = class_weight ? class_weight[y] : 1.0;
		loss += w * (lse - z[y]);
		for (int k = 0; k < K; k++) {
			double p = exp((double)z[k] - lse);
			if (probs)
				probs[(size_t)b * K + k] = (float)p;
			if (dlogits)
				dlogits[(size_t)b * K + k] = (float)(w * (p - (k == y)) / wsum);
		}
	}
	return (float)(loss / wsum);
}

void nn_softmax(float *probs, const float *logits, int B, int K)
{
	for (int b = 0; b < B; b++) {
		const float *z = logits + (size_t)b * K;
		float *p = probs + (size_t)b * K, mx = z[0];
		for (int k = 1; k < K; k++)
			if (z[k] > mx)
				mx = z[k];
		double s = 0;
		for (int k = 0; k < K; k++)
			s += exp((double)z[k] - mx);
		for (int k = 0; k < K; k++)
			p[k] = (float)(exp((double)z[k] - mx) / s);
	}
}

float nn_mse(float *dpred, const float *pred, const float *target, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)pred[i] - target[i];
		s += d * d;
		if (dpred)
			dpred[i] = (float)(2.0 * d / (double)n);
	}
	return n ? (float)(s / (double)n) : 0.0f;
}
