/* Unit tests of lib/vision/confmap: target values against hand-computed Gaussians, peak
 * refinement against hand-computed offsets, several animals' peaks in one map, crops centred
 * on an instance and the way back from a crop, bad geometry. */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "vision/confmap.h"
#include "check.h"

static struct pose_point pt(float x, float y, int vis)
{
	struct pose_point p = {x, y, (unsigned char)vis};
	return p;
}

static void test_geom(void)
{
	struct confmap_geom g;
	struct err e = ERR_INIT;
	check(confmap_geom_init(&g, 640, 480, 4, 10, &e) == 0 && g.out_w == 160 && g.out_h == 120,
	      "640x480 at stride 4 gives 160x120 maps");
	check(confmap_geom_init(&g, 640, 480, 3, 10, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "--output-stride 3 does not divide the input size 640x480"),
	      "a stride that does not divide the input: %s", e.msg);
	err_clear(&e);
	check(confmap_geom_init(&g, 64, 48, 0, 10, &e) < 0 && e.code == DYN_EUSAGE,
	      "stride 0 refused");
	err_clear(&e);
	check(confmap_geom_init(&g, 64, 48, 2, 0, &e) < 0 && e.code == DYN_EUSAGE &&
		  strstr(e.msg, "--sigma 0"),
	      "sigma 0 refused: %s", e.msg);
	err_clear(&e);
	check(confmap_geom_init(&g, 64, 48, 2, -1, &e) < 0, "sigma < 0 refused");
	err_clear(&e);
	check(confmap_geom_init(&g, 64, 48, 2, NAN, &e) < 0, "sigma NaN refused");
}

static void test_targets(void)
{
	struct confmap_geom g;
	struct err e = ERR_INIT;
	struct pose_point p[3] = {pt(3, 2, POSE_VISIBLE), pt(NAN, NAN, POSE_MISSING),
				  pt(5, 5, POSE_OCCLUDED)};
	float m[3 * 12];
	bool zero = true;
	confmap_geom_init(&g, 8, 6, 2, 2, &e);
	confmap_make(&g, p, 3, m);
	/* grid x = 0, 2, 4, 6; y = 0, 2, 4; 2 sigma^2 = 8 */
	check_close(m[1 * 4 + 1], 0.88249690258459546, 1e-6, "(x 2, y 2): exp(-1/8)");
	check_close(m[0 * 4 + 2], 0.53526142851899028, 1e-6, "(x 4, y 0): exp(-5/8)");
	check_close(m[2 * 4 + 3], 0.19691167520419406, 1e-6, "(x 6, y 4): exp(-13/8)");
	check_close(m[1 * 4 + 0], 0.32465246735834974, 1e-6, "(x 0, y 2): exp(-9/8)");
	for (int i = 12; i < 36; i++)
		zero &= m[i] == 0;
	check(zero, "a missing and an occluded point give all-zero maps");

	{
		/* A point on the grid peaks at exactly 1. */
		struct pose_point q = pt(4, 2, POSE_VISIBLE);
		confmap_make(&g, &q, 1, m);
		check(m[1 * 4 + 2] == 1.0f, "a point on the grid gives 1 there");
	}
	{
		/* Two instances: the larger of the two Gaussians in each pixel. */
		struct pose_point two[2] = {pt(0, 0, POSE_VISIBLE), pt(6, 4, POSE_VISIBLE)};
		confmap_make_multi(&g, two, 2, 1, m);
		check(m[0] == 1.0f && m[2 * 4 + 3] == 1.0f, "both instances peak at 1");
		check_close(m[1 * 4 + 1], 0.36787944117144233, 1e-6,
			    "(x 2, y 2): max(exp(-8/8), exp(-20/8)) = exp(-1)");
		confmap_make_multi(&g, two, 0, 1, m);
		check(m[0] == 0 && m[11] == 0, "no instance: zero maps");
	}
}

static void test_peaks(void)
{
	struct confmap_geom g;
	struct err e = ERR_INIT;
	struct confmap_peak pk[2], pk3[3];
	/* 5x3 map at stride 4: the peak at (row 1, column 2). */
	float m[2 * 15] = {0, 0, 0.25f, 0, 0, 0, 0.5f, 1, 0.75f, 0, 0, 0, 0.25f, 0, 0};
	confmap_geom_init(&g, 20, 12, 4, 2, &e);
	for (int i = 15; i < 30; i++)
		m[i] = 0.1f; /* second node: flat and below the threshold */
	confmap_peaks(&g, m, 2, CONFMAP_REFINE_NONE, 0.2f, pk);
	check(pk[0].x == 8 && pk[0].y == 4 && pk[0].score == 1, "no refinement: the pixel times 4");
	check(isnan(pk[1].x) && isnan(pk[1].y) && fabsf(pk[1].score - 0.1f) < 1e-7f,
	      "under the threshold: NaN, score kept");
	confmap_peaks(&g, m, 1, CONFMAP_REFINE_QUADRATIC, 0.2f, pk);
	/* dx = (0.5 - 0.75) / (2 (0.5 - 2 + 0.75)) = 1/6; dy = 0 */
	check_close(pk[0].x, (2 + 1.0 / 6) * 4, 1e-5, "quadratic x: (2 + 1/6) * 4 = %g",
		    (double)pk[0].x);
	check_close(pk[0].y, 4, 1e-6, "quadratic y: symmetric neighbours, 4");
	confmap_peaks(&g, m, 1, CONFMAP_REFINE_INTEGRAL, 0.2f, pk);
	/* patch rows 0..2, columns 0..4: sum 2.75, x moments -0.5 + 0.75 */
	check_close(pk[0].x, (2 + 0.25 / 2.75) * 4, 1e-5, "integral x: (2 + 1/11) * 4 = %g",
		    (double)pk[0].x);
	check_close(pk[0].y, 4, 1e-6, "integral y: 4");

	{
		/* A Gaussian of sigma 1 (grid pixels) at column 2.3, row 1: logarithms -1.69/2,
		 * -0.09/2, -0.49/2 at columns 1, 2, 3, whose parabola peaks at 0.3 exactly. */
		float gm[15] = {
		    0, 0, 0, 0, 0, 0, (float)exp(-0.845), (float)exp(-0.045), (float)exp(-0.245),
		    0, 0, 0, 0, 0, 0};
		confmap_peaks(&g, gm, 1, CONFMAP_REFINE_GAUSSIAN, 0.2f, pk);
		check_close(pk[0].x, 2.3 * 4, 1e-5, "gaussian x: (2 + 0.3) * 4 = %g",
			    (double)pk[0].x);
		check_close(pk[0].y, 4, 1e-6, "gaussian y: zero neighbours, the quadratic's 4");
		confmap_peaks(&g, gm, 1, CONFMAP_REFINE_QUADRATIC, 0.2f, pk);
		check(fabs(pk[0].x - 9.2) > 0.05, "quadratic on the same values is off (%g)",
		      (double)pk[0].x);
	}
	{
		/* Targets at stride 4, sigma 5 (a quarter-scale openfield setting): their peaks
		 * give the points back. */
		struct confmap_geom g4;
		struct pose_point p[3] = {pt(101.3f, 57.9f, POSE_VISIBLE),
					  pt(13.01f, 88.5f, POSE_VISIBLE),
					  pt(150.0f, 3.75f, POSE_VISIBLE)};
		float *t = xmallocarray(3 * 40 * 30, sizeof(float));
		double worst = 0;
		confmap_geom_init(&g4, 160, 120, 4, 5, &e);
		confmap_make(&g4, p, 3, t);
		confmap_peaks(&g4, t, 3, CONFMAP_REFINE_GAUSSIAN, 0.2f, pk3);
		for (int n = 0; n < 3; n++)
			worst = fmax(worst, hypot(pk3[n].x - p[n].x, pk3[n].y - p[n].y));
		check(worst < 1e-3, "gaussian refinement on targets: worst error %g px", worst);
		free(t);
	}
	{
		/* At the border the parabola has one side: no offset. */
		float b[6] = {1, 0.5f, 0, 0.5f, 0.25f, 0};
		struct confmap_geom g2;
		confmap_geom_init(&g2, 3, 2, 1, 1, &e);
		confmap_peaks(&g2, b, 1, CONFMAP_REFINE_QUADRATIC, 0, pk);
		check(pk[0].x == 0 && pk[0].y == 0, "a peak at the border is not moved");
	}
	{
		/* A Gaussian target's peak found back within a tenth of a pixel. */
		struct confmap_geom g3;
		struct pose_point p = pt(10.3f, 7.6f, POSE_VISIBLE);
		float *t = xmallocarray(24 * 16, sizeof(float));
		confmap_geom_init(&g3, 24, 16, 1, 1.5, &e);
		confmap_make(&g3, &p, 1, t);
		confmap_peaks(&g3, t, 1, CONFMAP_REFINE_QUADRATIC, 0.2f, pk);
		check(fabs(pk[0].x - 10.3) < 0.1 && fabs(pk[0].y - 7.6) < 0.1,
		      "quadratic on a target: (%g, %g) for (10.3, 7.6)", (double)pk[0].x,
		      (double)pk[0].y);
		/* The 5x5 patch cuts the Gaussian's tails unevenly: pulled toward the pixel. */
		confmap_peaks(&g3, t, 1, CONFMAP_REFINE_INTEGRAL, 0.2f, pk);
		check(fabs(pk[0].x - 10.3) < 0.2 && fabs(pk[0].y - 7.6) < 0.2 &&
			  fabs(pk[0].x - 10.3) < 0.3 - 0.01 && pk[0].x != 10 && pk[0].y != 8,
		      "integral on a target: (%g, %g) for (10.3, 7.6)", (double)pk[0].x,
		      (double)pk[0].y);
		free(t);
	}
}

static void test_crop(void)
{
	struct img src, out;
	struct err e = ERR_INIT;
	struct pose_point p[3] = {pt(10, 8, POSE_VISIBLE), pt(20, 14, POSE_VISIBLE),
				  pt(99, 99, POSE_OCCLUDED)};
	struct pose_point q[3];
	float cx, cy;
	long x0, y0;
	img_init(&src);
	img_init(&out);
	src.w = 40;
	src.h = 30;
	src.channels = 1;
	src.px = xmalloc(40 * 30);
	for (size_t i = 0; i < 40 * 30; i++)
		src.px[i] = (unsigned char)(i % 251 + 1);
	check(confmap_instance_center(p, 3, -1, &cx, &cy) && cx == 15 && cy == 11,
	      "centre: middle of the box of usable points (15, 11)");
	check(confmap_instance_center(p, 3, 1, &cx, &cy) && cx == 20 && cy == 14,
	      "centre: the anchor node when usable");
	check(confmap_instance_center(p, 3, 2, &cx, &cy) && cx == 15,
	      "centre: an occluded anchor falls back to the box");
	check(confmap_crop_instance(&src, p, 3, -1, 16, 16, &out, q, &x0, &y0, &e) == 0 &&
		  x0 == 7 && y0 == 3 && out.w == 16 && out.h == 16,
	      "crop 16x16 around (15, 11) starts at (7, 3)");
	check(out.px && out.px[0] == src.px[3 * 40 + 7] &&
		  out.px[15 * 16 + 15] == src.px[18 * 40 + 22],
	      "crop pixels come from the source");
	check(q[0].x == 3 && q[0].y == 5 && q[1].x == 13 && q[2].vis == POSE_OCCLUDED,
	      "points moved into the crop");
	{
		struct pose_point c = pt(1, 1, POSE_VISIBLE);
		check(confmap_crop_instance(&src, &c, 1, -1, 16, 16, &out, q, &x0, &y0, &e) == 0 &&
			  x0 == -7 && out.px[0] == 0 && out.px[15 * 16 + 15] == src.px[8 * 40 + 8],
		      "a crop past the corner is zero outside the frame");
	}
	{
		struct pose_point none = pt(NAN, NAN, POSE_MISSING);
		check(confmap_crop_instance(&src, &none, 1, -1, 16, 16, &out, q, &x0, &y0, &e) <
			      0 &&
			  strstr(e.msg, "without a labeled visible point"),
		      "an instance without points: %s", e.msg);
		err_clear(&e);
		check(confmap_crop_instance(&src, p, 3, -1, 4, 16, &out, q, &x0, &y0, &e) < 0 &&
			  e.code == DYN_EUSAGE,
		      "a crop too small refused: %s", e.msg);
	}
	img_release(&out);
	img_release(&src);
}

/* Two animals' anchors in one map: both found, the stronger first, at their positions; a
 * plateau gives one peak; max and the threshold cut the list. */
static void test_peaks_multi(void)
{
	struct confmap_geom g;
	struct err e = ERR_INIT;
	struct pose_point c[2] = {pt(20, 10, POSE_VISIBLE), pt(44.5f, 31, POSE_VISIBLE)};
	struct confmap_peak pk[4];
	float *m;
	size_t n;
	check(confmap_geom_init(&g, 64, 48, 2, 3, &e) == 0, "geometry");
	m = xmallocarray(g.out_w * g.out_h, sizeof(float));
	confmap_make_multi(&g, c, 2, 1, m);
	n = confmap_peaks_multi(&g, m, CONFMAP_REFINE_GAUSSIAN, 0.2f, 4, pk);
	check(n == 2 && pk[0].score == 1 && pk[1].score < 1,
	      "two peaks, the one on the grid first");
	check(n == 2 && fabsf(pk[0].x - 20) < 1e-3f && fabsf(pk[0].y - 10) < 1e-3f &&
		  fabsf(pk[1].x - 44.5f) < 1e-3f && fabsf(pk[1].y - 31) < 1e-3f,
	      "each at its animal's anchor: (%g, %g) (%g, %g)", (double)pk[0].x, (double)pk[0].y,
	      (double)pk[1].x, (double)pk[1].y);
	check(confmap_peaks_multi(&g, m, CONFMAP_REFINE_NONE, 0.2f, 1, pk) == 1 && pk[0].x == 20,
	      "max 1: the strongest only");
	check(confmap_peaks_multi(&g, m, CONFMAP_REFINE_NONE, 1.01f, 4, pk) == 0,
	      "none above the threshold");
	for (size_t i = 0; i < g.out_w * g.out_h; i++)
		m[i] = 0.5f;
	check(confmap_peaks_multi(&g, m, CONFMAP_REFINE_NONE, 0.2f, 4, pk) == 1 && pk[0].x == 0 &&
		  pk[0].y == 0,
	      "a plateau is one peak, its first pixel");
	for (size_t i = 0; i < g.out_w * g.out_h; i++)
		m[i] = 0;
	check(confmap_peaks_multi(&g, m, CONFMAP_REFINE_NONE, 0, 4, pk) == 0,
	      "an empty map has no peak, even at threshold 0");
	free(m);
}

/* A crop's origin and the way from the frame into the crop and back, by hand: the centre
 * rounds to the nearest pixel and sits on pixel (side / 2) of the crop. */
static void test_crop_mapping(void)
{
	long x0, y0;
	float x = 25.25f, y = 40.5f, cx, cy;
	struct img src;
	unsigned char out[4 * 4];
	confmap_crop_origin(20.4f, 30.6f, 32, 32, &x0, &y0);
	check(x0 == 4 && y0 == 15, "(20.4, 30.6) in a 32x32 crop: from (4, 15), got (%ld, %ld)", x0,
	      y0);
	cx = x - (float)x0;
	cy = y - (float)y0;
	check(cx == 21.25f && cy == 25.5f && cx + (float)x0 == x && cy + (float)y0 == y,
	      "(25.25, 40.5) is (21.25, 25.5) in the crop and back");
	confmap_crop_origin(3.5f, 2.49f, 16, 24, &x0, &y0);
	check(x0 == -4 && y0 == -10, "near the corner the crop starts outside: (%ld, %ld)", x0, y0);
	img_init(&src);
	src.w = 5;
	src.h = 3;
	src.channels = 1;
	src.px = xmalloc(15);
	for (int i = 0; i < 15; i++)
		src.px[i] = (unsigned char)(10 + i);
	confmap_crop(&src, 3, -1, 4, 4, out);
	check(out[0] == 0 && out[4] == 13 && out[5] == 14 && out[6] == 0 && out[8] == 18 &&
		  out[13] == 24 && out[12] == 23 && out[15] == 0,
	      "crop from (3, -1): zero above and right of the frame, its pixels inside");
	img_release(&src);
}

int main(void)
{
	test_geom();
	test_targets();
	test_peaks();
	test_crop();
	test_peaks_multi();
	test_crop_mapping();
	return check_done();
}
