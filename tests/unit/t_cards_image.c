/* Unit tests of lib/io/image and lib/cards/extract: pictures refused from their header
 * (too small, too large, corrupt), blank and dark pictures, and cards drawn here into
 * pictures with axes, grid, labels and noise, read back and compared with their points. */
#include <archive.h>
#include <archive_entry.h>
#include <math.h>
#include <unistd.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "cards/extract.h"
#include "cards/gen.h"
#include "cards/markers.h"
#include "cards/norm.h"
#include "cards/render.h"
#include "cards/read.h"
#include "core/rng.h"
#include "io/image.h"
#include "base/base.h"
#include "check.h"
#include "fixture.h"

/* ---- drawing ---- */

struct canvas {
	int w, h;
	unsigned char *px; /* RGB */
};

static void canvas_init(struct canvas *cv, int w, int h, unsigned char fill)
{
	cv->w = w;
	cv->h = h;
	cv->px = xmalloc((size_t)w * (size_t)h * 3);
	memset(cv->px, fill, (size_t)w * (size_t)h * 3);
}

/* An anti-aliased segment of the given width, blended over what is there. */
static void draw_seg(struct canvas *cv, double ax, double ay, double bx, double by, double width,
		     const unsigned char rgb[3])
{
	double r = width / 2 + 1;
	int x0 = (int)floor(fmin(ax, bx) - r), x1 = (int)ceil(fmax(ax, bx) + r);
	int y0 = (int)floor(fmin(ay, by) - r), y1 = (int)ceil(fmax(ay, by) + r);
	double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
	for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < cv->h; y++)
		for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < cv->w; x++) {
			double t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0, d, a;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			d = hypot(x - ax - t * dx, y - ay - t * dy);
			a = width / 2 + 0.5 - d;
			if (a <= 0)
				continue;
			a = a > 1 ? 1 : a;
			for (int k = 0; k < 3; k++) {
				unsigned char *p =
				    &cv->px[((size_t)y * (size_t)cv->w + (size_t)x) * 3 +
					    (size_t)k];
				*p = (unsigned char)lround(*p * (1 - a) + rgb[k] * a);
			}
		}
}

static void fill_rect(struct canvas *cv, int x0, int y0, int w, int h, unsigned char v)
{
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			memset(&cv->px[((size_t)y * (size_t)cv->w + (size_t)x) * 3], v, 3);
}

/* The cards drawn: a rounded card-like loop (as t_cards_norm), a pump card with a flat top
 * and bottom (a parallelogram with a cut corner: fluid pound), or a loop crossing itself. */
enum shape { ROUND, PUMP, EIGHT };

static void make_card(struct card *c, enum shape shape, double base, double amp)
{
	size_t alloc = 0, n = 240;
	card_release(c);
	card_set_id(c, "drawn", NULL);
	for (size_t i = 0; i < n; i++) {
		double s = (double)i / (double)n, x, y;
		if (shape == ROUND) {
			double t = 2 * M_PI * s;
			x = 2 * (1 - cos(t));
			y = base + amp * (0.5 + 0.5 * tanh(3 * sin(t)) / tanh(3));
		} else if (shape == EIGHT) {
			/* The branches cross half-way. */
			double t = 2 * M_PI * s;
			x = 2 * (1 - cos(t));
			y = base + amp * (0.5 + 0.5 * sin(2 * t));
		} else {
			/* Corners (0,0) (0.05,1) (1,1) (1,0.95) (0.6,0) on the way round. */
			static const double cx[] = {0, 0.05, 1, 1, 0.6, 0},
					    cy[] = {0, 1, 1, 0.95, 0, 0};
			static const double at[] = {0, 0.15, 0.55, 0.6, 0.8, 1};
			size_t k = 0;
			while (k < 4 && s >= at[k + 1])
				k++;
			double f = (s - at[k]) / (at[k + 1] - at[k]);
			x = 4 * (cx[k] + f * (cx[k + 1] - cx[k]));
			y = base + amp * (cy[k] + f * (cy[k + 1] - cy[k]));
		}
		card_push(c, &alloc, x, y);
	}
}

/* A plot of the card: axes (zero load at the bottom axis, 0..50 load units), grid, tick marks
 * and label blobs, noise specks; the curve in colour. */
static void draw_plot(struct canvas *cv, const struct card *c, bool axes, uint64_t seed)
{
	const unsigned char black[3] = {0, 0, 0}, grey[3] = {205, 205, 205};
	const unsigned char blue[3] = {30, 60, 200};
	const double left = 40, right = 300, top = 20, bottom = 200;
	struct rng r;
	canvas_init(cv, 320, 240, 255);
	rng_init(&r, seed);
	if (axes) {
		for (int i = 1; i < 5; i++) {
			draw_seg(cv, left, bottom - i * 36, right, bottom - i * 36, 1, grey);
			draw_seg(cv, left + i * 52, top, left + i * 52, bottom, 1, grey);
		}
		draw_seg(cv, left, bottom, right, bottom, 2, black);
		draw_seg(cv, left, top, left, bottom, 2, black);
		for (int i = 0; i <= 5; i++) {
			draw_seg(cv, left + i * 52, bottom, left + i * 52, bottom + 5, 1, black);
			fill_rect(cv, (int)(left + i * 52) - 3, (int)bottom + 22, 6, 9, 20);
			draw_seg(cv, left - 5, bottom - i * 36, left, bottom - i * 36, 1, black);
			fill_rect(cv, (int)left - 18, (int)(bottom - i * 36) - 4, 8, 9, 20);
		}
	}
	/* Positions 0..4 over [50, 290]; loads 0..50 over [bottom, top]. */
	for (size_t i = 0; i < c->n; i++) {
		size_t j = (i + 1) % c->n;
		draw_seg(cv, 50 + c->x[i] * 60, bottom - c->y[i] * 3.6, 50 + c->x[j] * 60,
			 bottom - c->y[j] * 3.6, 2.5, blue);
	}
	for (int i = 0; i < 40; i++) {
		int x = (int)rng_below(&r, 320), y = (int)rng_below(&r, 240);
		memset(&cv->px[((size_t)y * 320 + (size_t)x) * 3], 40, 3);
	}
}

/* Cosine similarity of two rasters blurred by a 3x3 box (a pixel's shift costs little). */
static double raster_similarity(const struct card *a, const struct card *b)
{
	const size_t S = 64;
	float *ra = xmallocarray(S * S, sizeof(float)), *rb = xmallocarray(S * S, sizeof(float));
	double dot = 0, na = 0, nb = 0;
	struct err e = ERR_INIT;
	if (card_raster(a, S, ra, &e) < 0 || card_raster(b, S, rb, &e) < 0) {
		free(ra);
		free(rb);
		return -1;
	}
	for (size_t y = 1; y + 1 < S; y++)
		for (size_t x = 1; x + 1 < S; x++) {
			double sa = 0, sb = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					sa += ra[(y + (size_t)dy) * S + x + (size_t)dx];
					sb += rb[(y + (size_t)dy) * S + x + (size_t)dx];
				}
			dot += sa * sb;
			na += sa * sa;
			nb += sb * sb;
		}
	free(ra);
	free(rb);
	return dot / sqrt(na * nb);
}

static double range_ratio(const struct card *c)
{
	float s[CARD_SCALARS];
	struct err e = ERR_INIT;
	return card_scalars(c, s, &e) == 0 ? (double)s[0] : -1;
}

/* Reads one card from path with the card reader: 1 with *c, or -1 with the message. */
static int read_one(const char *path, struct card *c, struct err *e)
{
	struct card_reader *r;
	int k;
	card_reader_open(&r, &path, 1, NULL);
	k = card_reader_next(r, c, e);
	card_reader_free(&r);
	return k;
}

static void test_round_trip(void)
{
	struct canvas cv;
	struct card src, got;
	struct err e = ERR_INIT;
	char *p;
	card_init(&src);
	card_init(&got);
	for (int pump = 0; pump < 2; pump++) {
		const char *kind = pump ? "pump card" : "surface card";
		make_card(&src, pump ? PUMP : ROUND, 25, 20);
		draw_plot(&cv, &src, true, 7 + (uint64_t)pump);
		p = fx_path(pump ? "pump.png" : "surface.png");
		check(stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3) != 0, "%s: png written",
		      kind);
		err_clear(&e);
		check(read_one(p, &got, &e) == 1, "%s: png read: %s", kind, e.msg);
		if (got.n) {
			double sim = raster_similarity(&src, &got);
			check(got.from_image && !got.load_unanchored && got.id &&
				  !strcmp(got.id, p),
			      "%s: from a picture with axes, id the path", kind);
			check(sim > 0.85, "%s: raster from the picture matches the points': %g",
			      kind, sim);
			check(fabs(range_ratio(&got) - range_ratio(&src)) < 0.04,
			      "%s: range ratio kept through the axis: %g against %g", kind,
			      range_ratio(&got), range_ratio(&src));
		}
		free(p);
		/* JPEG at quality 60: this very picture, stored in testdata (stb_image_write's
		 * JPEG encoder shifts negative ints, which UBSan stops). */
		err_clear(&e);
		check(
		    read_one(pump ? "../testdata/cards/pump.jpg" : "../testdata/cards/surface.jpg",
			     &got, &e) == 1 &&
			raster_similarity(&src, &got) > 0.85,
		    "%s: jpeg read back: %s", kind, e.msg);
		free(cv.px);
	}
	/* A pump card sitting on the axis (its bottom is the zero load, drawn over the axis), and
	 * a card with loads below zero, crossing the axis. */
	for (int k = 0; k < 2; k++) {
		const char *kind = k ? "card across the axis" : "pump card on the axis";
		if (k)
			make_card(&src, ROUND, -4, 40);
		else
			make_card(&src, PUMP, 0, 40);
		draw_plot(&cv, &src, true, 21 + (uint64_t)k);
		p = fx_path(k ? "across.png" : "onaxis.png");
		stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
		err_clear(&e);
		check(read_one(p, &got, &e) == 1, "%s: read: %s", kind, e.msg);
		if (got.n) {
			check(raster_similarity(&src, &got) > 0.85, "%s: raster matches: %g", kind,
			      raster_similarity(&src, &got));
			check(fabs(range_ratio(&got) - range_ratio(&src)) < 0.04,
			      "%s: range ratio %g against %g", kind, range_ratio(&got),
			      range_ratio(&src));
		}
		free(p);
		free(cv.px);
	}
	/* A loop crossing itself, without axes. */
	make_card(&src, EIGHT, 25, 20);
	draw_plot(&cv, &src, false, 4);
	p = fx_path("eight.png");
	stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
	err_clear(&e);
	check(read_one(p, &got, &e) == 1 && raster_similarity(&src, &got) > 0.85,
	      "figure eight: read back: %s %g", e.msg, got.n ? raster_similarity(&src, &got) : 0);
	free(p);
	free(cv.px);
	/* No axes: the curve alone; the zero load is unknown. */
	make_card(&src, ROUND, 25, 20);
	draw_plot(&cv, &src, false, 3);
	p = fx_path("bare.bmp");
	check(stbi_write_bmp(p, cv.w, cv.h, 3, cv.px) != 0, "bare: bmp written");
	err_clear(&e);
	check(read_one(p, &got, &e) == 1 && got.load_unanchored &&
		  raster_similarity(&src, &got) > 0.85,
	      "bare: a curve without axes read, load unanchored: %s", e.msg);
	free(p);
	free(cv.px);
	card_release(&src);
	card_release(&got);
}

/* The generator's own pictures (lib/cards/render: axes or none, grid, tick labels, line
 * width and colour, a turn of up to 3 degrees, PNG or JPEG at quality 35 to 95, noise) of
 * pump cards, whose flat stretches lie along axes and grid lines, and of surface cards, at
 * 128 x 128: every one read back, and like its points. */
static void test_rendered(void)
{
	enum { N = 80 };
	size_t read = 0, like = 0;
	for (size_t k = 0; k < N; k++) {
		struct rng r;
		struct card_gen_opts go;
		struct card_render_opts ro;
		struct card c, got;
		struct img im;
		struct err e = ERR_INIT;
		unsigned char *buf = NULL;
		size_t len = 0;
		card_gen_opts_init(&go);
		go.pump = k % 4 != 3;
		card_render_opts_init(&ro);
		ro.width = ro.height = 128;
		card_init(&c);
		card_init(&got);
		img_init(&im);
		rng_init(&r, 900 + k);
		if (card_generate(&c, k % CARD_MARKERS_N, &r, &go, NULL, &e) == 0 &&
		    card_render_encoded(&c, &r, &ro, &buf, &len, NULL, &e) == 0 &&
		    img_decode(&im, buf, len, 3, "rendered", &e) == 0 &&
		    card_extract(&im, "rendered", &got, &e) == 0) {
			read++;
			like += raster_similarity(&c, &got) > 0.65;
		} else {
			printf("# %zu (%s): %s\n", k, card_markers[k % CARD_MARKERS_N].name, e.msg);
		}
		free(buf);
		img_release(&im);
		card_release(&c);
		card_release(&got);
	}
	printf("# rendered pictures: %zu of %d read, %zu like their points\n", read, N, like);
	check(read == N, "rendered pictures: all %d read back (%zu)", N, read);
	check(like * 10 >= N * 9, "rendered pictures: %zu of %d like their points (90%%)", like, N);
}

static void test_bad_pictures(void)
{
	struct canvas cv;
	struct card c;
	struct img im;
	struct err e = ERR_INIT;
	char *p, *buf;
	size_t len;
	card_init(&c);
	img_init(&im);

	canvas_init(&cv, 64, 64, 255);
	p = fx_path("blank.png");
	stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
	check(read_one(p, &c, &e) < 0 && strstr(e.msg, "blank.png: blank picture (no curve found)"),
	      "blank picture: %s", e.msg);
	free(p);
	memset(cv.px, 0, 64 * 64 * 3);
	p = fx_path("black.png");
	stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
	err_clear(&e);
	check(read_one(p, &c, &e) < 0 &&
		  strstr(e.msg, "black.png: the picture is dark all over (no light background to "
				"find a curve on)"),
	      "all-black picture: %s", e.msg);
	free(p);
	free(cv.px);

	/* Axes, grid and labels but no curve. */
	{
		struct card none;
		card_init(&none);
		draw_plot(&cv, &none, true, 5);
		p = fx_path("nocurve.png");
		stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
		err_clear(&e);
		check(read_one(p, &c, &e) < 0 && strstr(e.msg, "nocurve.png: no curve found"),
		      "axes without a curve: %s", e.msg);
		free(p);
		free(cv.px);
	}

	canvas_init(&cv, 1, 1, 0);
	p = fx_path("dot.png");
	stbi_write_png(p, 1, 1, 3, cv.px, 3);
	buf = fx_slurp(p, &len);
	err_clear(&e);
	check(img_decode(&im, buf, len, 3, "dot.png", &e) < 0 &&
		  !strcmp(e.msg, "dot.png: 1x1 picture (at least 16x16 pixels are needed)"),
	      "1x1 picture: %s", e.msg);
	free(buf);
	free(cv.px);
	free(p);

	/* A PNG header claiming 40000x40000 pixels, and nothing else: refused from the header
	 * (decoding would fail on the missing data with another message). */
	{
		unsigned char h[33] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,	   0, 0,
				       13,   'I',  'H', 'D', 'R',  0,	 0,    0x9c, 0x40, 0, 0,
				       0x9c, 0x40, 8,	2,   0,	   0,	 0,    0,    0,	   0, 0};
		err_clear(&e);
		check(img_decode(&im, h, sizeof(h), 3, "huge.png", &e) < 0 &&
			  !strcmp(e.msg,
				  "huge.png: 40000x40000 picture, over the limit of 50000000 "
				  "pixels (20000 a side)"),
		      "40000x40000 header refused before decoding: %s", e.msg);
		p = fx_write("huge.png", h, sizeof(h));
		err_clear(&e);
		check(read_one(p, &c, &e) < 0 && strstr(e.msg, "huge.png: 40000x40000 picture"),
		      "40000x40000 header through the reader: %s", e.msg);
		free(p);
	}
	{
		const char png[] = "\x89PNG\r\n\x1a\ngarbage garbage garbage garbage";
		const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
		err_clear(&e);
		check(img_decode(&im, png, sizeof(png) - 1, 3, "bad.png", &e) < 0 &&
			  strstr(e.msg, "bad.png: corrupt or unsupported picture (") == e.msg,
		      "corrupt png: %s", e.msg);
		err_clear(&e);
		check(img_decode(&im, jpg, sizeof(jpg), 3, "bad.jpg", &e) < 0 &&
			  strstr(e.msg, "bad.jpg: corrupt or unsupported picture (") == e.msg,
		      "corrupt jpeg: %s", e.msg);
		p = fx_write("bad.jpg", jpg, sizeof(jpg));
		err_clear(&e);
		check(read_one(p, &c, &e) < 0 && strstr(e.msg, "bad.jpg: corrupt or unsupported"),
		      "corrupt jpeg through the reader: %s", e.msg);
		free(p);
	}
	/* A DHT segment whose counts add up to 300 codes: stb_image 2.27 would write past its
	 * tables (found by tests/fuzz/f_image); refused first. */
	{
		unsigned char jpg[2 + 4 + 17 + 300 + 2] = {0xff, 0xd8, 0xff, 0xc4,
							   0x01, 0x51, 0x00};
		jpg[7 + 15] = 255; /* 16-bit codes: 255 */
		jpg[7 + 14] = 45;  /* 15-bit codes: 45, 300 in all */
		jpg[sizeof(jpg) - 2] = 0xff;
		jpg[sizeof(jpg) - 1] = 0xd9;
		err_clear(&e);
		check(img_decode(&im, jpg, sizeof(jpg), 3, "dht.jpg", &e) < 0 &&
			  strstr(e.msg,
				 "dht.jpg: corrupt or unsupported picture (a Huffman table of "
				 "more than 256 codes)") == e.msg,
		      "a Huffman table of 300 codes refused: %s", e.msg);
	}
	/* Alpha: a transparent background is white. */
	{
		unsigned char *rgba = xcalloc(32 * 32, 4);
		for (int i = 4; i < 28; i++) {
			unsigned char *q = rgba + (4 * 32 + i) * 4;
			q[3] = 255;
		}
		p = fx_path("alpha.png");
		stbi_write_png(p, 32, 32, 4, rgba, 32 * 4);
		buf = fx_slurp(p, &len);
		err_clear(&e);
		check(img_decode(&im, buf, len, 1, "alpha.png", &e) == 0 && im.w == 32 &&
			  im.px[0] == 255 && im.px[4 * 32 + 10] == 0,
		      "alpha composited over white: %s", e.msg);
		free(buf);
		free(rgba);
		free(p);
	}
	img_release(&im);
	card_release(&c);
}

/* Pictures in an archive: ImageFolder labels. */
static void test_archive(void)
{
	struct canvas cv;
	struct card src;
	char *p, *png, *zip;
	size_t len;
	const char *names[] = {"train/fluid-pound/003.png", "train/normal/001.png"};
	card_init(&src);
	make_card(&src, PUMP, 25, 20);
	draw_plot(&cv, &src, true, 11);
	p = fx_path("m.png");
	stbi_write_png(p, cv.w, cv.h, 3, cv.px, cv.w * 3);
	png = fx_slurp(p, &len);
	zip = fx_path("pics.zip");
	{
		const struct fx_member m[] = {{names[0], png, len}, {names[1], png, len}};
		check(fx_archive(zip, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, m, 2) == 0,
		      "archive: a zip of two pictures written");
	}
	{
		struct card_reader *r;
		struct card c;
		struct err e = ERR_INIT;
		const char *paths[] = {zip};
		struct strbuf got = STRBUF_INIT;
		int k;
		card_init(&c);
		card_reader_open(&r, paths, 1, NULL);
		while ((k = card_reader_next(r, &c, &e)) != 0)
			strbuf_addf(&got, "%s=%s;", k > 0 ? c.id + strlen(fx_dir) + 1 : e.msg,
				    k > 0 && c.label ? c.label : "");
		check(got.buf && !strcmp(got.buf, "pics.zip:train/fluid-pound/003.png=fluid-pound;"
						  "pics.zip:train/normal/001.png=normal;"),
		      "archive: pictures with directory labels: %s", got.buf);
		strbuf_release(&got);
		card_release(&c);
		card_reader_free(&r);
	}
	free(zip);
	free(png);
	free(p);
	free(cv.px);
	card_release(&src);
}

int main(void)
{
	fx_mkdir("t-cards-image");
	test_round_trip();
	test_rendered();
	test_bad_pictures();
	test_archive();
	fx_rmdir();
	return check_done();
}
