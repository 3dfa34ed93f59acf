/* Writes a small photo of a stamped part drawn by dyn's own generator (ocr_synth_photo), as a
 * gray JPEG close-up of its line, and its lines' texts and boxes, for the CLI tests
 *(tools/make-ocr-photo.sh).
 *
 * usage: ocr_photo SEED WIDTH HEIGHT QUALITY OUT.jpg OUT.txt
 *	OUT.txt: one line a text line, "text<TAB>cx cy w h angle" (the box as predict prints it). */
#include <math.h>

#include <stb_image_write.h>

#include "base/base.h"
#include "ocr/photo.h"

static void sink(void *ctx, void *data, int size)
{
	strbuf_add(ctx, data, (size_t)size);
}

int main(int argc, char **argv)
{
	struct ocr_synth_opts so = {.effects = 0, .height = 64};
	struct ocr_synth *s = NULL;
	struct ocr_photo p;
	struct strbuf jpeg = STRBUF_INIT;
	struct err e = ERR_INIT;
	FILE *f;
	if (argc != 7) {
		fprintf(stderr, "usage: ocr_photo SEED WIDTH HEIGHT QUALITY OUT.jpg OUT.txt\n");
		return 2;
	}
	struct ocr_photo_opts o = {.w = (size_t)strtoul(argv[2], NULL, 10),
				   .h = (size_t)strtoul(argv[3], NULL, 10),
				   .channels = 1,
				   .rotation = 0,
				   .lines = 1};
	ocr_photo_init(&p);
	if (ocr_synth_new(&s, &so, &e) < 0 ||
	    ocr_synth_photo(s, strtoull(argv[1], NULL, 10), &o, &p, &e) < 0) {
		fprintf(stderr, "ocr_photo: %s\n", e.msg);
		return 1;
	}
	/* a close-up: the part of the photo around its line, the line a third of the height */
	const struct ocr_box *b = &p.lines[0].box;
	double mw = b->w + 6 * b->h, mh = 3 * b->h / 0.55;
	size_t cw = mw < (double)p.im.w ? (size_t)mw : p.im.w,
	       ch = mh < (double)p.im.h ? (size_t)mh : p.im.h;
	long x0 = lround(b->cx - (double)cw / 2), y0 = lround(b->cy - (double)ch / 2);
	x0 = x0 < 0 ? 0 : x0 + (long)cw > (long)p.im.w ? (long)(p.im.w - cw) : x0;
	y0 = y0 < 0 ? 0 : y0 + (long)ch > (long)p.im.h ? (long)(p.im.h - ch) : y0;
	unsigned char *px = xmallocarray(cw, ch);
	for (size_t y = 0; y < ch; y++)
		memcpy(px + y * cw, p.im.px + ((size_t)y0 + y) * p.im.w + (size_t)x0, cw);
	stbi_write_jpg_to_func(sink, &jpeg, (int)cw, (int)ch, 1, px,
			       (int)strtol(argv[4], NULL, 10));
	free(px);
	f = fopen(argv[5], "wb");
	if (!f || fwrite(jpeg.buf, 1, jpeg.len, f) != jpeg.len || fclose(f)) {
		fprintf(stderr, "ocr_photo: cannot write '%s'\n", argv[5]);
		return 1;
	}
	f = fopen(argv[6], "w");
	if (!f)
		return 1;
	for (size_t i = 0; i < p.n; i++)
		fprintf(f, "%s\t%.1f %.1f %.1f %.1f %.1f\n", p.lines[i].text,
			p.lines[i].box.cx - (double)x0, p.lines[i].box.cy - (double)y0,
			p.lines[i].box.w, p.lines[i].box.h, p.lines[i].box.angle);
	fclose(f);
	strbuf_release(&jpeg);
	ocr_photo_release(&p);
	ocr_synth_free(&s);
	return 0;
}
