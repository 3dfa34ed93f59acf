/* Data augmentation of lib/nn: each distortion alone against what it must do, and the same
 * random stream giving the same result. */
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "nn/nn.h"
#include "check.h"

enum { C = 2, L = 40, H = 9, W = 12 };

static void test_curve(void)
{
	float x[C * L], y[C * L], z[C * L];
	struct rng r, r2;
	for (int i = 0; i < C * L; i++)
		x[i] = (float)sin(0.3 * i) + (i >= L ? 2.0f : 0.0f);

	rng_init(&r, 1);
	nn_aug_curve(y, x, C, L, &r, &(struct nn_aug_curve){0});
	check(!memcmp(x, y, sizeof(x)), "curve: nothing on, the same curve");

	int ok = 1, seen_shift = 0;
	for (int k = 0; k < 20; k++) {
		nn_aug_curve(y, x, C, L, &r, &(struct nn_aug_curve){.shift = 5});
		/* find the shift s with y[t] = x[t - s mod L] on channel 0, check both channels */
		int found = 0;
		for (int s = -5; s <= 5 && !found; s++) {
			int match = 1;
			for (int c = 0; c < C; c++)
				for (int t = 0; t < L; t++)
					match &= y[c * L + t] == x[c * L + ((t - s) % L + L) % L];
			found = match;
			seen_shift |= match && s != 0;
		}
		ok &= found;
	}
	check(ok && seen_shift, "curve: a circular shift of at most 5, the same on every channel");

	nn_aug_curve(y, x, C, L, &r, &(struct nn_aug_curve){.scale = 0.2f});
	double ratio = y[3] / x[3];
	ok = ratio >= 0.8 && ratio <= 1.2 && ratio != 1;
	for (int i = 0; i < C * L; i++)
		ok &= fabs(y[i] - ratio * x[i]) < 1e-5;
	check(ok, "curve: one amplitude factor in [0.8, 1.2] (%g)", ratio);

	float lo = 1e9f, hi = -1e9f;
	for (int t = 0; t < L; t++)
		lo = fminf(lo, x[t]), hi = fmaxf(hi, x[t]);
	nn_aug_curve(y, x, C, L, &r, &(struct nn_aug_curve){.warp = 0.1f});
	ok = y[0] == x[0] && fabs(y[L - 1] - x[L - 1]) < 1e-6 && memcmp(x, y, sizeof(x));
	for (int t = 0; t < L; t++)
		ok &= y[t] >= lo - 1e-6f && y[t] <= hi + 1e-6f;
	check(ok, "curve: the warp keeps the ends and interpolates between samples");

	nn_aug_curve(y, x, C, L, &r, &(struct nn_aug_curve){.noise = 0.1f});
	double ss = 0;
	for (int i = 0; i < C * L; i++)
		ss += (y[i] - x[i]) * (y[i] - x[i]);
	double sd = sqrt(ss / (C * L));
	check(sd > 0.05 && sd < 0.15, "curve: noise of std 0.1 (%.3f)", sd);

	struct nn_aug_curve all = {.shift = 3, .scale = 0.1f, .noise = 0.05f, .warp = 0.05f};
	rng_init(&r, 9), rng_init(&r2, 9);
	nn_aug_curve(y, x, C, L, &r, &all);
	nn_aug_curve(z, x, C, L, &r2, &all);
	check(!memcmp(y, z, sizeof(y)), "curve: the same stream, the same result");
}

static void test_image(void)
{
	float x[C * H * W], y[C * H * W], z[C * H * W];
	struct rng r, r2;
	for (int i = 0; i < C * H * W; i++)
		x[i] = (float)((i * 37) % 11) / 11.0f;
	rng_init(&r, 2);
	nn_aug_image(y, x, C, H, W, &r, &(struct nn_aug_image){0});
	check(!memcmp(x, y, sizeof(x)), "image: nothing on, the same image");

	nn_aug_image(y, x, C, H, W, &r, &(struct nn_aug_image){.flip = 1});
	int ok = 1;
	for (int c = 0; c < C; c++)
		for (int i = 0; i < H; i++)
			for (int j = 0; j < W; j++)
				ok &= y[(c * H + i) * W + j] == x[(c * H + i) * W + W - 1 - j];
	check(ok, "image: flip with probability 1 mirrors left and right");

	/* a constant image stays constant inside under rotation and zoom; outside is fill */
	float k[H * W], o[H * W];
	for (int i = 0; i < H * W; i++)
		k[i] = 0.7f;
	nn_aug_image(o, k, 1, H, W, &r, &(struct nn_aug_image){.rot = 0.3f, .zoom = 0.1f});
	check(fabs(o[(H / 2) * W + W / 2] - 0.7) < 1e-6, "image: rotation keeps a constant centre");
	nn_aug_image(o, k, 1, H, W, &r, &(struct nn_aug_image){.shift = 0.5f, .fill = -1});
	int filled = 0;
	for (int i = 0; i < H * W; i++)
		filled += o[i] < 0;
	check(filled > 0, "image: a large shift brings in fill (%d pixels)", filled);

	nn_aug_image(y, x, C, H, W, &r, &(struct nn_aug_image){.bright = 0.5f});
	double d = y[0] - x[0];
	ok = fabs(d) > 0 && fabs(d) <= 0.5;
	for (int i = 0; i < C * H * W; i++)
		ok &= fabs(y[i] - x[i] - d) < 1e-5;
	check(ok, "image: brightness adds one value (%.3f)", d);

	struct nn_aug_image all = {.rot = 0.2f,
				   .zoom = 0.1f,
				   .shift = 0.1f,
				   .flip = 0.5f,
				   .bright = 0.1f,
				   .contrast = 0.2f,
				   .noise = 0.02f};
	rng_init(&r, 5), rng_init(&r2, 5);
	nn_aug_image(y, x, C, H, W, &r, &all);
	nn_aug_image(z, x, C, H, W, &r2, &all);
	check(!memcmp(y, z, sizeof(y)) && memcmp(x, y, sizeof(x)),
	      "image: the same stream, the same result");
}

int main(void)
{
	test_curve();
	test_image();
	return check_done();
}
