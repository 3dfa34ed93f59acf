/* Data augmentation for training: random but reproducible distortions of curves and images,
 * every random number drawn from the caller's struct rng in a fixed order. */
#include <math.h>

#include "core/rng.h"
#include "nn/nn.h"

/* Uniform in [-1, 1). */
static double sym(struct rng *r)
{
	return 2 * rng_uniform(r) - 1;
}

void nn_aug_curve(float *out, const float *inp, int C, int L, struct rng *r,
		  const struct nn_aug_curve *a)
{
	/* all draws first, so that the stream does not depend on which parts are on */
	double u_shift = rng_uniform(r), u_scale = sym(r), u_warp = sym(r);
	int shift = a->shift > 0 ? (int)(u_shift * (2 * a->shift + 1)) - a->shift : 0;
	double amp = 1 + a->scale * u_scale;
	/* src(t) = t + d sin(pi t / (L - 1)) stays increasing while |d| pi / (L - 1) < 1 */
	double d = a->warp * L * u_warp, dmax = L > 1 ? 0.9 * (L - 1) / M_PI : 0;
	if (d > dmax)
		d = dmax;
	if (d < -dmax)
		d = -dmax;
	for (int t = 0; t < L; t++) {
		double src = t + (L > 1 ? d * sin(M_PI * t / (L - 1)) : 0) - shift;
		double fl = floor(src), f = src - fl;
		long i0 = ((long)fl % L + L) % L, i1 = (i0 + 1) % L;
		for (int c = 0; c < C; c++) {
			const float *x = inp + (size_t)c * L;
			double v = f == 0 ? x[i0] : (1 - f) * x[i0] + f * x[i1];
			out[(size_t)c * L + t] = (float)(amp * v);
		}
	}
	if (a->noise > 0)
		for (size_t i = 0; i < (size_t)C * L; i++)
			out[i] += (float)(a->noise * rng_normal(r));
}

/* inp's plane at (y, x) by bilinear interpolation; fill outside. */
static double bilinear(const float *p, int H, int W, double y, double x, double fill)
{
	double fy = floor(y), fx = floor(x), ty = y - fy, tx = x - fx, v = 0;
	int y0 = (int)fy, x0 = (int)fx;
	if (y < -1 || x < -1 || y > H || x > W)
		return fill;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			double w = (i ? ty : 1 - ty) * (j ? tx : 1 - tx);
			int yy = y0 + i, xx = x0 + j;
			if (w == 0)
				continue;
			v += w * (yy < 0 || yy >= H || xx < 0 || xx >= W ? fill : p[yy * W + xx]);
		}
	return v;
}

int nn_aug_image_points(float *out, const float *inp, int C, int H, int W, struct rng *r,
			const struct nn_aug_image *a, float *xy, size_t npts)
{
	double th = a->rot * sym(r), s = 1 + a->zoom * sym(r);
	double tx = a->shift * W * sym(r), ty = a->shift * H * sym(r);
	int flip = rng_uniform(r) < a->flip;
	double bright = a->bright * sym(r), contrast = 1 + a->contrast * sym(r);
	double cx = (W - 1) / 2.0, cy = (H - 1) / 2.0, cs = cos(th) / s, sn = sin(th) / s;
	size_t n = (size_t)C * H * W;

	/* points go forward: the inverse of the map below (a rotation scaled by 1 / s, whose
	 * inverse is the opposite rotation scaled by s) */
	for (size_t i = 0; i < npts; i++) {
		double px = xy[2 * i], py = xy[2 * i + 1], ux, uy;
		if (flip)
			px = W - 1 - px;
		ux = px - cx;
		uy = py - cy;
		xy[2 * i] = (float)(s * (cos(th) * ux - sin(th) * uy) + cx + tx);
		xy[2 * i + 1] = (float)(s * (sin(th) * ux + cos(th) * uy) + cy + ty);
	}

	/* inverse map: each output pixel reads the input where the transform put it from */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			double dx = x - cx - tx, dy = y - cy - ty;
			double sx = cs * dx + sn * dy + cx, sy = -sn * dx + cs * dy + cy;
			if (flip)
				sx = W - 1 - sx;
			for (int c = 0; c < C; c++)
				out[((size_t)c * H + y) * W + x] =
				    (float)bilinear(inp + (size_t)c * H * W, H, W, sy, sx, a->fill);
		}
	if (bright != 0 || contrast != 1) {
		double m = 0;
		for (size_t i = 0; i < n; i++)
			m += out[i];
		m /= (double)n;
		for (size_t i = 0; i < n; i++)
			out[i] = (float)((out[i] - m) * contrast + m + bright);
	}
	if (a->noise > 0)
		for (size_t i = 0; i < n; i++)
			out[i] += (float)(a->noise * rng_normal(r));
	return flip;
}

void nn_aug_image(float *out, const float *inp, int C, int H, int W, struct rng *r,
		  const struct nn_aug_image *a)
{
	nn_aug_image_points(out, inp, C, H, W, r, a, NULL, 0);
}
