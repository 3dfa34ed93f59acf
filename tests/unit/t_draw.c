/* Unit tests of lib/vision/draw: exact pixels of discs, lines and poses on small frames,
 * nodes that are not drawn (NaN, low score), coordinates far outside the frame or not finite
 * (nothing written out of bounds: the suite runs this under ASan), gray frames. */
#include <float.h>
#include <math.h>

#include "core/rng.h"
#include "vision/draw.h"
#include "base/base.h"
#include "check.h"

static const unsigned char RED[3] = {255, 0, 0}, WHITE[3] = {255, 255, 255};

/* A w x h RGB frame of one colour, its pixels exactly w * h * 3 bytes (ASan sees any
 * byte written past them). */
static void frame(struct img *im, size_t w, size_t h, unsigned char v)
{
	img_init(im);
	im->w = w;
	im->h = h;
	im->channels = 3;
	im->px = xmalloc(w * h * 3);
	memset(im->px, v, w * h * 3);
}

static const unsigned char *at(const struct img *im, size_t x, size_t y)
{
	return im->px + (y * im->w + x) * (size_t)im->channels;
}

static bool is(const struct img *im, size_t x, size_t y, const unsigned char rgb[3])
{
	return !memcmp(at(im, x, y), rgb, 3);
}

static bool all(const struct img *im, unsigned char v)
{
	size_t i, n = im->w * im->h * (size_t)im->channels;
	for (i = 0; i < n; i++)
		if (im->px[i] != v)
			return false;
	return true;
}

static size_t count_changed(const struct img *im, unsigned char v)
{
	size_t i, n = im->w * im->h, c = 0;
	for (i = 0; i < n; i++)
		if (memcmp(im->px + 3 * i, (unsigned char[]){v, v, v}, 3))
			c++;
	return c;
}

static void test_disc(void)
{
	static const unsigned char black[3] = {0, 0, 0};
	struct img im;
	size_t n;
	frame(&im, 32, 24, 0);
	draw_disc(&im, 10, 12, 3, RED);
	check(is(&im, 10, 12, RED) && is(&im, 12, 12, RED) && is(&im, 10, 10, RED) &&
		  is(&im, 12, 13, RED),
	      "disc r=3: centre and pixels within 2.5 get the colour exactly");
	check(at(&im, 14, 12)[0] == 0 && at(&im, 10, 16)[0] == 0 && is(&im, 0, 0, black) &&
		  is(&im, 31, 23, black),
	      "disc r=3: pixels 3.5 and more away untouched");
	check(at(&im, 13, 12)[0] == 128 && at(&im, 13, 12)[1] == 0,
	      "disc r=3: a pixel on its rim is half covered (%d)", at(&im, 13, 12)[0]);
	n = count_changed(&im, 0);
	check(n >= 28 && n <= 45, "disc r=3 touches about pi (3.5)^2 pixels: %zu", n);
	/* Half outside the frame: cut at the border, the rest drawn. */
	memset(im.px, 0, 32 * 24 * 3);
	draw_disc(&im, 0, 23, 2, RED);
	check(is(&im, 0, 23, RED) && is(&im, 1, 22, RED) && count_changed(&im, 0) <= 10,
	      "a disc in the corner is cut at the frame's border");
	memset(im.px, 0, 32 * 24 * 3);
	draw_disc(&im, 16, 12, 1e30, WHITE);
	check(all(&im, 255), "a disc of radius 1e30 fills the frame");
	img_release(&im);
}

static void test_line(void)
{
	struct img im;
	size_t x;
	bool row = true;
	frame(&im, 40, 30, 0);
	draw_line(&im, 5, 10, 35, 10, 1, RED);
	for (x = 5; x <= 35; x++)
		row = row && is(&im, x, 10, RED);
	check(row && at(&im, 20, 9)[0] == 0 && at(&im, 20, 11)[0] == 0,
	      "a horizontal line of width 1: its row coloured, the rows next to it not");
	check(at(&im, 3, 10)[0] == 0 && at(&im, 37, 10)[0] == 0,
	      "round ends reach half the width past the end points, no further");
	memset(im.px, 0, 40 * 30 * 3);
	draw_line(&im, 2, 2, 32, 22, 3, WHITE);
	check(is(&im, 17, 12, WHITE) && is(&im, 2, 2, WHITE) && is(&im, 32, 22, WHITE),
	      "a slanted line: its midpoint and ends coloured");
	check(at(&im, 17, 20)[0] == 0 && at(&im, 30, 5)[0] == 0 && at(&im, 0, 29)[0] == 0,
	      "a slanted line: pixels away from it untouched");
	/* A line that only crosses the frame, its ends far outside. */
	memset(im.px, 0, 40 * 30 * 3);
	draw_line(&im, -1e30, 15, 1e30, 15, 1, RED);
	check(is(&im, 0, 15, RED) && is(&im, 20, 15, RED) && is(&im, 39, 15, RED) &&
		  count_changed(&im, 0) == 40,
	      "a line from x=-1e30 to 1e30 colours its row, only it (%zu pixels)",
	      count_changed(&im, 0));
	memset(im.px, 0, 40 * 30 * 3);
	draw_line(&im, -1e6, -1e6, 1e6, 1e6, 1, RED);
	check(is(&im, 0, 0, RED) && is(&im, 29, 29, RED) && at(&im, 39, 0)[0] == 0 &&
		  at(&im, 0, 29)[0] == 0,
	      "a diagonal from -1e6 to 1e6 crosses the frame on its diagonal");
	/* Zero length: a dot. */
	memset(im.px, 0, 40 * 30 * 3);
	draw_line(&im, 7, 7, 7, 7, 3, RED);
	check(is(&im, 7, 7, RED) && is(&im, 8, 7, RED) && at(&im, 10, 7)[0] == 0,
	      "a line of length 0 is a dot of its width");
	img_release(&im);
}

/* Nothing drawn, nothing written anywhere: not finite, far away, bad sizes. */
static void test_outside(void)
{
	static const double bad[] = {NAN,      INFINITY, -INFINITY, 1e300, -1e300, FLT_MAX,
				     -FLT_MAX, -1e6,	 1e6,	    -50,   200};
	struct img im;
	size_t i, j;
	bool clean = true;
	struct rng r;
	frame(&im, 20, 16, 7);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		draw_disc(&im, bad[i], 8, 3, RED);
		draw_disc(&im, 8, bad[i], 3, RED);
		/* Both ends above, left of, below or right of the frame. */
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			draw_line(&im, bad[i], -30, bad[j], -40, 2, RED);
			draw_line(&im, -30, bad[i], -40, bad[j], 2, RED);
			draw_line(&im, bad[i], 60, bad[j], 50, 2, RED);
			draw_line(&im, 60, bad[i], 50, bad[j], 2, RED);
		}
		/* One end inside, the other not finite. */
		if (!isfinite(bad[i])) {
			draw_line(&im, bad[i], 8, 8, 8, 2, RED);
			draw_line(&im, 8, 8, 8, bad[i], 2, RED);
		}
	}
	clean = all(&im, 7);
	check(clean, "discs and lines far outside the frame or not finite draw nothing");
	draw_disc(&im, 8, 8, NAN, RED);
	draw_disc(&im, 8, 8, -2, RED);
	draw_disc(&im, 8, 8, INFINITY, RED);
	draw_line(&im, 1, 1, 10, 10, NAN, RED);
	draw_line(&im, 1, 1, 10, 10, 0, RED);
	draw_line(&im, 1, 1, 10, 10, -1, RED);
	check(all(&im, 7), "a NaN, infinite, zero or negative size draws nothing");
	/* Random shapes with wild coordinates: under ASan, any write out of the frame fails. */
	rng_init(&r, 11);
	for (i = 0; i < 3000; i++) {
		double v[5];
		for (j = 0; j < 5; j++) {
			uint64_t k = rng_below(&r, 4);
			v[j] = k == 0	? bad[rng_below(&r, ARRAY_SIZE(bad))]
			       : k == 1 ? rng_uniform(&r) * 60 - 20
			       : k == 2 ? (rng_uniform(&r) - 0.5) * 1e12
					: rng_uniform(&r) * 40;
		}
		draw_line(&im, v[0], v[1], v[2], v[3], fabs(v[4]), RED);
		draw_disc(&im, v[0], v[1], fabs(v[4]), WHITE);
	}
	check(count_changed(&im, 7) > 0, "3000 random shapes with wild coordinates drawn");
	img_release(&im);
}

static void skel3(struct pose_skeleton *s)
{
	static const char *const names[] = {"head", "thorax", "tail"};
	size_t i;
	pose_skeleton_init(s);
	s->nnodes = 3;
	s->nodes = xmallocarray(3, sizeof(*s->nodes));
	for (i = 0; i < 3; i++)
		s->nodes[i] = xstrdup(names[i]);
	s->nedges = 3;
	s->edges = xmallocarray(6, sizeof(*s->edges));
	/* head-thorax, thorax-tail, and one edge naming a node that does not exist */
	s->edges[0] = 0, s->edges[1] = 1;
	s->edges[2] = 1, s->edges[3] = 2;
	s->edges[4] = 2, s->edges[5] = 9;
}

static void test_pose(void)
{
	struct pose_skeleton s;
	struct pose_draw_opts o = POSE_DRAW_OPTS_INIT;
	unsigned char c[3][3];
	float x[3] = {10, 30, 30}, y[3] = {10, 10, 40}, score[3] = {0.9f, 0.8f, 0.7f};
	struct img im;
	size_t i;

	skel3(&s);
	for (i = 0; i < 3; i++)
		pose_draw_colour(i, 3, c[i]);
	check(!memcmp(c[0], (unsigned char[]){255, 0, 0}, 3) &&
		  !memcmp(c[1], (unsigned char[]){0, 255, 0}, 3) &&
		  !memcmp(c[2], (unsigned char[]){0, 0, 255}, 3),
	      "3 nodes: red, green, blue");
	/* 64x48: radius 2, width 1 by default. */
	frame(&im, 64, 48, 0);
	pose_draw(&im, &s, x, y, score, 0.5f, NULL);
	check(is(&im, 10, 10, c[0]) && is(&im, 30, 10, c[1]) && is(&im, 30, 40, c[2]),
	      "each node's centre has its colour");
	check(is(&im, 10, 11, c[0]) && at(&im, 10, 12)[0] == 128 && at(&im, 10, 13)[0] == 0,
	      "default radius on 64x48: 2 pixels");
	check(is(&im, 20, 10, c[0]) && is(&im, 30, 25, c[1]),
	      "each edge's midpoint has its first node's colour");
	check(is(&im, 50, 30, (unsigned char[]){0, 0, 0}) &&
		  is(&im, 20, 30, (unsigned char[]){0, 0, 0}) &&
		  is(&im, 20, 12, (unsigned char[]){0, 0, 0}),
	      "pixels away from the pose untouched");
	/* Edge colour of its own, sizes given. */
	memset(im.px, 0, 64 * 48 * 3);
	o.edge_rgb = 0x102030;
	o.radius = 4;
	o.width = 3;
	pose_draw(&im, &s, x, y, NULL, 0.5f, &o);
	check(is(&im, 20, 10, (unsigned char[]){0x10, 0x20, 0x30}) &&
		  is(&im, 20, 11, (unsigned char[]){0x10, 0x20, 0x30}) && is(&im, 13, 10, c[0]) &&
		  is(&im, 30, 37, c[2]),
	      "edge colour 0x102030, width 3, radius 4");
	/* A low score and a NaN: those nodes and their edges are not drawn. */
	memset(im.px, 0, 64 * 48 * 3);
	score[1] = 0.2f;
	pose_draw(&im, &s, x, y, score, 0.5f, NULL);
	check(is(&im, 10, 10, c[0]) && is(&im, 30, 40, c[2]) && at(&im, 30, 10)[1] == 0 &&
		  at(&im, 20, 10)[0] == 0 && at(&im, 30, 25)[1] == 0,
	      "a node under the threshold: neither it nor its edges drawn");
	memset(im.px, 0, 64 * 48 * 3);
	score[1] = NAN;
	pose_draw(&im, &s, x, y, score, 0.5f, NULL);
	check(count_changed(&im, 0) > 0 && at(&im, 30, 10)[1] == 0,
	      "a NaN score is under any threshold");
	memset(im.px, 0, 64 * 48 * 3);
	score[1] = 0.8f;
	x[0] = NAN;
	y[2] = INFINITY;
	pose_draw(&im, &s, x, y, score, 0.5f, NULL);
	check(is(&im, 30, 10, c[1]) && count_changed(&im, 0) <= 21 && at(&im, 20, 10)[0] == 0,
	      "NaN and infinite nodes: only the good node drawn (%zu pixels)",
	      count_changed(&im, 0));
	/* Nodes outside the frame: the edge between them crosses it; nothing else drawn. */
	memset(im.px, 0, 64 * 48 * 3);
	x[0] = -1e30f, y[0] = 20;
	x[1] = 1e30f, y[1] = 20;
	x[2] = FLT_MAX, y[2] = -FLT_MAX;
	pose_draw(&im, &s, x, y, NULL, 0, NULL);
	check(is(&im, 0, 20, c[0]) && is(&im, 63, 20, c[0]) && at(&im, 32, 22)[0] == 0 &&
		  at(&im, 32, 5)[0] == 0,
	      "nodes far outside: the edge between them crosses the frame");
	img_release(&im);
	/* Default sizes scale with the frame: 640x480 gives radius 4, width 2. */
	frame(&im, 640, 480, 0);
	x[0] = 100, y[0] = 100, x[1] = 300, y[1] = 100, x[2] = 300, y[2] = 300;
	pose_draw(&im, &s, x, y, NULL, 0, NULL);
	check(is(&im, 100, 103, c[0]) && at(&im, 100, 104)[0] == 128 && at(&im, 100, 105)[0] == 0 &&
		  is(&im, 200, 100, c[0]) && at(&im, 200, 101)[0] == 128 &&
		  at(&im, 200, 102)[0] == 0,
	      "640x480: radius 4, lines 2 pixels wide");
	img_release(&im);
	/* Many nodes: all colours distinct. */
	{
		unsigned char a[3], b[3];
		size_t j;
		bool distinct = true;
		for (i = 0; i < 24; i++)
			for (j = 0; j < i; j++) {
				pose_draw_colour(i, 24, a);
				pose_draw_colour(j, 24, b);
				distinct = distinct && memcmp(a, b, 3);
			}
		check(distinct, "24 nodes: 24 distinct colours");
	}
	pose_skeleton_release(&s);
}

static void test_gray(void)
{
	struct img im;
	img_init(&im);
	im.w = 8;
	im.h = 6;
	im.channels = 1;
	im.px = xmalloc(48);
	memset(im.px, 50, 48);
	im.px[9] = 200;
	draw_disc(&im, 4, 3, 1, WHITE);
	check(im.px[3 * 8 + 4] == 255 && im.px[0] == 50, "a gray frame gets the colour's luma");
	draw_to_rgb(&im);
	check(im.channels == 3 && is(&im, 1, 1, (unsigned char[]){200, 200, 200}) &&
		  is(&im, 4, 3, WHITE) && is(&im, 7, 5, (unsigned char[]){50, 50, 50}),
	      "draw_to_rgb copies gray into all three channels");
	draw_disc(&im, 0, 0, 1, RED);
	check(is(&im, 0, 0, RED), "then colours can be drawn on it");
	draw_to_rgb(&im);
	check(im.channels == 3 && is(&im, 0, 0, RED), "an RGB frame is left as it is");
	img_release(&im);
}

int main(void)
{
	test_disc();
	test_line();
	test_outside();
	test_pose();
	test_gray();
	return check_done();
}
