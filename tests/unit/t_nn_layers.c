/* Every layer's backward pass of lib/nn against central finite differences of its forward pass
 * (inputs and parameters), on small random shapes; losses against formulas. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "core/rng.h"
#include "nn/nn.h"
#include "nn/nn_internal.h"
#include "check.h"

/* A tensor the loss depends on, with the gradient that backward computed for it. */
struct tref {
	float *x, *g;
	size_t n;
	const char *name;
};

/* The layer under test: fwd recomputes out from the tensors; the loss is sum(out * R). */
struct gcase {
	void (*fwd)(struct gcase *);
	float *out, *R;
	size_t nout;
	struct tref t[4];
	int nt;
	/* layer arguments */
	int B, C, S, h, w, k, flag;
	float f;
	struct nn_conv conv;
	struct nn_pool pool;
	float *scratch, *mean, *rstd, *rm, *rv, *mask;
	int *idx;
};

static struct rng rng;

static float *rand_vec(size_t n, float scale)
{
	float *v = xmallocarray(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(rng_normal(&rng) * scale);
	return v;
}

static float *zeros(size_t n)
{
	return xcalloc(n, sizeof(float));
}

static double loss_of(struct gcase *c)
{
	double s = 0;
	c->fwd(c);
	for (size_t i = 0; i < c->nout; i++)
		s += (double)c->out[i] * c->R[i];
	return s;
}

/* Compares each tensor's gradient with (L(x + h) - L(x - h)) / 2h element by element, h the
 * float step actually taken; the error is relative to the largest gradient of the tensor. */
static void gradcheck(struct gcase *c, const char *what, float eps, double tol)
{
	for (int k = 0; k < c->nt; k++) {
		struct tref *t = &c->t[k];
		double maxerr = 0, maxg = 0;
		for (size_t j = 0; j < t->n; j++) {
			float save = t->x[j];
			float up = save + eps, dn = save - eps;
			t->x[j] = up;
			double lp = loss_of(c);
			t->x[j] = dn;
			double lm = loss_of(c);
			t->x[j] = save;
			double num = (lp - lm) / ((double)up - (double)dn);
			double err = fabs(num - t->g[j]);
			if (err > maxerr)
				maxerr = err;
			if (fabs(num) > maxg)
				maxg = fabs(num);
		}
		check(maxerr <= tol * fmax(maxg, 1e-2),
		      "%s: d%s (max error %.3g, max gradient %.3g)", what, t->name, maxerr, maxg);
	}
	c->fwd(c);
}

static void release(struct gcase *c)
{
	free(c->out);
	free(c->R);
	for (int k = 0; k < c->nt; k++) {
		free(c->t[k].x);
		free(c->t[k].g);
	}
	free(c->scratch);
	free(c->mean);
	free(c->rstd);
	free(c->rm);
	free(c->rv);
	free(c->mask);
	free(c->idx);
	memset(c, 0, sizeof(*c));
}

static void add_t(struct gcase *c, const char *name, size_t n, float scale)
{
	c->t[c->nt].x = rand_vec(n, scale);
	c->t[c->nt].g = zeros(n);
	c->t[c->nt].n = n;
	c->t[c->nt].name = name;
	c->nt++;
}

static void set_out(struct gcase *c, size_t n)
{
	c->nout = n;
	c->out = zeros(n);
	c->R = rand_vec(n, 1);
}

/* ---- convolution ---- */

static void conv_fwd(struct gcase *c)
{
	nn_conv_forward(c->out, c->t[0].x, c->t[1].x, c->nt > 2 ? c->t[2].x : NULL, c->B, &c->conv,
			c->scratch);
}

static void test_conv_g(const char *what, int two, int cin, int cout, int h, int w, int k, int s,
			int p, int d, int bias, int groups)
{
	struct gcase c = {0};
	int rc = two ? nn_conv2d_setup(&c.conv, cin, cout, h, w, k, k, s, s, p, p, d, d)
		     : nn_conv1d_setup(&c.conv, cin, cout, w, k, s, p, d);
	if (groups > 1)
		rc = rc < 0 ? rc : nn_conv_set_groups(&c.conv, groups);
	check(rc == 0, "%s: geometry accepted", what);
	c.B = 2;
	c.fwd = conv_fwd;
	int kk = two ? k * k : k;
	add_t(&c, "inp", (size_t)c.B * cin * (two ? h : 1) * w, 1);
	add_t(&c, "weight", (size_t)cout * (cin / (groups > 1 ? groups : 1)) * kk, 0.5f);
	if (bias)
		add_t(&c, "bias", (size_t)cout, 0.5f);
	set_out(&c, (size_t)c.B * cout * c.conv.oh * c.conv.ow);
	c.scratch = zeros(nn_conv_scratch(&c.conv));
	conv_fwd(&c);
	nn_conv_backward(c.t[0].g, c.t[1].g, bias ? c.t[2].g : NULL, c.R, c.t[0].x, c.t[1].x, c.B,
			 &c.conv, c.scratch);
	gradcheck(&c, what, 1e-2f, 2e-3);
	release(&c);
}

static void test_conv(const char *what, int two, int cin, int cout, int h, int w, int k, int s,
		      int p, int d, int bias)
{
	test_conv_g(what, two, cin, cout, h, w, k, s, p, d, bias, 1);
}

/* A convolution forward and backward against the sums written out (doubles). The geometries
 * cover the blocks of output rows (8 inputs of 40x60: three blocks), the copies of whole rows
 * that im2col makes when stride is 1 and the output as wide as the input (taps reaching past
 * both edges, a plane narrower than the kernel, dilation), and the per-row path otherwise. */
static void test_conv_sums(const char *what, int CI, int CO, int H, int W, int KS, int st, int pd,
			   int dl)
{
	struct rng saved = rng; /* the later tests keep their data */
	struct nn_conv g;
	check(nn_conv2d_setup(&g, CI, CO, H, W, KS, KS, st, st, pd, pd, dl, dl) == 0,
	      "%s: geometry accepted", what);
	int OH = g.oh, OW = g.ow;
	size_t nx = (size_t)CI * H * W, ny = (size_t)CO * OH * OW, nw = (size_t)CO * CI * KS * KS;
	float *x = rand_vec(nx, 1), *w = rand_vec(nw, 0.5f), *dy = rand_vec(ny, 1);
	float *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *col = zeros(nn_conv_scratch(&g));
	double *ry = xcalloc(ny, sizeof(double)), *rdx = xcalloc(nx, sizeof(double));
	double *rdw = xcalloc(nw, sizeof(double)), ey = 0, edx = 0, edw = 0;
	nn_conv_forward(y, x, w, NULL, 1, &g, col);
	nn_conv_backward(dx, dw, NULL, dy, x, w, 1, &g, col);
	for (int o = 0; o < CO; o++)
		for (int c = 0; c < CI; c++)
			for (int i = 0; i < KS; i++)
				for (int j = 0; j < KS; j++) {
					size_t wi = (((size_t)o * CI + c) * KS + i) * KS + j;
					for (int oy = 0; oy < OH; oy++)
						for (int ox = 0; ox < OW; ox++) {
							int iy = oy * st - pd + i * dl;
							int ix = ox * st - pd + j * dl;
							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							size_t xi = ((size_t)c * H + iy) * W + ix;
							size_t yi = ((size_t)o * OH + oy) * OW + ox;
							ry[yi] += (double)w[wi] * x[xi];
							rdx[xi] += (double)w[wi] * dy[yi];
							rdw[wi] += (double)dy[yi] * x[xi];
						}
				}
	for (size_t i = 0; i < ny; i++)
		ey = fmax(ey, fabs(y[i] - ry[i]));
	for (size_t i = 0; i < nx; i++)
		edx = fmax(edx, fabs(dx[i] - rdx[i]));
	for (size_t i = 0; i < nw; i++) /* sums of up to 2,400 products */
		edw = fmax(edw, fabs(dw[i] - rdw[i]) / 100);
	check(ey < 1e-4 && edx < 1e-4 && edw < 1e-4,
	      "%s = the sums (errors: out %.3g, dinp %.3g, dweight %.3g / 100)", what, ey, edx,
	      edw);
	free(x), free(w), free(dy), free(y), free(dx), free(dw), free(col);
	free(ry), free(rdx), free(rdw);
	rng = saved;
}

static void test_conv_blocks(void)
{
	test_conv_sums("conv2d 8x40x60 in row blocks", 8, 4, 40, 60, 3, 1, 1, 1);
	test_conv_sums("conv2d 3x3 on 1 row", 3, 2, 1, 7, 3, 1, 1, 1);
	test_conv_sums("conv2d 5x5 pad 2 on 2x1", 2, 3, 2, 1, 5, 1, 2, 1);
	test_conv_sums("conv2d 5x5 pad 2 on 3x2", 2, 3, 3, 2, 5, 1, 2, 1);
	test_conv_sums("conv2d 3x3 dilation 2 pad 2", 3, 2, 6, 5, 3, 1, 2, 2);
	test_conv_sums("conv2d 3x3 dilation 3 pad 3 on 4x2", 2, 2, 4, 2, 3, 1, 3, 3);
	test_conv_sums("conv2d 3x3 pad 2 (wider output)", 2, 3, 5, 4, 3, 1, 2, 1);
	test_conv_sums("conv2d 3x3 stride 2", 3, 2, 7, 8, 3, 2, 1, 1);
	test_conv_sums("conv2d 16x20x24 in row blocks", 16, 8, 20, 24, 3, 1, 1, 1);
}

/* n floats of NaN: what a write must replace everywhere */
static float *nans(size_t n)
{
	float *v = xmallocarray(n, sizeof(float));
	for (size_t i = 0; i < n; i++)
		v[i] = NAN;
	return v;
}

/* a[i] == b[i] for all i (so -0 and 0 compare equal, NaN never) */
static int same_values(const float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(a[i] == b[i]))
			return 0;
	return 1;
}

/* The backward passes that write the input's gradient (nn_internal.h) against the ones that add
 * to it, started from zeros: the same values, and nothing of the old contents left. */
static void test_set_variants(void)
{
	struct rng saved = rng;
	/* convolutions: by correlation, pointwise, by col2im, grouped */
	const int geo[4][5] = {{3, 1, 1, 1, 1}, {1, 1, 0, 1, 1}, {3, 1, 3, 1, 1}, {3, 1, 1, 1, 2}};
	for (int k = 0; k < 4; k++) {
		struct nn_conv g;
		int B = 2, ci = 4, co = 6, ks = geo[k][0];
		nn_conv2d_setup(&g, ci, co, 5, 6, ks, ks, geo[k][1], geo[k][1], geo[k][2],
				geo[k][2], geo[k][3], geo[k][3]);
		if (geo[k][4] > 1)
			nn_conv_set_groups(&g, geo[k][4]);
		size_t nx = (size_t)B * ci * 5 * 6, ny = (size_t)B * co * g.oh * g.ow;
		size_t nw = (size_t)co * ci / (size_t)geo[k][4] * ks * ks;
		float *x = rand_vec(nx, 1), *w = rand_vec(nw, 1), *dy = rand_vec(ny, 1);
		float *dx0 = zeros(nx), *dx1 = nans(nx), *dw0 = zeros(nw), *dw1 = zeros(nw);
		float *col = zeros(nn_conv_scratch(&g));
		nn_conv_backward(dx0, dw0, NULL, dy, x, w, B, &g, col);
		nn_conv_backward_set(dx1, dw1, NULL, dy, x, w, B, &g, col);
		check(same_values(dx0, dx1, nx) && same_values(dw0, dw1, nw),
		      "conv2d %dx%d pad %d groups %d: writing dinp = adding to zeros", ks, ks,
		      geo[k][2], geo[k][4]);
		free(x), free(w), free(dy), free(dx0), free(dx1), free(dw0), free(dw1), free(col);
	}
	enum { N = 37, B = 2, CA = 3, CB = 2, S = 7 };
	float *y = rand_vec(N, 1), *d = rand_vec(N, 1), *r0 = zeros(N), *r1 = nans(N);
	nn_relu_backward(r0, d, y, N);
	nn_relu_backward_set(r1, d, y, N);
	check(same_values(r0, r1, N), "relu: writing dinp = adding to zeros");
	free(y), free(d), free(r0), free(r1);

	size_t na = (size_t)B * CA * S, nb = (size_t)B * CB * S, nc = na + nb;
	float *dc = rand_vec(nc, 1), *a0 = zeros(na), *b0 = rand_vec(nb, 1), *a1 = nans(na);
	float *b1 = xmallocarray(nb, sizeof(float));
	memcpy(b1, b0, nb * sizeof(float));
	nn_concat_backward(a0, b0, dc, B, CA, CB, S);
	nn_concat_backward_set(a1, b1, dc, B, CA, CB, S, 1, 0);
	check(same_values(a0, a1, na) && same_values(b0, b1, nb),
	      "concat: writing the first input's gradient, adding to the second's");
	free(dc), free(a0), free(b0), free(a1), free(b1);

	enum { C = 3, SS = 10 };
	size_t n = (size_t)B * C * SS;
	float *bx = rand_vec(n, 1), *bdy = rand_vec(n, 1), *bo = zeros(n), *g = rand_vec(C, 1);
	float *bt = rand_vec(C, 1), mean[C], rstd[C], rm[C] = {0}, rv[C] = {1, 1, 1};
	float *x0 = zeros(n), *x1 = nans(n), dg0[C] = {0}, db0[C] = {0}, dg1[C] = {0}, db1[C] = {0};
	nn_batchnorm_forward(bo, mean, rstd, bx, g, bt, rm, rv, B, C, SS, 0.1f, 1e-5f, 1);
	nn_bn_backward_range(x0, dg0, db0, bdy, bx, mean, rstd, g, B, C, SS, 1, 0, C, 0);
	nn_bn_backward_range(x1, dg1, db1, bdy, bx, mean, rstd, g, B, C, SS, 1, 0, C, 1);
	check(same_values(x0, x1, n) && same_values(dg0, dg1, C) && same_values(db0, db1, C),
	      "batchnorm: writing dinp = adding to zeros");
	free(bx), free(bdy), free(bo), free(g), free(bt), free(x0), free(x1);
	rng = saved;
}

/* Groups against the same convolution done a group at a time by hand: output slices equal. */
static void test_conv_groups_exact(void)
{
	struct nn_conv g, one;
	const int cin = 4, cout = 6, G = 2, h = 5, w = 5;
	float *x = rand_vec((size_t)cin * h * w, 1), *wt = rand_vec((size_t)cout * 2 * 9, 1);
	float *y = zeros((size_t)cout * h * w), *y1 = zeros((size_t)3 * h * w);
	nn_conv2d_setup(&g, cin, cout, h, w, 3, 3, 1, 1, 1, 1, 1, 1);
	check(nn_conv_set_groups(&g, G) == 0 && nn_conv_set_groups(&g, 4) < 0,
	      "groups must divide both channel counts");
	nn_conv_set_groups(&g, G);
	float *col = zeros(nn_conv_scratch(&g));
	nn_conv_forward(y, x, wt, NULL, 1, &g, col);
	nn_conv2d_setup(&one, 2, 3, h, w, 3, 3, 1, 1, 1, 1, 1, 1);
	int same = 1;
	for (int j = 0; j < G; j++) {
		nn_conv_forward(y1, x + (size_t)j * 2 * h * w, wt + (size_t)j * 3 * 2 * 9, NULL, 1,
				&one, col);
		same &= !memcmp(y1, y + (size_t)j * 3 * h * w, (size_t)3 * h * w * sizeof(float));
	}
	check(same, "a 2-group convolution is two convolutions on channel halves");
	free(x);
	free(wt);
	free(y);
	free(y1);
	free(col);
}

static void convt_fwd(struct gcase *c)
{
	nn_convt_forward(c->out, c->t[0].x, c->t[1].x, c->t[2].x, c->B, &c->conv, c->scratch);
}

static void test_convt(int cin, int cout, int h, int w, int k, int s, int p, int op, int d)
{
	struct gcase c = {0};
	check(nn_convt2d_setup(&c.conv, cin, cout, h, w, k, s, p, op, d) == 0,
	      "convt2d: geometry accepted");
	c.B = 2;
	c.fwd = convt_fwd;
	add_t(&c, "inp", (size_t)c.B * cin * h * w, 1);
	add_t(&c, "weight", (size_t)cin * cout * k * k, 0.5f);
	add_t(&c, "bias", (size_t)cout, 0.5f);
	set_out(&c, (size_t)c.B * cout * c.conv.h * c.conv.w);
	c.scratch = zeros(nn_conv_scratch(&c.conv));
	convt_fwd(&c);
	nn_convt_backward(c.t[0].g, c.t[1].g, c.t[2].g, c.R, c.t[0].x, c.t[1].x, c.B, &c.conv,
			  c.scratch);
	gradcheck(&c, "convt2d", 1e-2f, 2e-3);
	release(&c);
}

/* ---- dense ---- */

static void dense_fwd(struct gcase *c)
{
	nn_dense_forward(c->out, c->t[0].x, c->t[1].x, c->t[2].x, c->B, c->C, c->k);
}

static void test_dense(void)
{
	struct gcase c = {0};
	c.B = 3, c.C = 7, c.k = 4;
	c.fwd = dense_fwd;
	add_t(&c, "inp", (size_t)c.B * c.C, 1);
	add_t(&c, "weight", (size_t)c.k * c.C, 0.5f);
	add_t(&c, "bias", (size_t)c.k, 0.5f);
	set_out(&c, (size_t)c.B * c.k);
	dense_fwd(&c);
	nn_dense_backward(c.t[0].g, c.t[1].g, c.t[2].g, c.R, c.t[0].x, c.t[1].x, c.B, c.C, c.k);
	gradcheck(&c, "dense", 1e-2f, 2e-3);
	release(&c);
}

/* ---- pooling ---- */

static void pool_fwd(struct gcase *c)
{
	if (c->flag)
		nn_maxpool_forward(c->out, c->idx, c->t[0].x, c->B, &c->pool);
	else
		nn_avgpool_forward(c->out, c->t[0].x, c->B, &c->pool);
}

static void test_pool(const char *what, int max, int two, int ch, int h, int w, int k, int s, int p)
{
	struct gcase c = {0};
	int rc = two ? nn_pool2d_setup(&c.pool, ch, h, w, k, s, p)
		     : nn_pool1d_setup(&c.pool, ch, w, k, s, p);
	check(rc == 0, "%s: geometry accepted", what);
	c.B = 2, c.flag = max;
	c.fwd = pool_fwd;
	add_t(&c, "inp", (size_t)c.B * ch * (two ? h : 1) * w, 1);
	set_out(&c, (size_t)c.B * ch * c.pool.oh * c.pool.ow);
	c.idx = xmallocarray(c.nout, sizeof(int));
	pool_fwd(&c);
	if (max)
		nn_maxpool_backward(c.t[0].g, c.R, c.idx, c.B, &c.pool);
	else
		nn_avgpool_backward(c.t[0].g, c.R, c.B, &c.pool);
	/* small steps: a max must not change its argmax */
	gradcheck(&c, what, 1e-3f, 5e-3);
	release(&c);
}

/* 2x2 max pooling by 2 (its own loop) against the rule written out: the first maximum in
 * row-major window order wins, a NaN wins and stays; ties, NaNs and a negative zero placed on
 * purpose; odd sides (the last row and column are dropped), rows of 9 outputs (two blocks of 4
 * and one more). */
static void test_maxpool_2x2_rule(void)
{
	enum { C = 3, H = 5, W = 19, OH = 2, OW = 9 };
	struct rng saved = rng; /* the later tests keep their data */
	struct nn_pool g;
	float x[C * H * W], y[C * OH * OW];
	int idx[C * OH * OW], bad = 0;
	check(nn_pool2d_setup(&g, C, H, W, 2, 2, 0) == 0 && g.oh == OH && g.ow == OW,
	      "maxpool 2x2 on 5x19: 2x9 out");
	for (int i = 0; i < C * H * W; i++)
		x[i] = (float)rng_below(&rng, 4); /* few values: many ties */
	x[0 * H * W + 0 * W + 1] = NAN;		  /* channel 0, window (0,0): NaN second */
	x[1 * H * W + 1 * W + 2] = NAN;		  /* channel 1, window (0,1): NaN third... */
	x[1 * H * W + 1 * W + 3] = NAN;		  /* ...and fourth: the first NaN stays */
	x[2 * H * W + 2 * W + 2] = 9;		  /* channel 2, window (1,1): a clear maximum */
	for (int i = 0; i < 4;
	     i++) /* channel 2, window (0,6): all zeros, the first a -0 that wins */
		x[2 * H * W + (i / 2) * W + 12 + i % 2] = i ? 0.0f : -0.0f;
	nn_maxpool_forward(y, idx, x, 1, &g);
	for (int c = 0; c < C; c++)
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				const float *p = x + c * H * W;
				int bi = 2 * oy * W + 2 * ox;
				for (int i = 0; i < 2; i++)
					for (int j = 0; j < 2; j++) {
						int at = (2 * oy + i) * W + 2 * ox + j;
						if (isnan(p[bi]))
							continue;
						if (isnan(p[at]) || p[at] > p[bi])
							bi = at;
					}
				int o = (c * OH + oy) * OW + ox;
				float want = p[bi];
				bad += idx[o] != bi ||
				       (isnan(want) ? !isnan(y[o]) : memcmp(&y[o], &want, 4) != 0);
			}
	check(bad == 0, "maxpool 2x2: first maximum wins, NaN wins and stays (%d wrong)", bad);
	check(idx[(1 * OH + 0) * OW + 1] == 1 * W + 2 && isnan(y[(1 * OH + 0) * OW + 1]),
	      "maxpool 2x2: the first of two NaNs is the argmax");
	rng = saved;
}

static void gap_fwd(struct gcase *c)
{
	nn_gap_forward(c->out, c->t[0].x, c->B, c->C, c->S);
}

static void test_gap(void)
{
	struct gcase c = {0};
	c.B = 2, c.C = 3, c.S = 10;
	c.fwd = gap_fwd;
	add_t(&c, "inp", (size_t)c.B * c.C * c.S, 1);
	set_out(&c, (size_t)c.B * c.C);
	gap_fwd(&c);
	nn_gap_backward(c.t[0].g, c.R, c.B, c.C, c.S);
	gradcheck(&c, "gap", 1e-2f, 2e-3);
	release(&c);
}

static void up_fwd(struct gcase *c)
{
	nn_upsample_forward(c->out, c->t[0].x, c->B, c->C, c->h, c->w, c->k, c->S, c->flag);
}

/* A 2x2 plane upsampled by 2, bilinear: PyTorch's align_corners=False values by hand (rows at
 * source y -0.25 (clamped to 0), 0.25, 0.75, 1.25 (its last neighbour doubled)). */
static void test_upsample_values(void)
{
	const float x[4] = {0, 1, 2, 3};
	const float want[16] = {0,    0.25f, 0.75f, 1,	  0.5f, 0.75f, 1.25f, 1.5f,
				1.5f, 1.75f, 2.25f, 2.5f, 2,	2.25f, 2.75f, 3};
	float y[16], dx[4] = {0}, ones[16];
	double err = 0;
	nn_upsample_forward(y, x, 1, 1, 2, 2, 2, 2, 1);
	for (int i = 0; i < 16; i++)
		err = fmax(err, fabs(y[i] - want[i]));
	check(err == 0, "upsample bilinear 2x: PyTorch's values (max error %.3g)", err);
	for (int i = 0; i < 16; i++)
		ones[i] = 1;
	/* each input pixel's weights over the output sum to 4 (the corners' too) */
	nn_upsample_backward(dx, ones, 1, 1, 2, 2, 2, 2, 1);
	check(dx[0] == 4 && dx[1] == 4 && dx[2] == 4 && dx[3] == 4,
	      "upsample bilinear 2x: backward of ones gives 4 a pixel (%g %g %g %g)", dx[0], dx[1],
	      dx[2], dx[3]);
}

static void test_upsample(const char *what, int h, int w, int sh, int sw, int bilinear)
{
	struct gcase c = {0};
	c.B = 2, c.C = 2, c.h = h, c.w = w, c.k = sh, c.S = sw, c.flag = bilinear;
	c.fwd = up_fwd;
	add_t(&c, "inp", (size_t)c.B * c.C * h * w, 1);
	set_out(&c, (size_t)c.B * c.C * h * sh * w * sw);
	up_fwd(&c);
	nn_upsample_backward(c.t[0].g, c.R, c.B, c.C, h, w, sh, sw, bilinear);
	gradcheck(&c, what, 1e-2f, 2e-3);
	release(&c);
}

/* ---- batch norm ---- */

static void bn_fwd(struct gcase *c)
{
	nn_batchnorm_forward(c->out, c->mean, c->rstd, c->t[0].x, c->t[1].x, c->t[2].x, c->rm,
			     c->rv, c->B, c->C, c->S, 0.1f, 1e-5f, c->flag);
}

static void test_bn(const char *what, int training, int S)
{
	struct gcase c = {0};
	c.B = 3, c.C = 2, c.S = S, c.flag = training;
	c.fwd = bn_fwd;
	add_t(&c, "inp", (size_t)c.B * c.C * c.S, 1);
	for (size_t i = 0; i < c.t[0].n; i++)
		c.t[0].x[i] += 3; /* a mean far from 0 */
	add_t(&c, "gamma", (size_t)c.C, 0.5f);
	add_t(&c, "beta", (size_t)c.C, 0.5f);
	c.mean = zeros((size_t)c.C), c.rstd = zeros((size_t)c.C);
	c.rm = zeros((size_t)c.C), c.rv = zeros((size_t)c.C);
	for (int i = 0; i < c.C; i++)
		c.rm[i] = 2.5f + 0.1f * (float)i, c.rv[i] = 0.7f + 0.2f * (float)i;
	set_out(&c, (size_t)c.B * c.C * c.S);
	bn_fwd(&c);
	nn_batchnorm_backward(c.t[0].g, c.t[1].g, c.t[2].g, c.R, c.t[0].x, c.mean, c.rstd, c.t[1].x,
			      c.B, c.C, c.S, training);
	gradcheck(&c, what, 1e-2f, 5e-3);
	release(&c);
}

/* ---- element-wise ---- */

enum ew { EW_RELU, EW_RELU6, EW_LEAKY, EW_SIGMOID, EW_DROPOUT, EW_ADD, EW_CONCAT };

static void ew_fwd(struct gcase *c)
{
	size_t n = c->t[0].n;
	switch (c->flag) {
	case EW_RELU:
		nn_relu_forward(c->out, c->t[0].x, n);
		break;
	case EW_RELU6: /* a cap inside the inputs' range, so that both bounds are crossed */
		nn_relu_cap_forward(c->out, c->t[0].x, n, 0.5f);
		break;
	case EW_LEAKY:
		nn_leaky_relu_forward(c->out, c->t[0].x, n, 0.1f);
		break;
	case EW_SIGMOID:
		nn_sigmoid_forward(c->out, c->t[0].x, n);
		break;
	case EW_DROPOUT:
		nn_dropout_forward(c->out, c->mask, c->t[0].x, n, 0.3f, 42);
		break;
	case EW_ADD:
		nn_add_forward(c->out, c->t[0].x, c->t[1].x, n);
		break;
	case EW_CONCAT:
		nn_concat_forward(c->out, c->t[0].x, c->t[1].x, c->B, 2, 3, c->S);
		break;
	}
}

static void test_ew(const char *what, int kind)
{
	struct gcase c = {0};
	c.B = 2, c.S = 5, c.flag = kind;
	c.fwd = ew_fwd;
	add_t(&c, "a", (size_t)c.B * 2 * c.S, 1);
	if (kind == EW_ADD)
		add_t(&c, "b", (size_t)c.B * 2 * c.S, 1);
	if (kind == EW_CONCAT)
		add_t(&c, "b", (size_t)c.B * 3 * c.S, 1);
	set_out(&c, kind == EW_CONCAT ? (size_t)c.B * 5 * c.S : (size_t)c.B * 2 * c.S);
	c.mask = zeros(c.nout);
	ew_fwd(&c);
	size_t n = c.t[0].n;
	switch (kind) {
	case EW_RELU:
		nn_relu_backward(c.t[0].g, c.R, c.out, n);
		break;
	case EW_RELU6:
		nn_relu_cap_backward(c.t[0].g, c.R, c.out, n, 0.5f);
		break;
	case EW_LEAKY:
		nn_leaky_relu_backward(c.t[0].g, c.R, c.t[0].x, n, 0.1f);
		break;
	case EW_SIGMOID:
		nn_sigmoid_backward(c.t[0].g, c.R, c.out, n);
		break;
	case EW_DROPOUT: {
		int zero = 0, kept = 0;
		for (size_t i = 0; i < n; i++) {
			zero += c.mask[i] == 0;
			kept += fabsf(c.mask[i] - 1 / 0.7f) < 1e-6f;
		}
		check(zero > 0 && kept > 0 && zero + kept == (int)n,
		      "dropout: mask is 0 or 1/(1-p) (%d dropped of %zu)", zero, n);
		nn_dropout_backward(c.t[0].g, c.R, c.mask, n);
		break;
	}
	case EW_ADD:
		nn_add_backward(c.t[0].g, c.t[1].g, c.R, n);
		break;
	case EW_CONCAT:
		nn_concat_backward(c.t[0].g, c.t[1].g, c.R, c.B, 2, 3, c.S);
		break;
	}
	gradcheck(&c, what, 1e-3f, 5e-3);
	release(&c);
}

/* ---- losses ---- */

struct xent_ctx {
	int B, K;
	int y[4];
	float w[3];
};

static void test_losses(void)
{
	int B = 4, K = 3, y[4] = {0, 2, 1, 2};
	float w[3] = {1, 2, 0.5f};
	float *z = rand_vec((size_t)B * K, 2), dz[12], probs[12];
	for (int weighted = 0; weighted < 2; weighted++) {
		const float *cw = weighted ? w : NULL;
		float L = nn_softmax_xent(dz, probs, z, y, cw, B, K);
		/* the loss by its formula, in double */
		double num = 0, den = 0;
		for (int b = 0; b < B; b++) {
			double s = 0;
			for (int k = 0; k < K; k++)
				s += exp(z[b * K + k]);
			double wb = cw ? cw[y[b]] : 1;
			num += wb * (log(s) - z[b * K + y[b]]);
			den += wb;
		}
		check_close(L, num / den, 1e-6, "softmax cross-entropy %s = formula (%g)",
			    weighted ? "with class weights" : "", (double)L);
		double maxerr = 0;
		for (int i = 0; i < B * K; i++) {
			float save = z[i];
			z[i] = save + 1e-2f;
			double lp = nn_softmax_xent(NULL, NULL, z, y, cw, B, K);
			z[i] = save - 1e-2f;
			double lm = nn_softmax_xent(NULL, NULL, z, y, cw, B, K);
			z[i] = save;
			maxerr = fmax(maxerr, fabs((lp - lm) / 2e-2 - dz[i]));
		}
		check(maxerr < 1e-3, "softmax cross-entropy %s: gradient (max error %.3g)",
		      weighted ? "with class weights" : "", maxerr);
	}
	double psum = probs[0] + probs[1] + probs[2];
	check_close(psum, 1, 1e-6, "softmax probabilities sum to 1");
	float p2[12];
	nn_softmax(p2, z, B, K);
	double perr = 0;
	for (int i = 0; i < B * K; i++)
		perr = fmax(perr, fabs(p2[i] - probs[i]));
	check(perr < 1e-7, "nn_softmax = the loss's probabilities (max difference %.3g)", perr);

	float p[5] = {1, 2, 3, 4, 5}, t[5] = {1, 1, 1, 1, 0}, dp[5];
	float m = nn_mse(dp, p, t, 5);
	check_close(m, (0 + 1 + 4 + 9 + 25) / 5.0, 1e-6, "mse = mean of squares");
	check_close(dp[4], 2 * 5 / 5.0, 1e-6, "mse gradient 2 (p - t) / n");
	free(z);
}

int main(void)
{
	rng_init(&rng, 7);
	test_conv("conv2d 3x3", 1, 2, 3, 5, 6, 3, 1, 1, 1, 1);
	test_conv("conv2d stride 2 pad 2 dilation 2", 1, 2, 3, 7, 6, 3, 2, 2, 2, 1);
	test_conv("conv2d 1x1 no bias", 1, 3, 2, 4, 5, 1, 1, 0, 1, 0);
	test_conv("conv2d 2x2 stride 2 no pad", 1, 2, 2, 5, 5, 2, 2, 0, 1, 1);
	/* stride 1: the input's gradient by correlation with the flipped kernel, here with more
	 * inputs than outputs and with dilation; a padding past the kernel's span takes col2im */
	test_conv("conv2d 3x3 5 in 2 out", 1, 5, 2, 4, 6, 3, 1, 1, 1, 0);
	test_conv("conv2d 3x3 dilation 2 pad 1 stride 1", 1, 2, 3, 6, 7, 3, 1, 1, 2, 1);
	test_conv("conv2d 3x3 pad 3 (col2im)", 1, 2, 3, 4, 5, 3, 1, 3, 1, 1);
	test_conv("conv1d k5 pad 2", 0, 3, 4, 1, 11, 5, 1, 2, 1, 1);
	test_conv_g("conv2d 2 groups", 1, 4, 6, 5, 5, 3, 1, 1, 1, 1, 2);
	test_conv_g("conv2d depthwise stride 2", 1, 3, 3, 6, 5, 3, 2, 1, 1, 0, 3);
	test_conv_groups_exact();
	test_set_variants();
	test_conv_blocks();
	test_conv("conv1d k3 stride 2 dilation 3", 0, 2, 3, 1, 13, 3, 2, 1, 3, 1);
	test_convt(3, 2, 3, 4, 3, 2, 1, 1, 1);
	test_convt(2, 2, 3, 3, 2, 2, 0, 0, 1);
	test_dense();
	test_pool("maxpool2d 2x2", 1, 1, 2, 4, 6, 2, 2, 0);
	test_maxpool_2x2_rule();
	test_pool("maxpool2d 3x3 stride 2 pad 1", 1, 1, 2, 5, 5, 3, 2, 1);
	test_pool("maxpool1d k3 stride 1 pad 1", 1, 0, 2, 1, 9, 3, 1, 1);
	test_pool("maxpool1d k2 (pairs)", 1, 0, 3, 1, 11, 2, 2, 0);
	test_pool("avgpool2d 3x3 stride 2 pad 1", 0, 1, 2, 5, 6, 3, 2, 1);
	test_pool("avgpool1d k2", 0, 0, 3, 1, 8, 2, 2, 0);
	test_gap();
	test_upsample("upsample nearest 2x", 3, 4, 2, 2, 0);
	test_upsample("upsample bilinear 2x", 3, 4, 2, 2, 1);
	test_upsample_values();
	test_upsample("upsample bilinear 3x", 2, 3, 3, 3, 1);
	test_upsample("upsample linear 1-D", 1, 5, 1, 2, 1);
	test_bn("batchnorm training (C,H,W)", 1, 6);
	test_bn("batchnorm training (F)", 1, 1);
	test_bn("batchnorm eval", 0, 4);
	test_ew("relu", EW_RELU);
	test_ew("relu capped (relu6)", EW_RELU6);
	test_ew("leaky relu", EW_LEAKY);
	test_ew("sigmoid", EW_SIGMOID);
	test_ew("dropout", EW_DROPOUT);
	test_ew("add", EW_ADD);
	test_ew("concat", EW_CONCAT);
	test_losses();
	return check_done();
}
