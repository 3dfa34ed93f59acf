/* Unit tests of text finding (lib/ocr/find), the synthetic photos it is measured on
 * (lib/ocr/photo) and the Exif orientation of lib/io/image: JPEGs built here with an Exif
 * segment spliced in, every orientation and corrupt segments; boxes' overlap; lines found at
 * the 4 rotations; photos without text; ring text unwrapped upright; bad pictures.
 * OCR_FIND_DUMP=DIR writes the photos and the cut lines there as PNG. */
#include <stb_image_write.h>

#include "base/base.h"
#include "ocr/find.h"
#include "ocr/photo.h"
#include "check.h"

/* ---- Exif ---- */

static void sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

/* A 32x16 gray picture of 8x8 blocks, each its own level: blocks survive JPEG whole. */
#define SW 32
#define SH 16
static unsigned char level(size_t x, size_t y)
{
	return (unsigned char)(20 + 28 * (x / 8 + 4 * (y / 8)));
}

static void plain_jpeg(struct strbuf *out)
{
	unsigned char px[SW * SH];
	for (size_t y = 0; y < SH; y++)
		for (size_t x = 0; x < SW; x++)
			px[y * SW + x] = level(x, y);
	strbuf_reset(out);
	stbi_write_jpg_to_func(sink, out, SW, SH, 1, px, 100);
}

static void put16(struct strbuf *sb, unsigned v, bool be)
{
	unsigned char b[2] = {(unsigned char)(be ? v >> 8 : v), (unsigned char)(be ? v : v >> 8)};
	strbuf_add(sb, b, 2);
}

static void put32(struct strbuf *sb, uint32_t v, bool be)
{
	put16(sb, be ? v >> 16 : v & 0xffff, be);
	put16(sb, be ? v & 0xffff : v >> 16, be);
}

/* An Exif APP1 segment whose IFD0 holds a tag or two (the orientation last), in either byte
 * order; type and count as given, so that bad ones can be made. */
static void exif_segment(struct strbuf *seg, unsigned orient, bool be, unsigned type,
			 uint32_t count)
{
	struct strbuf t = STRBUF_INIT;
	strbuf_add(&t, be ? "MM" : "II", 2);
	put16(&t, 42, be);
	put32(&t, 8, be);
	put16(&t, 2, be);
	/* ImageWidth first: the walk must skip entries that are not the orientation */
	put16(&t, 0x0100, be);
	put16(&t, 3, be);
	put32(&t, 1, be);
	put16(&t, SW, be);
	put16(&t, 0, be);
	put16(&t, 0x0112, be);
	put16(&t, type, be);
	put32(&t, count, be);
	put16(&t, orient, be);
	put16(&t, 0, be);
	put32(&t, 0, be);
	strbuf_reset(seg);
	strbuf_add(seg, "\xff\xe1", 2);
	put16(seg, (unsigned)(2 + 6 + t.len), true);
	strbuf_add(seg, "Exif\0\0", 6);
	strbuf_add(seg, t.buf, t.len);
	strbuf_release(&t);
}

/* jpeg with seg spliced in after its SOI marker */
static void splice(struct strbuf *out, const struct strbuf *jpeg, const struct strbuf *seg)
{
	strbuf_reset(out);
	strbuf_add(out, jpeg->buf, 2);
	strbuf_add(out, seg->buf, seg->len);
	strbuf_add(out, jpeg->buf + 2, jpeg->len - 2);
}

/* Where stored pixel (sx, sy) shows once upright, from the Exif definition of each value:
 * which side of the picture the stored 0th row and 0th column are (independently of
 * img_orient's table). */
static void shown_at(int o, size_t sx, size_t sy, size_t *x, size_t *y)
{
	switch (o) {
	case 1:
		*x = sx;
		*y = sy;
		break; /* row 0 top, column 0 left */
	case 2:
		*x = SW - 1 - sx;
		*y = sy;
		break; /* top, right */
	case 3:
		*x = SW - 1 - sx;
		*y = SH - 1 - sy;
		break; /* bottom, right */
	case 4:
		*x = sx;
		*y = SH - 1 - sy;
		break; /* bottom, left */
	case 5:
		*x = sy;
		*y = sx;
		break; /* left, top */
	case 6:
		*x = SH - 1 - sy;
		*y = sx;
		break; /* right, top */
	case 7:
		*x = SH - 1 - sy;
		*y = SW - 1 - sx;
		break; /* right, bottom */
	default:
		*x = sy;
		*y = SW - 1 - sx;
		break; /* left, bottom */
	}
}

static void test_exif(void)
{
	struct strbuf jpeg = STRBUF_INIT, seg = STRBUF_INIT, file = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct img im;
	img_init(&im);
	plain_jpeg(&jpeg);
	check(jpeg.len > 100 && img_exif_orientation(jpeg.buf, jpeg.len) == 1,
	      "exif: a JPEG without Exif is upright (%zu bytes)", jpeg.len);
	for (int be = 0; be <= 1; be++)
		for (int o = 1; o <= 8; o++) {
			size_t bad = 0;
			exif_segment(&seg, (unsigned)o, be, 3, 1);
			splice(&file, &jpeg, &seg);
			check(img_exif_orientation(file.buf, file.len) == o,
			      "exif: orientation %d read (%s)", o,
			      be ? "big-endian" : "little-endian");
			if (img_decode_upright(&im, file.buf, file.len, 1, "exif.jpg", &e) < 0) {
				check(0, "exif: decode: %s", e.msg);
				continue;
			}
			check(im.w == (o >= 5 ? SH : SW) && im.h == (o >= 5 ? SW : SH),
			      "exif %d: %zux%zu upright", o, im.w, im.h);
			for (size_t sy = 0; sy < SH && im.w * im.h == SW * SH; sy++)
				for (size_t sx = 0; sx < SW; sx++) {
					size_t x, y;
					shown_at(o, sx, sy, &x, &y);
					if (abs((int)im.px[y * im.w + x] - level(sx, sy)) > 6)
						bad++;
				}
			check(bad == 0, "exif %d (%s): every block where the tag says (%zu off)", o,
			      be ? "MM" : "II", bad);
		}

	/* values and structures that are not an orientation: upright */
	{
		static const struct {
			unsigned orient, type;
			uint32_t count;
			const char *what;
		} odd[] = {
		    {0, 3, 1, "orientation 0"},
		    {9, 3, 1, "orientation 9"},
		    {6, 4, 1, "type LONG"},
		    {6, 3, 2, "two values"},
		};
		for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
			exif_segment(&seg, odd[i].orient, true, odd[i].type, odd[i].count);
			splice(&file, &jpeg, &seg);
			check(img_exif_orientation(file.buf, file.len) == 1, "exif: %s read as 1",
			      odd[i].what);
		}
	}
	{
		/* corrupt segments, each in a buffer of its exact size (ASan sees any read past
		 * it): the IFD offset past the segment, an entry count far past it (and no
		 * orientation among the entries there are), a segment length past the file (its
		 * bytes all there: still read), too short a segment, a bad TIFF magic */
		static const int want[5] = {1, 1, 6, 1, 1};
		struct strbuf c = STRBUF_INIT;
		size_t tiff;
		exif_segment(&seg, 6, true, 3, 1);
		tiff = 4 + 6;
		for (int k = 0; k < 5; k++) {
			unsigned char *copy;
			strbuf_reset(&c);
			strbuf_add(&c, seg.buf, seg.len);
			if (k == 0)
				c.buf[tiff + 7] = 0x7f; /* IFD offset 0x7f */
			if (k == 1) {
				c.buf[tiff + 8] = (char)0xff; /* 65535 entries */
				c.buf[tiff + 9] = (char)0xff;
				c.buf[tiff + 22] = 0; /* tag 0x0012, not the orientation */
			}
			if (k == 2)
				c.buf[2] = 0x7f; /* segment of 32 KiB */
			if (k == 3)
				c.buf[3] = 5, c.buf[2] = 0;
			if (k == 4)
				c.buf[tiff + 3] = 0;
			/* the file ends with the segment: nothing after it to read into */
			copy = xmalloc(2 + c.len);
			memcpy(copy, "\xff\xd8", 2);
			memcpy(copy + 2, c.buf, c.len);
			check(img_exif_orientation(copy, 2 + c.len) == want[k],
			      "exif: corrupt segment %d read as %d", k, want[k]);
			free(copy);
		}
		/* every truncation of a photo with a good segment */
		splice(&file, &jpeg, &seg);
		{
			int wrong = 0;
			for (size_t len = 0; len < 2 + seg.len + 8; len++) {
				unsigned char *copy = xmalloc(len ? len : 1);
				int o;
				memcpy(copy, file.buf, len);
				o = img_exif_orientation(copy, len);
				/* 1 until the entry is whole, then 6 */
				if ((o != 1 && o != 6) || (len >= 2 + seg.len && o != 6))
					wrong++;
				free(copy);
			}
			check(wrong == 0, "exif: truncated anywhere, 1 or the tag (%d wrong)",
			      wrong);
		}
		{
			/* a truncated photo is an error, whatever its Exif says */
			int r =
			    img_decode_upright(&im, file.buf, 2 + seg.len + 40, 1, "cut.jpg", &e);
			check(r < 0 && strstr(e.msg, "cut.jpg: corrupt"),
			      "exif: truncated photo: %s", e.msg);
		}
		strbuf_release(&c);
	}
	check(img_exif_orientation("\xff\xd8", 2) == 1 && img_exif_orientation("", 0) == 1 &&
		  img_exif_orientation("\x89PNG\r\n\x1a\n", 8) == 1,
	      "exif: tiny and non-JPEG buffers are upright");
	{
		/* img_orient turns gray and RGB alike; an orientation out of range does nothing */
		struct img t;
		img_init(&t);
		t.w = 3;
		t.h = 1;
		t.channels = 3;
		t.px = xmalloc(9);
		for (int i = 0; i < 9; i++)
			t.px[i] = (unsigned char)(10 + i);
		img_orient(&t, 6);
		check(t.w == 1 && t.h == 3 && t.px[0] == 10 && t.px[3] == 13 && t.px[8] == 18,
		      "img_orient: RGB pixels turned whole");
		img_orient(&t, 42);
		check(t.w == 1 && t.h == 3, "img_orient: orientation 42 ignored");
		img_release(&t);
	}
	img_release(&im);
	strbuf_release(&jpeg);
	strbuf_release(&seg);
	strbuf_release(&file);
}

/* ---- boxes ---- */

static void test_iou(void)
{
	struct ocr_box a = {10, 10, 4, 2, 0}, b = a;
	check_close(ocr_box_iou(&a, &b), 1, 1e-12, "iou: a box with itself");
	b.angle = 180;
	check_close(ocr_box_iou(&a, &b), 1, 1e-12, "iou: its 180-degree turn");
	b.angle = 90;
	/* 4x2 and 2x4 about one centre: a 2x2 square in common, union 8 + 8 - 4 */
	check_close(ocr_box_iou(&a, &b), 4.0 / 12, 1e-12, "iou: turned by 90 degrees");
	b = (struct ocr_box){12, 10, 4, 2, 0};
	check_close(ocr_box_iou(&a, &b), 4.0 / 12, 1e-12, "iou: shifted by half");
	b.cx = 20;
	check(ocr_box_iou(&a, &b) == 0, "iou: apart");
	b = (struct ocr_box){10, 10, 2 * sqrt(2), 2 * sqrt(2), 45};
	a = (struct ocr_box){10, 10, 2, 2, 0};
	/* the square turned 45 degrees, its diagonal 4: the 2x2 square lies inside it */
	check_close(ocr_box_iou(&a, &b), 4.0 / 8, 1e-9, "iou: a square inside its turned twin");
	b.w = 0;
	check(ocr_box_iou(&a, &b) == 0, "iou: empty box");
}

/* ---- photos ---- */

static const char *dump_dir;

static void dump(const struct img *im, const char *name, int i)
{
	char path[4096];
	struct err e = ERR_INIT;
	if (!dump_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s%02d.png", dump_dir, name, i);
	if (ocr_png_write(im, path, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
}

static bool same_photo(const struct ocr_photo *a, const struct ocr_photo *b)
{
	if (a->im.w != b->im.w || a->im.h != b->im.h || a->n != b->n ||
	    memcmp(a->im.px, b->im.px, a->im.w * a->im.h * (size_t)a->im.channels))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->lines[i].text, b->lines[i].text) ||
		    memcmp(&a->lines[i].box, &b->lines[i].box, sizeof(a->lines[i].box)))
			return false;
	return true;
}

static void test_photo(const struct ocr_synth *s)
{
	struct ocr_photo a, b;
	struct ocr_photo_opts o = {.w = 640, .h = 480, .rotation = -1, .ring = 0.5};
	struct err e = ERR_INIT;
	bool inside = true;
	int rot_seen = 0;
	ocr_photo_init(&a);
	ocr_photo_init(&b);
	check(ocr_synth_photo(s, 7, &o, &a, &e) == 0 && ocr_synth_photo(s, 7, &o, &b, &e) == 0 &&
		  same_photo(&a, &b),
	      "photo: the same seed, the same photo");
	check(ocr_synth_photo(s, 8, &o, &b, &e) == 0 && !same_photo(&a, &b),
	      "photo: another seed, another photo");
	for (uint64_t seed = 0; seed < 12; seed++) {
		if (ocr_synth_photo(s, seed, &o, &a, &e) < 0)
			break;
		rot_seen |= 1 << (a.rotation / 90);
		inside = inside && a.im.w == 640 && a.im.h == 480 && a.n >= 1;
		for (size_t i = 0; i < a.n; i++) {
			const struct ocr_box *bx = &a.lines[i].box;
			inside = inside && bx->cx > 0 && bx->cy > 0 && bx->cx < 640 &&
				 bx->cy < 480 && (a.lines[i].is_ring || bx->w > bx->h) &&
				 a.lines[i].text[0];
		}
	}
	check(inside, "photo: stored 640x480 at any rotation, every line's box in it");
	check(rot_seen == 15, "photo: the seed draws all 4 rotations (seen %#x)", rot_seen);
	o.rotation = 45;
	check(ocr_synth_photo(s, 1, &o, &a, &e) < 0 && strstr(e.msg, "rotation 45"),
	      "photo: rotation 45 refused: %s", e.msg);
	o.rotation = 0;
	o.w = 100;
	check(ocr_synth_photo(s, 1, &o, &a, &e) < 0 && strstr(e.msg, "100x480 photo"),
	      "photo: too small refused: %s", e.msg);
	ocr_photo_release(&a);
	ocr_photo_release(&b);
}

/* ---- finding ---- */

/* The best IoU of a true straight line with any of the candidates. */
static double best_iou(const struct ocr_box *t, const struct ocr_cand *c, size_t n)
{
	double best = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].kind == OCR_CAND_LINE)
			best = fmax(best, ocr_box_iou(t, &c[i].box));
	return best;
}

/* Lines found on photos at each rotation: 5 photos each, 800x600 (the finder works on a
 * 1008-wide copy of a 4032x3024 photo much as on this one: line heights are drawn as
 * fractions of the photo). A line is found when a candidate overlaps its true box with an
 * IoU of 0.5 (PASCAL VOC's criterion: for a long thin box, its height within about a third
 * and most of its length, a crop the recognizer can read). */
static void test_find_rotations(const struct ocr_synth *s)
{
	struct ocr_find_opts fo = {.rings = true};
	struct err e = ERR_INIT;
	struct ocr_photo p;
	int all_found = 0, all_lines = 0;
	ocr_photo_init(&p);
	for (int rot = 0; rot < 360; rot += 90) {
		int found = 0, lines = 0;
		for (uint64_t k = 0; k < 5; k++) {
			struct ocr_photo_opts o = {
			    .w = 800, .h = 600, .rotation = rot, .ring = 0.2, .channels = 3};
			struct ocr_cand *c = NULL;
			size_t n = 0;
			if (ocr_synth_photo(s, 1000 + k, &o, &p, &e) < 0 ||
			    ocr_find(&p.im, &fo, &c, &n, &e) < 0) {
				check(0, "find: %s", e.msg);
				continue;
			}
			dump(&p.im, "photo", rot / 90 * 5 + (int)k);
			for (size_t i = 0; i < p.n; i++) {
				if (p.lines[i].is_ring)
					continue;
				lines++;
				found += best_iou(&p.lines[i].box, c, n) >= 0.5;
			}
			free(c);
		}
		check(2 * found > lines, "find: rotation %d: %d of %d lines found", rot, found,
		      lines);
		all_found += found;
		all_lines += lines;
	}
	/* 42 of 44; 37 when joining two words of a line with different skews turned the joined
	 * band about the plane's corner, which moved lines far from it off their text */
	check(10 * all_found >= 9 * all_lines, "find: %d of %d lines found over 20 photos",
	      all_found, all_lines);
	ocr_photo_release(&p);
}

/* Photos without text: candidates, if any, score low. Each photo is drawn twice from one
 * seed, with its lines and without (the same metal, holes, scratches): the best candidate
 * without text scores under 0.9, and under the best with text by 0.2 or more in most pairs
 * (the recognizer's confidence rejects the rest). */
static void test_no_text(const struct ocr_synth *s)
{
	struct ocr_find_opts fo = {.rings = true};
	struct err e = ERR_INIT;
	struct ocr_photo p;
	double bare[8], text[8], mb = 0, mt = 0;
	int high = 0, apart = 0;
	ocr_photo_init(&p);
	for (uint64_t k = 0; k < 8; k++) {
		struct ocr_photo_opts bo = {.w = 800, .h = 600, .rotation = -1, .lines = -1};
		struct ocr_photo_opts to = {.w = 800, .h = 600, .rotation = -1};
		struct ocr_cand *c = NULL;
		size_t n = 0;
		bare[k] = text[k] = 0;
		if (ocr_synth_photo(s, 2000 + k, &bo, &p, &e) == 0 &&
		    ocr_find(&p.im, &fo, &c, &n, &e) == 0)
			bare[k] = n ? c[0].score : 0;
		free(c);
		c = NULL;
		if (ocr_synth_photo(s, 2000 + k, &to, &p, &e) == 0 &&
		    ocr_find(&p.im, &fo, &c, &n, &e) == 0)
			text[k] = n ? c[0].score : 0;
		free(c);
		high += bare[k] < 0.9;
		apart += text[k] >= bare[k] + 0.2;
		mb += bare[k] / 8;
		mt += text[k] / 8;
		printf("# photo %d: best candidate %.2f without text, %.2f with\n", (int)k, bare[k],
		       text[k]);
	}
	check(high == 8, "no text: best candidate under 0.9 on all of 8 bare photos (%d)", high);
	check(apart >= 6, "no text: 0.2 or more under the same photo with text in %d of 8", apart);
	check(mb + 0.25 < mt, "no text: mean best score %.2f bare, %.2f with text", mb, mt);
	ocr_photo_release(&p);
}

/* Normalized correlation of the gradient magnitudes of a and b (same height), b shifted
 * along by dx, over their overlap. */
static double edge_corr(const struct img *a, const struct img *b, long dx)
{
	double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
	for (size_t y = 1; y + 1 < a->h && y + 1 < b->h; y++)
		for (size_t x = 1; x + 1 < a->w; x++) {
			long bx = (long)x + dx;
			double ga, gb;
			const unsigned char *p = a->px + y * a->w + x, *q;
			if (bx < 1 || bx + 1 >= (long)b->w)
				continue;
			q = b->px + y * b->w + (size_t)bx;
			ga = fabs((double)p[1] - p[-1]) + fabs((double)p[a->w] - p[-(long)a->w]);
			gb = fabs((double)q[1] - q[-1]) + fabs((double)q[b->w] - q[-(long)b->w]);
			sa += ga;
			sb += gb;
			saa += ga * ga;
			sbb += gb * gb;
			sab += ga * gb;
			n++;
		}
	if (n < 100)
		return 0;
	sa /= n;
	sb /= n;
	return (sab / n - sa * sb) / sqrt((saa / n - sa * sa) * (sbb / n - sb * sb) + 1e-12);
}

/* The straight rendering st (dark ink on white) with its ink's bounding box stretched onto
 * the cut's ink box (where ocr_find_cut puts the candidate: OCR_CUT_FILL of the height, a
 * margin of 0.4 heights along), into out of the cut's size. */
static void fit_to(const struct img *st, const struct img *cut, struct img *out)
{
	size_t x0 = st->w, x1 = 0, y0 = st->h, y1 = 0;
	double h = (double)cut->h, m = 0.4 * h;
	double cy0 = h * (1 - OCR_CUT_FILL) / 2, cy1 = h * (1 + OCR_CUT_FILL) / 2;
	for (size_t y = 0; y < st->h; y++)
		for (size_t x = 0; x < st->w; x++)
			if (st->px[y * st->w + x] < 160) {
				x0 = x < x0 ? x : x0;
				x1 = x + 1 > x1 ? x + 1 : x1;
				y0 = y < y0 ? y : y0;
				y1 = y + 1 > y1 ? y + 1 : y1;
			}
	img_release(out);
	out->w = cut->w;
	out->h = cut->h;
	out->channels = 1;
	out->px = xmalloc(out->w * out->h);
	memset(out->px, 255, out->w * out->h);
	if (x1 <= x0 || (double)cut->w <= 2 * m)
		return;
	for (size_t y = 0; y < out->h; y++)
		for (size_t x = 0; x < out->w; x++) {
			double u = (x + 0.5 - m) / ((double)cut->w - 2 * m);
			double v = (y + 0.5 - cy0) / (cy1 - cy0);
			long sx = (long)(x0 + u * (double)(x1 - x0)),
			     sy = (long)(y0 + v * (double)(y1 - y0));
			if (sx >= 0 && sy >= 0 && sx < (long)st->w && sy < (long)st->h)
				out->px[y * out->w + x] = st->px[(size_t)sy * st->w + (size_t)sx];
		}
}

/* Ring text: found where it is, and unwrapped upright: the cut correlates with the same text
 * drawn straight better than its 180-degree turn does. */
static void test_ring(const struct ocr_synth *s32, const struct ocr_synth *s)
{
	struct ocr_find_opts fo = {.rings = true};
	struct err e = ERR_INIT;
	struct ocr_photo p;
	struct img up, down, straight, fitted;
	int rings = 0, found = 0, upright = 0;
	ocr_photo_init(&p);
	img_init(&fitted);
	img_init(&up);
	img_init(&down);
	img_init(&straight);
	for (uint64_t k = 0; k < 6; k++) {
		struct ocr_photo_opts o = {
		    .w = 800, .h = 600, .rotation = -1, .lines = -1, .ring = 1};
		struct ocr_cand *c = NULL, gt = {.kind = OCR_CAND_RING};
		const struct ocr_photo_line *l;
		size_t n = 0;
		double cu, cd;
		if (ocr_synth_photo(s, 3000 + k, &o, &p, &e) < 0 || p.n != 1 ||
		    ocr_find(&p.im, &fo, &c, &n, &e) < 0) {
			check(0, "ring: %s", e.msg);
			continue;
		}
		l = &p.lines[0];
		rings++;
		for (size_t i = 0; i < n; i++)
			if (c[i].kind == OCR_CAND_RING &&
			    hypot(c[i].ring.cx - l->ring.cx, c[i].ring.cy - l->ring.cy) <
				0.05 * l->ring.r_out &&
			    fabs(c[i].ring.r_in - l->ring.r_in) <
				0.3 * (l->ring.r_out - l->ring.r_in) &&
			    fabs(c[i].ring.r_out - l->ring.r_out) <
				0.3 * (l->ring.r_out - l->ring.r_in)) {
				found++;
				break;
			}
		free(c);
		/* the unwrapping itself, on the true ring */
		gt.ring = l->ring;
		if (ocr_find_cut(&p.im, &gt, 32, false, &up, &e) < 0 ||
		    ocr_find_cut(&p.im, &gt, 32, true, &down, &e) < 0 ||
		    ocr_synth_render(s32, l->seed, l->text, -1, &straight, &e) < 0) {
			check(0, "ring: %s", e.msg);
			continue;
		}
		fit_to(&straight, &up, &fitted);
		dump(&up, "ring", (int)k);
		dump(&fitted, "straight", (int)k);
		cu = edge_corr(&up, &fitted, 0);
		cd = edge_corr(&down, &fitted, 0);
		upright += cu > 0.2 && cu > cd + 0.1;
		printf("# ring %d: \"%s\" correlates %.2f upright, %.2f turned\n", (int)k, l->text,
		       cu, cd);
	}
	check(rings == 6 && upright >= 5, "ring: %d of %d unwrapped rings read upright", upright,
	      rings);
	check(2 * found > rings, "ring: %d of %d rings found (centre and radii)", found, rings);
	img_release(&up);
	img_release(&down);
	img_release(&straight);
	img_release(&fitted);
	ocr_photo_release(&p);
}

/* A cut of a line, and the other reading of it: the same pixels turned. */
static void test_cut(const struct ocr_synth *s)
{
	struct ocr_photo_opts o = {.w = 800, .h = 600, .rotation = 90, .lines = 1};
	struct ocr_photo p;
	struct ocr_cand c = {.kind = OCR_CAND_LINE};
	struct img a, b;
	struct err e = ERR_INIT;
	bool turned = true;
	ocr_photo_init(&p);
	img_init(&a);
	img_init(&b);
	if (ocr_synth_photo(s, 5, &o, &p, &e) == 0) {
		c.box = p.lines[0].box;
		check(ocr_find_cut(&p.im, &c, 32, false, &a, &e) == 0 &&
			  ocr_find_cut(&p.im, &c, 32, true, &b, &e) == 0 && a.h == 32 &&
			  a.channels == 1 && a.w == b.w && a.w > 4 * a.h,
		      "cut: a 32-pixel line, %zux%zu", a.w, a.h);
		for (size_t i = 0; i < a.w * a.h && a.w == b.w; i++)
			turned = turned && a.px[i] == b.px[a.w * a.h - 1 - i];
		check(turned, "cut: flip is the 180-degree turn");
		dump(&a, "cut", 0);
	}
	check(ocr_find_cut(&p.im, &c, 4, false, &a, &e) < 0 && strstr(e.msg, "line height 4"),
	      "cut: height 4 refused: %s", e.msg);
	c.box.h = 0;
	check(ocr_find_cut(&p.im, &c, 32, false, &a, &e) < 0 && strstr(e.msg, "empty candidate"),
	      "cut: empty box refused: %s", e.msg);
	c.box.h = 10;
	c.box.cx = NAN;
	check(ocr_find_cut(&p.im, &c, 32, false, &a, &e) < 0 && strstr(e.msg, "empty candidate"),
	      "cut: a box at NaN refused: %s", e.msg);
	img_release(&a);
	img_release(&b);
	ocr_photo_release(&p);
}

/* Bad pictures and options; gray and RGB of the same pixels give the same candidates. */
static void test_bad(const struct ocr_synth *s)
{
	struct ocr_cand *c = NULL, *c3 = NULL;
	size_t n = 0, n3 = 0;
	struct err e = ERR_INIT;
	unsigned char px[3] = {0};
	struct img tiny = {1, 1, 1, px}, huge = {40000, 40000, 1, px};
	struct ocr_find_opts bad = {.work_side = 100};
	struct ocr_photo p;
	struct ocr_photo_opts o = {.w = 640, .h = 480, .rotation = 0, .channels = 1};

	check(ocr_find(&tiny, NULL, &c, &n, &e) < 0 && strstr(e.msg, "1x1 picture") && !c && !n,
	      "find: 1x1 refused: %s", e.msg);
	/* px is 3 bytes: reading it as 40000x40000 would be caught by ASan */
	check(ocr_find(&huge, NULL, &c, &n, &e) < 0 && strstr(e.msg, "40000x40000") && !c,
	      "find: 40000x40000 refused before reading: %s", e.msg);
	huge.w = 16;
	huge.h = 16;
	huge.channels = 2;
	check(ocr_find(&huge, NULL, &c, &n, &e) < 0 && strstr(e.msg, "gray or RGB"),
	      "find: 2 channels refused: %s", e.msg);
	check(ocr_find(&tiny, &bad, &c, &n, &e) < 0 && strstr(e.msg, "work side 100"),
	      "find: bad options refused: %s", e.msg);
	{
		/* what img_decode does with a JPEG header claiming 40000x40000 */
		static const unsigned char hdr[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b,
						    0x08, 0x9c, 0x40, 0x9c, 0x40, 0x01,
						    0x01, 0x11, 0x00, 0xff, 0xd9};
		struct img im;
		size_t w, h;
		img_init(&im);
		check(img_info(hdr, sizeof(hdr), &w, &h, "big.jpg", &e) < 0 &&
			  strstr(e.msg, "40000x40000 picture, over the limit"),
		      "image: 40000x40000 header refused: %s", e.msg);
		check(img_decode_upright(&im, hdr, sizeof(hdr), 3, "big.jpg", &e) < 0 && !im.px,
		      "image: and not decoded: %s", e.msg);
	}
	{
		/* the smallest picture and a thin strip: searched, whatever they hold */
		struct img sq = {16, 16, 1, xmalloc(256)}, strip = {2000, 20, 3, xmalloc(120000)};
		for (size_t i = 0; i < 256; i++)
			sq.px[i] = (unsigned char)(i * 37);
		for (size_t i = 0; i < 120000; i++)
			strip.px[i] = (unsigned char)(i % 7 * 40);
		check(ocr_find(&sq, &(struct ocr_find_opts){.rings = true}, &c, &n, &e) == 0,
		      "find: 16x16 searched (%zu candidates)", n);
		free(c);
		check(ocr_find(&strip, &(struct ocr_find_opts){.rings = true}, &c, &n, &e) == 0,
		      "find: 2000x20 searched (%zu candidates)", n);
		free(c);
		c = NULL;
		free(sq.px);
		free(strip.px);
	}
	ocr_photo_init(&p);
	if (ocr_synth_photo(s, 11, &o, &p, &e) == 0) {
		struct img rgb = {p.im.w, p.im.h, 3, xmallocarray(p.im.w * p.im.h, 3)};
		bool same;
		for (size_t i = 0; i < p.im.w * p.im.h; i++)
			memset(rgb.px + 3 * i, p.im.px[i], 3);
		check(ocr_find(&p.im, NULL, &c, &n, &e) == 0 &&
			  ocr_find(&rgb, NULL, &c3, &n3, &e) == 0,
		      "find: gray and RGB photos read");
		same = n == n3 && n > 0;
		for (size_t i = 0; i < n && same; i++)
			same = fabs(c[i].box.cx - c3[i].box.cx) < 1e-9 && c[i].score == c3[i].score;
		check(same, "find: gray and RGB of the same pixels, the same %zu candidates", n);
		free(rgb.px);
		free(c);
		free(c3);
	}
	ocr_photo_release(&p);
}

int main(void)
{
	struct ocr_synth_opts so = {.height = 64, .effects = 0};
	struct ocr_synth_opts so32 = {.height = 32, .effects = 0};
	struct ocr_synth *s = NULL, *s32 = NULL;
	struct err e = ERR_INIT;
	dump_dir = getenv("OCR_FIND_DUMP");
	test_exif();
	test_iou();
	if (ocr_synth_new(&s, &so, &e) < 0 || ocr_synth_new(&s32, &so32, &e) < 0) {
		/* no font installed: what needs glyphs cannot run */
		printf("# skipping photos: %s\n", e.msg);
		return check_done();
	}
	test_photo(s);
	test_cut(s);
	test_bad(s);
	test_find_rotations(s);
	test_no_text(s);
	test_ring(s32, s);
	ocr_synth_free(&s);
	ocr_synth_free(&s32);
	return check_done();
}
